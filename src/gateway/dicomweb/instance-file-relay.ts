/**
 * WADO-RS retrieve of one instance (PS3.18 10.4.1.1.3), answered from the file Orthanc stored.
 *
 * Orthanc's DICOMweb plugin reads the file and its header for every retrieve (about 1.1 ms of
 * Orthanc's CPU per 512 x 512 CT instance on the bench machine), its REST `/instances/{id}/file`
 * only streams the file (about 0.15 ms): `npm run bench -- gateway`. Where the asked transfer
 * syntax is the stored one (or `*`), the plugin would send the stored bytes unchanged, so the
 * gateway sends them itself, in the same multipart framing; anything else (another syntax, an
 * instance Orthanc does not hold under these UIDs, a file that is not Part 10) is left to the plugin
 * (`'use-plugin'`), which transcodes or answers the error.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Response } from 'express';

import { LONG_VRS } from '../../dicom/tag-walker';
import type { InstanceUids, OpenStoredFile, OrthancClient } from '../orthanc/orthanc-client';

/** A File Meta Information group longer than this is not waited for (the plugin serves it). */
export const MAX_META_BYTES = 64 * 1024;

/**
 * The Transfer Syntax UID (0002,0010) of a Part 10 file from its first bytes (PS3.10 7.1: 128-byte
 * preamble, "DICM", group 0002 in Explicit VR Little Endian): the UID, `'more'` when the group has
 * not all arrived yet, undefined when the bytes are not a Part 10 file or the group has no UID.
 */
export function metaTransferSyntax(head: Buffer): string | 'more' | undefined {
  if (head.length < 132) return 'more';
  if (head.toString('latin1', 128, 132) !== 'DICM') return undefined;
  let at = 132;
  for (;;) {
    if (head.length < at + 8) return 'more';
    const group = head.readUInt16LE(at);
    if (group !== 0x0002) return undefined;
    const element = head.readUInt16LE(at + 2);
    const vr = head.toString('latin1', at + 4, at + 6);
    let length: number;
    let value: number;
    if (LONG_VRS.has(vr)) {
      if (head.length < at + 12) return 'more';
      length = head.readUInt32LE(at + 8);
      value = at + 12;
    } else {
      length = head.readUInt16LE(at + 6);
      value = at + 8;
    }
    if (value + length > MAX_META_BYTES) return undefined;
    if (head.length < value + length) return 'more';
    if (element === 0x0010) {
      // UI values are padded to even length with NUL (PS3.5 6.2).
      const uid = head.toString('latin1', value, value + length).replace(/[\0 ]+$/, '');
      return uid === '' ? undefined : uid;
    }
    at = value + length;
  }
}

/**
 * Reads the first chunks of `body` until its File Meta Information is complete; leaves `body`
 * paused with the rest unread. Undefined when the body failed or ended before that.
 */
function readMeta(
  body: Readable,
): Promise<{ head: Buffer; syntax: string | undefined } | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const settle = (result: { head: Buffer; syntax: string | undefined } | undefined): void => {
      if (settled) return;
      settled = true;
      body.pause();
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      const syntax = metaTransferSyntax(head);
      if (syntax !== 'more') settle({ head, syntax });
      else if (length > MAX_META_BYTES) settle({ head, syntax: undefined });
    };
    const onEnd = (): void => {
      const head = Buffer.concat(chunks, length);
      const syntax = metaTransferSyntax(head);
      settle({ head, syntax: syntax === 'more' ? undefined : syntax });
    };
    const onError = (): void => settle(undefined);
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

/** Where a retrieve was answered from. */
export type RelaySource = 'storage-folder' | 'stored-file';

/** The start of a stored file, its transfer syntax, and the rest still to send. */
interface StoredInstanceBody {
  readonly head: Buffer;
  readonly syntax: string | undefined;
  /** The bytes after `head`; undefined when `head` is the whole file. */
  readonly rest: Readable | undefined;
  /** The file's length, where known. */
  readonly length: number | undefined;
  readonly source: RelaySource;
}

/** Bytes read from a file in the storage folder at a time: fewer thread-pool round trips. */
export const FILE_CHUNK_BYTES = 512 * 1024;

/** The stored file from Orthanc's storage folder (OrthancClient.openStoredFile). */
async function fromStorageFolder(file: OpenStoredFile): Promise<StoredInstanceBody | undefined> {
  try {
    const want = Math.min(file.size, MAX_META_BYTES);
    const head = Buffer.allocUnsafe(want);
    const { bytesRead } = await file.handle.read(head, 0, want, 0);
    if (bytesRead !== want) {
      await file.handle.close();
      return undefined;
    }
    const syntax = metaTransferSyntax(head);
    if (want === file.size) await file.handle.close();
    return {
      head,
      syntax: syntax === 'more' ? undefined : syntax,
      rest:
        want === file.size
          ? undefined
          : file.handle.createReadStream({ start: want, highWaterMark: FILE_CHUNK_BYTES }),
      length: file.size,
      source: 'storage-folder',
    };
  } catch {
    await file.handle.close().catch(() => undefined);
    return undefined;
  }
}

/** The stored file from Orthanc's REST `/instances/{id}/file`. */
async function fromOrthanc(
  upstream: OrthancClient,
  orthancId: string,
  uids: InstanceUids,
): Promise<StoredInstanceBody | undefined> {
  const file = await upstream.instanceFileStream(orthancId);
  if (file.status !== 200) {
    file.body.resume();
    // Deleted (or stored again under another patient): the next retrieve looks it up afresh.
    if (file.status === 404) upstream.forgetInstance(uids.sopInstanceUid);
    return undefined;
  }
  const meta = await readMeta(file.body);
  if (meta === undefined) {
    file.body.destroy();
    return undefined;
  }
  const length = Number(file.headers['content-length']);
  return {
    head: meta.head,
    syntax: meta.syntax,
    rest: file.body.readableEnded ? undefined : file.body,
    length: Number.isInteger(length) ? length : undefined,
    source: 'stored-file',
  };
}

/**
 * Sends one stored instance as `multipart/related; type="application/dicom"` when `transferSyntax`
 * ('*' or a UID) lets the stored bytes go unchanged: read from Orthanc's storage folder where the
 * upstream names one and the file is there, else from Orthanc's REST API. Answers where it came
 * from (the response is answered, or was broken off by either side and destroyed), or
 * `'use-plugin'`: nothing was written, the caller relays the request to the plugin.
 */
export async function relayStoredInstance(
  upstream: OrthancClient,
  uids: InstanceUids,
  transferSyntax: string,
  res: Response,
): Promise<RelaySource | 'use-plugin'> {
  const orthancId = await upstream.findInstance(uids);
  if (orthancId === undefined) return 'use-plugin';
  const local = await upstream.openStoredFile(orthancId);
  const stored =
    (local === undefined ? undefined : await fromStorageFolder(local)) ??
    (await fromOrthanc(upstream, orthancId, uids));
  if (stored === undefined) return 'use-plugin';
  const body = stored.rest;
  if (stored.syntax === undefined || (transferSyntax !== '*' && transferSyntax !== stored.syntax)) {
    body?.destroy();
    return 'use-plugin';
  }
  // The plugin's framing (Orthanc 1.10): one part with its type, length and MIME version.
  const boundary = randomUUID();
  const fileLength = stored.length;
  const opening = Buffer.from(
    `--${boundary}\r\nContent-Type: application/dicom\r\n` +
      (fileLength === undefined ? '' : `Content-Length: ${fileLength}\r\n`) +
      'MIME-Version: 1.0\r\n\r\n',
    'latin1',
  );
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  if (res.destroyed) {
    // The client went away while the file was looked up.
    body?.destroy();
    return stored.source;
  }
  res.status(200);
  res.setHeader(
    'content-type',
    `multipart/related; type="application/dicom"; boundary=${boundary}`,
  );
  if (fileLength !== undefined) {
    res.setHeader('content-length', opening.length + fileLength + closing.length);
  }
  if (body === undefined) {
    res.write(opening);
    res.write(stored.head);
    res.end(closing);
    return stored.source;
  }
  await new Promise<void>((resolve) => {
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (ok) res.end(closing);
      else {
        body.unpipe(res);
        body.destroy();
        res.destroy();
      }
      resolve();
    };
    // Listeners first: a client that goes away during the first writes must still end the wait.
    body.once('end', () => settle(true));
    body.once('error', () => settle(false));
    // An answer Orthanc broke off (or a file read that failed) closes without 'end'.
    body.once('close', () => {
      if (!body.readableEnded) settle(false);
    });
    res.once('close', () => {
      if (!res.writableFinished) settle(false);
    });
    res.once('error', () => settle(false));
    res.write(opening);
    res.write(stored.head);
    if (body.readableEnded) settle(true);
    else body.pipe(res, { end: false });
  });
  return stored.source;
}
