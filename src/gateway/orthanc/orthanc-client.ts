/**
 * The one Orthanc adapter (STYLE.md: each external system has exactly one). Speaks Orthanc's REST
 * API (types generated from its OpenAPI, orthanc-api.d.ts) and streams its DICOMweb plugin through.
 * Translates transport failures into UPSTREAM_UNAVAILABLE and unexpected answers into
 * UPSTREAM_ERROR; nothing above this file sees an Orthanc status code or an http.IncomingMessage
 * error.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

import { StegoGatewayError } from '../../stego/errors';
import type { UpstreamConfig } from '../config';
import type { paths } from './orthanc-api';

type StoreInstanceJson =
  paths['/instances']['post']['responses'][200]['content']['application/json'];

const storeInstanceSchema = z.object({
  ID: z.string(),
  Status: z.string(),
}) satisfies z.ZodType<StoreInstanceJson>;

const systemSchema = z.object({ Version: z.string(), Name: z.string() }).loose();
const lookupSchema = z.array(z.object({ ID: z.string(), Type: z.string() }).loose());
const idListSchema = z.array(z.string());
const seriesListSchema = z.array(
  z
    .object({ ID: z.string(), MainDicomTags: z.object({ SeriesInstanceUID: z.string() }).loose() })
    .loose(),
);
const instanceListSchema = z.array(
  z
    .object({ ID: z.string(), MainDicomTags: z.object({ SOPInstanceUID: z.string() }).loose() })
    .loose(),
);

/**
 * `/instances/{id}/attachments/dicom/info` (Orthanc 1.10; not in its OpenAPI): the attachment's
 * file name in the storage folder (Uuid) and its sizes; the MD5s are absent where Orthanc's
 * StoreMD5ForAttachments is off.
 */
const attachmentInfoSchema = z
  .object({
    Uuid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    CompressedSize: z.number().int().nonnegative(),
    UncompressedSize: z.number().int().nonnegative(),
    CompressedMD5: z.string().optional(),
    UncompressedMD5: z.string().optional(),
  })
  .loose();

export type StoreInstanceResult =
  | {
      readonly ok: true;
      readonly status: 'Success' | 'AlreadyStored';
      readonly orthancId: string;
    }
  | {
      readonly ok: false;
      /** `refused`: Orthanc answered and did not store (bad file, filter); `unavailable`: no answer. */
      readonly kind: 'refused' | 'unavailable';
      readonly message: string;
    };

export interface InstanceUids {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

export interface StoredInstanceRef extends InstanceUids {
  readonly orthancId: string;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

/**
 * Instances whose Orthanc id the client remembers (about 200 bytes each). An id never changes for
 * the same UIDs and patient; a deleted instance answers 404 and is forgotten (forgetInstance).
 */
const LOCATED_INSTANCES = 100_000;

/** Where Orthanc keeps an instance: its id, and the study and series it belongs to. */
interface InstanceLocation {
  readonly orthancId: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

/** An instance's file in Orthanc's storage folder: its path and its size. */
interface StoredFileLocation {
  readonly path: string;
  readonly size: number;
}

/** A stored file opened for reading (openStoredFile); the caller closes the handle. */
export interface OpenStoredFile {
  readonly handle: FileHandle;
  readonly size: number;
}

/** How long an idle connection to Orthanc is kept: well within Orthanc's own 1 s keep-alive. */
const IDLE_SOCKET_MS = 500;

const keepAliveSockets = new WeakSet<Socket>();

/**
 * Orthanc 1.10 answers `Keep-Alive: timeout=1`; Node's agent subtracts a 1 s safety margin from
 * that and then never reuses the connection, so every request would open a new TCP connection
 * (measured: half the gateway's CPU per WADO-RS instance). Keep idle sockets for 500 ms instead;
 * a request that still meets a connection Orthanc just closed is retried once (see request()).
 */
function keepOrthancSocketAlive(socket: Duplex): boolean {
  if (socket instanceof Socket) {
    // TCP keep-alive once per connection: Node's default sets it (two setsockopt calls) each time
    // the socket goes back to the pool, i.e. once per request.
    if (!keepAliveSockets.has(socket)) {
      socket.setKeepAlive(true, IDLE_SOCKET_MS);
      keepAliveSockets.add(socket);
    }
    socket.unref();
    socket.setTimeout(IDLE_SOCKET_MS);
  }
  return true;
}

export class OrthancClient {
  private readonly agent: http.Agent;
  /** SOP Instance UID -> where Orthanc keeps it (findInstance, rememberInstance). */
  private readonly locations = new LRUCache<string, InstanceLocation>({ max: LOCATED_INSTANCES });
  /** Orthanc id -> its file in the storage folder (openStoredFile). */
  private readonly storedFiles = new LRUCache<string, StoredFileLocation>({
    max: LOCATED_INSTANCES,
  });
  private readonly base: URL;
  private readonly authorization: string;

  constructor(
    readonly name: string,
    private readonly config: UpstreamConfig,
  ) {
    this.base = new URL(config.url);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 });
    // @types/node declares keepSocketAlive as returning void; Node uses its boolean.
    (this.agent as unknown as { keepSocketAlive: (socket: Duplex) => boolean }).keepSocketAlive =
      keepOrthancSocketAlive;
    this.authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  }

  /** Orthanc's own URL of its DICOMweb root, as it writes it into responses. */
  get dicomWebBaseUrls(): readonly string[] {
    const root = this.config.dicomWebRoot;
    const port = this.base.port === '' ? '' : `:${this.base.port}`;
    const hosts = new Set([this.base.hostname, '127.0.0.1', 'localhost']);
    return [...hosts].map((host) => `${this.base.protocol}//${host}${port}${root}`);
  }

  get dicomWebRoot(): string {
    return this.config.dicomWebRoot;
  }

  async system(): Promise<{ version: string; name: string }> {
    const json = systemSchema.parse(await this.json('GET', '/system'));
    return { version: json.Version, name: json.Name };
  }

  /** POST /instances: stores one Part 10 file as is. */
  async storeInstance(bytes: Uint8Array): Promise<StoreInstanceResult> {
    let response: { status: number; body: Buffer };
    try {
      response = await this.buffered('POST', '/instances', bytes, 'application/dicom');
    } catch (error) {
      return {
        ok: false,
        kind: 'unavailable',
        message: error instanceof Error ? error.message : String(error),
      };
    }
    if (response.status !== 200) {
      return {
        ok: false,
        kind: response.status >= 500 && response.status !== 500 ? 'unavailable' : 'refused',
        message: `Orthanc answered HTTP ${response.status}`,
      };
    }
    const parsed = storeInstanceSchema.safeParse(safeJson(response.body));
    if (!parsed.success)
      return { ok: false, kind: 'refused', message: 'unexpected Orthanc answer' };
    const status = parsed.data.Status;
    if (status !== 'Success' && status !== 'AlreadyStored') {
      return { ok: false, kind: 'refused', message: `Orthanc status [${status}]` };
    }
    return { ok: true, status, orthancId: parsed.data.ID };
  }

  /**
   * The Orthanc id of an instance, or undefined when Orthanc does not hold it under the study and
   * series named. Remembered ids first; else one database query (/tools/find on the three UIDs,
   * which reads no file), whose answer is remembered.
   */
  async findInstance(uids: InstanceUids): Promise<string | undefined> {
    const known = this.locations.get(uids.sopInstanceUid);
    if (
      known !== undefined &&
      known.studyInstanceUid === uids.studyInstanceUid &&
      known.seriesInstanceUid === uids.seriesInstanceUid
    ) {
      return known.orthancId;
    }
    const query = {
      Level: 'Instance',
      Query: {
        StudyInstanceUID: uids.studyInstanceUid,
        SeriesInstanceUID: uids.seriesInstanceUid,
        SOPInstanceUID: uids.sopInstanceUid,
      },
    };
    const ids = idListSchema.parse(
      await this.json(
        'POST',
        '/tools/find',
        Buffer.from(JSON.stringify(query)),
        'application/json',
      ),
    );
    // UIDs are unique; Orthanc holds one instance per UID (a second store is AlreadyStored).
    const [orthancId] = ids;
    if (orthancId === undefined || ids.length !== 1) return undefined;
    this.rememberInstance(uids, orthancId);
    return orthancId;
  }

  /** Remembers where an instance lives (the gateway just stored it there). */
  rememberInstance(uids: InstanceUids, orthancId: string): void {
    this.locations.set(uids.sopInstanceUid, {
      orthancId,
      studyInstanceUid: uids.studyInstanceUid,
      seriesInstanceUid: uids.seriesInstanceUid,
    });
  }

  /** Forgets a remembered instance (Orthanc no longer holds it under that id). */
  forgetInstance(sopInstanceUid: string): void {
    this.locations.delete(sopInstanceUid);
  }

  /** Every instance of a study (and series, when given), in Orthanc's order. */
  async listInstances(
    studyInstanceUid: string,
    seriesInstanceUid?: string,
  ): Promise<readonly StoredInstanceRef[]> {
    const query: Record<string, string> = { StudyInstanceUID: studyInstanceUid };
    if (seriesInstanceUid !== undefined) query.SeriesInstanceUID = seriesInstanceUid;
    const series = seriesListSchema.parse(
      await this.json(
        'POST',
        '/tools/find',
        Buffer.from(JSON.stringify({ Level: 'Series', Query: query, Expand: true })),
        'application/json',
      ),
    );
    const refs: StoredInstanceRef[] = [];
    for (const one of series) {
      const instances = instanceListSchema.parse(
        await this.json('GET', `/series/${one.ID}/instances`),
      );
      for (const instance of instances) {
        refs.push({
          orthancId: instance.ID,
          studyInstanceUid,
          seriesInstanceUid: one.MainDicomTags.SeriesInstanceUID,
          sopInstanceUid: instance.MainDicomTags.SOPInstanceUID,
        });
      }
    }
    return refs;
  }

  /** Orthanc's storage folder, where the gateway may read stored files (config storageDirectory). */
  get storageDirectory(): string | undefined {
    return this.config.storageDirectory;
  }

  /**
   * The stored Part 10 file of an instance, opened in Orthanc's storage folder where the
   * configuration names it (`storageDirectory`: an Orthanc on this host, as `npm start` runs it).
   * Orthanc names each file by its attachment's UUID (FilesystemStorage: `ab/cd/abcd...`) and never
   * rewrites one: an instance stored again gets a new file, a deleted one loses it. So a file that
   * opens with the size Orthanc recorded is the instance's current content; one that is gone is
   * looked up once more (stored again), else undefined, as for a compressed attachment
   * (StorageCompression) or no storage folder: the caller asks Orthanc over HTTP instead.
   */
  async openStoredFile(orthancId: string): Promise<OpenStoredFile | undefined> {
    const root = this.config.storageDirectory;
    if (root === undefined) return undefined;
    checkOrthancId(orthancId);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const remembered = this.storedFiles.get(orthancId);
      const location = remembered ?? (await this.storedFileLocation(root, orthancId));
      if (location === undefined) return undefined;
      let handle: FileHandle;
      try {
        handle = await open(location.path, 'r');
      } catch (error) {
        // Gone: stored again under a new file, or deleted; asked once more. Any other error
        // (a file Orthanc wrote for another user only): over HTTP, without asking again.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          if (remembered === undefined) this.storedFiles.set(orthancId, location);
          return undefined;
        }
        this.storedFiles.delete(orthancId);
        if (remembered !== undefined) continue;
        return undefined;
      }
      let size: number;
      try {
        ({ size } = await handle.stat());
      } catch {
        size = -1;
      }
      if (size !== location.size) {
        await handle.close();
        this.storedFiles.delete(orthancId);
        return undefined;
      }
      if (remembered === undefined) this.storedFiles.set(orthancId, location);
      return { handle, size };
    }
    return undefined;
  }

  /** Where the instance's file lies in `root`; undefined when compressed or unknown. */
  private async storedFileLocation(
    root: string,
    orthancId: string,
  ): Promise<StoredFileLocation | undefined> {
    const response = await this.buffered('GET', `/instances/${orthancId}/attachments/dicom/info`);
    if (response.status !== 200) return undefined;
    const parsed = attachmentInfoSchema.safeParse(safeJson(response.body));
    if (!parsed.success) return undefined;
    const info = parsed.data;
    // StorageCompression writes zlib with a size prefix: never sent as a Part 10 file.
    if (
      info.CompressedSize !== info.UncompressedSize ||
      info.CompressedMD5 !== info.UncompressedMD5
    ) {
      return undefined;
    }
    const uuid = info.Uuid;
    return {
      path: path.join(root, uuid.slice(0, 2), uuid.slice(2, 4), uuid),
      size: info.UncompressedSize,
    };
  }

  /** The stored Part 10 file: from the storage folder where it can (openStoredFile), else Orthanc. */
  async instanceFile(orthancId: string): Promise<Buffer> {
    checkOrthancId(orthancId);
    const local = await this.openStoredFile(orthancId);
    if (local !== undefined) {
      try {
        const bytes = await local.handle.readFile();
        if (bytes.length === local.size) return bytes;
      } finally {
        await local.handle.close();
      }
    }
    const response = await this.buffered('GET', `/instances/${orthancId}/file`);
    if (response.status !== 200) throw upstreamError(response.status, 'GET instance file');
    return response.body;
  }

  /** The stored Part 10 file, as a stream (WADO-RS from the stored file: instance-file-relay.ts). */
  async instanceFileStream(orthancId: string): Promise<UpstreamResponse> {
    checkOrthancId(orthancId);
    return this.streamed('GET', `/instances/${orthancId}/file`, {});
  }

  /** Deletes a study by its Study Instance UID (tests and admin tooling). */
  async deleteStudy(studyInstanceUid: string): Promise<void> {
    const found = lookupSchema.parse(
      await this.json('POST', '/tools/lookup', Buffer.from(studyInstanceUid), 'text/plain'),
    );
    for (const entry of found.filter((e) => e.Type === 'Study')) {
      const response = await this.buffered('DELETE', `/studies/${entry.ID}`);
      if (response.status !== 200) throw upstreamError(response.status, 'DELETE study');
    }
  }

  /**
   * A request to Orthanc's DICOMweb plugin, answered as a stream (WADO-RS, QIDO-RS). `pathAndQuery`
   * is relative to the plugin root and starts with '/'.
   */
  dicomWeb(
    method: 'GET' | 'HEAD',
    pathAndQuery: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<UpstreamResponse> {
    return this.streamed(method, `${this.config.dicomWebRoot}${pathAndQuery}`, headers);
  }

  /** An answer whose body the caller reads as a stream. */
  private async streamed(
    method: string,
    path: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<UpstreamResponse> {
    const { response } = await this.request(method, path, headers);
    return { status: response.statusCode ?? 502, headers: response.headers, body: response };
  }

  close(): void {
    this.agent.destroy();
  }

  private async json(
    method: string,
    path: string,
    body?: Uint8Array,
    contentType?: string,
  ): Promise<unknown> {
    const response = await this.buffered(method, path, body, contentType);
    if (response.status !== 200) throw upstreamError(response.status, `${method} ${path}`);
    const value = safeJson(response.body);
    if (value === undefined) {
      throw new StegoGatewayError(
        'UPSTREAM_ERROR',
        `Orthanc sent no JSON for [${method} ${path}]`,
        {
          httpStatus: 502,
        },
      );
    }
    return value;
  }

  private async buffered(
    method: string,
    path: string,
    body?: Uint8Array,
    contentType?: string,
  ): Promise<{ status: number; body: Buffer }> {
    const headers: Record<string, string> = { Accept: '*/*' };
    if (contentType !== undefined) headers['Content-Type'] = contentType;
    const { response } = await this.request(method, path, headers, body);
    return { status: response.statusCode ?? 502, body: await readAll(response) };
  }

  private request(
    method: string,
    path: string,
    headers: Readonly<Record<string, string>>,
    body?: Uint8Array,
    retried = false,
  ): Promise<{ response: IncomingMessage }> {
    const transport = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method,
          path,
          // The retry takes a new connection: after the event loop was busy for over a second
          // (embedding in its thread, embedding.workers 0), every pooled one may be closed.
          agent: retried ? false : this.agent,
          timeout: this.config.timeoutMs,
          headers: {
            ...headers,
            Authorization: this.authorization,
            ...(body === undefined ? {} : { 'Content-Length': String(body.byteLength) }),
          },
        },
        (response) => resolve({ response }),
      );
      request.on('timeout', () => request.destroy(new Error('Orthanc did not answer in time')));
      request.on('error', (cause: NodeJS.ErrnoException) => {
        // A kept-alive connection Orthanc closed at the same moment: the request never reached
        // it, so sending it again on a fresh connection is safe (Node's documented pattern).
        if (
          !retried &&
          request.reusedSocket &&
          ['ECONNRESET', 'EPIPE'].includes(cause.code ?? '')
        ) {
          this.request(method, path, headers, body, true).then(resolve, reject);
          return;
        }
        reject(unavailable(cause));
      });
      request.end(
        body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      );
    });
  }
}

function checkOrthancId(orthancId: string): void {
  if (!/^[0-9a-f-]+$/.test(orthancId)) {
    throw new StegoGatewayError('UPSTREAM_ERROR', `bad Orthanc id [${orthancId}]`, {
      httpStatus: 502,
    });
  }
}

/**
 * The whole body of an answer. Listeners rather than `for await`: the async iterator costs a
 * promise and an iterator result per chunk and a few closures per call, on every instance stored.
 */
function readAll(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => {
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks));
    });
    response.once('error', (cause) => reject(unavailable(cause)));
    // Orthanc closed the connection before the end of its answer.
    response.once('close', () => {
      if (!response.readableEnded) reject(unavailable(new Error('the answer was cut off')));
    });
  });
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function unavailable(cause: unknown): StegoGatewayError {
  if (cause instanceof StegoGatewayError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StegoGatewayError('UPSTREAM_UNAVAILABLE', `Orthanc is unreachable [${detail}]`, {
    httpStatus: 503,
    cause,
  });
}

function upstreamError(status: number, what: string): StegoGatewayError {
  return new StegoGatewayError('UPSTREAM_ERROR', `Orthanc answered HTTP ${status} to [${what}]`, {
    httpStatus: 502,
  });
}
