/**
 * Integration harness: a real Orthanc (test/helpers/orthanc.ts) and a real gateway in front of it
 * (startGateway with real auth, audit, rules), on free loopback ports, with tokens for every role.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { createAuditStore } from '../../src/gateway/audit/create-audit-store';
import type { AuditStore } from '../../src/gateway/audit/types';
import { generateHs256Secret, mintToken } from '../../src/gateway/auth/credentials';
import type { Role } from '../../src/gateway/auth/types';
import { parseGatewayConfig } from '../../src/gateway/config';
import type { GatewayConfig, GatewayConfigInput } from '../../src/gateway/config';
import type { IdentityEngine } from '../../src/gateway/identity/identity-engine';
import { createLogger } from '../../src/gateway/logging/create-logger';
import { startGateway } from '../../src/gateway/start-gateway';
import { generateKeyRing, serializeKeyRing } from '../../src/stego/key-ring';
import type { RunningGateway } from '../../src/gateway/start-gateway';
import type { Logger } from 'pino';

import { startTestOrthanc } from '../helpers/orthanc';
import type { TestOrthanc } from '../helpers/orthanc';

export const DATA_DIR = path.resolve(__dirname, '../../../shared/data');

export interface Harness {
  readonly orthanc: TestOrthanc;
  readonly gateway: RunningGateway;
  readonly audit: AuditStore;
  readonly config: GatewayConfig;
  readonly tokens: Readonly<Record<Role, string>>;
  /** Every log line the gateway wrote. */
  readonly logLines: string[];
  readonly tempDir: string;
  auth(role: Role): { Authorization: string };
  /** A valid token for another subject. */
  mint(subject: string, roles: readonly Role[]): Promise<string>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Rules YAML; default: embed with the configuration's defaults. */
  readonly rules?: string;
  readonly engine: (config: GatewayConfig, logger: Logger) => Promise<IdentityEngine>;
  readonly config?: (base: GatewayConfigInput) => GatewayConfigInput;
  /** Use this Orthanc instead of starting one (it is not stopped by the harness). */
  readonly orthanc?: TestOrthanc;
  /**
   * Let the gateway read stored files in Orthanc's storage folder (upstream storageDirectory), as
   * `npm start` does; default: over HTTP only, as in front of an Orthanc on another host.
   */
  readonly readStorageFolder?: boolean;
}

export const PASSTHROUGH_RULES = `version: 1
rules: []
default:
  name: passthrough-all
  action: passthrough
`;

/** Embed everything (fidelity, threshold segmenter); an image that cannot be embedded is stored as sent. */
export const EMBED_ALL_RULES = `version: 1
rules: []
default:
  name: embed-all
  action: embed
  profile: fidelity
  segmenter: threshold
  marginPx: 4
  onFailure: store-original
`;

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'stego-gw-test-'));
  const orthanc = options.orthanc ?? (await startTestOrthanc());
  const secret = generateHs256Secret();
  await writeFile(
    path.join(tempDir, 'keys.json'),
    JSON.stringify(serializeKeyRing(generateKeyRing((n) => randomBytes(n), 'test-key-1'))),
  );
  let rulesFile: string | undefined;
  if (options.rules !== undefined) {
    rulesFile = path.join(tempDir, 'rules.yaml');
    await writeFile(rulesFile, options.rules);
  }
  const base: GatewayConfigInput = {
    http: { host: '127.0.0.1', port: 0 },
    upstreams: {
      orthanc: {
        url: orthanc.url,
        username: orthanc.username,
        password: orthanc.password,
        ...(options.readStorageFolder === true
          ? { storageDirectory: orthanc.storageDirectory }
          : {}),
      },
    },
    stow: { maxPartBytes: 8 * 1024 * 1024, maxRequestBytes: 64 * 1024 * 1024 },
    embedding: {
      keyRingFile: path.join(tempDir, 'keys.json'),
      defaultSegmenter: 'threshold',
      workers: 0,
      ...(rulesFile === undefined ? {} : { rulesFile }),
    },
    auth: { jwt: { hs256Secret: secret } },
    audit: { kind: 'sqlite', path: ':memory:' },
    logLevel: 'info',
  };
  const config = parseGatewayConfig(options.config === undefined ? base : options.config(base));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination: sink });
  const audit = await createAuditStore(config.audit);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      config,
      logger,
      audit,
      createEngine: (c, l) => options.engine(c, l),
    });
  } catch (error) {
    await audit.close();
    if (options.orthanc === undefined) await orthanc.stop();
    await rm(tempDir, { recursive: true, force: true });
    throw error;
  }
  const roles: Role[] = ['modality', 'viewer', 'auditor', 'admin'];
  const tokens = Object.fromEntries(
    await Promise.all(
      roles.map(async (role) => [
        role,
        await mintToken({ secret, subject: `test-${role}`, roles: [role] }),
      ]),
    ),
  ) as Record<Role, string>;
  return {
    orthanc,
    gateway,
    audit,
    config,
    tokens,
    logLines,
    tempDir,
    auth: (role) => ({ Authorization: `Bearer ${tokens[role]}` }),
    mint: (subject, roles) => mintToken({ secret, subject, roles }),
    async stop(): Promise<void> {
      await gateway.close();
      if (options.orthanc === undefined) await orthanc.stop();
      await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** The parts of a multipart/related answer (WADO-RS), as views of `body`. */
export function multipartParts(body: Uint8Array, contentType: string): Uint8Array[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (boundary === undefined) throw new Error(`no boundary in [${contentType}]`);
  const text = Buffer.from(body).toString('latin1');
  const out: Uint8Array[] = [];
  let at = text.indexOf(`--${boundary}`);
  while (at >= 0 && !text.startsWith(`--${boundary}--`, at)) {
    const start = text.indexOf('\r\n\r\n', at) + 4;
    const end = text.indexOf(`\r\n--${boundary}`, start);
    out.push(body.subarray(start, end));
    at = end + 2;
  }
  return out;
}

/** One part of a multipart answer: its header block (boundary line left out) and its bytes. */
export interface AnswerPart {
  readonly headers: string;
  readonly body: Buffer;
}

/** The parts of a multipart answer with their header blocks. */
export function multipartPartsWithHeaders(body: Buffer, contentType: string): AnswerPart[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (boundary === undefined) throw new Error(`no boundary in [${contentType}]`);
  const text = body.toString('latin1');
  const out: AnswerPart[] = [];
  let at = text.indexOf(`--${boundary}`);
  while (at >= 0 && !text.startsWith(`--${boundary}--`, at)) {
    const headersEnd = text.indexOf('\r\n\r\n', at);
    const end = text.indexOf(`\r\n--${boundary}`, headersEnd + 4);
    out.push({
      headers: text.slice(at + boundary.length + 4, headersEnd),
      body: body.subarray(headersEnd + 4, end),
    });
    at = end + 2;
  }
  return out;
}

/**
 * The values of one counter on the gateway's /metrics, by its labels as written there (e.g.
 * `source="plugin"` or `level="study",source="plugin"`).
 */
export async function metricCounts(h: Harness, name: string): Promise<Record<string, number>> {
  const text = await (
    await fetch(`http://127.0.0.1:${h.gateway.port}/metrics`, { headers: h.auth('admin') })
  ).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\d+)$/.exec(line);
    if (match?.[1] === name) counts[match[2] as string] = Number(match[3]);
  }
  return counts;
}

/** Sends `files` through the gateway in one STOW-RS request (modality token); its HTTP status. */
export async function stowThroughGateway(
  h: Harness,
  files: readonly Uint8Array[],
): Promise<number> {
  const { body, contentType } = multipartBody(files);
  const answer = await fetch(`${h.gateway.url}/studies`, {
    method: 'POST',
    body,
    headers: { ...h.auth('modality'), 'Content-Type': contentType },
  });
  await answer.arrayBuffer();
  return answer.status;
}

/** A multipart/related; type="application/dicom" body of the given parts. */
export function multipartBody(
  parts: readonly Uint8Array[],
  boundary = `b${Math.random().toString(16).slice(2)}`,
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`));
    chunks.push(Buffer.from(part));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}
