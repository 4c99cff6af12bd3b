/**
 * WADO-RS retrieve of a study or a series (PS3.18 10.4.1.1.1, 10.4.1.1.2) in the stored transfer
 * syntaxes, read from Orthanc's storage folder (OrthancClient.openStoredFile): Orthanc's plugin
 * reads and parses every file of the study for it, where the gateway only has to send the files as
 * they lie, one part each, in the plugin's framing (Orthanc 1.10: Content-Type, Content-Length and
 * MIME-Version per part), one file at a time (memory: one read buffer, whatever the study's size).
 *
 * Answered here only when every instance's file is in the folder and its stored syntax is the one
 * asked (or `*`); this is checked on every file's first bytes before the first byte is sent.
 * Otherwise (a file that must be converted, one not in the folder, no folder configured, no such
 * study) nothing is written and the plugin answers: `'use-plugin'`. A file that disappears between
 * that check and its turn (deleted meanwhile) cuts the answer short, as Orthanc would.
 */
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

import type { OrthancClient, StoredInstanceRef } from '../orthanc/orthanc-client';
import { FILE_CHUNK_BYTES, MAX_META_BYTES, metaTransferSyntax } from './instance-file-relay';
import type { RetrieveScope } from './retrieve-target';
import { whenDrained } from './when-drained';

/** The stored syntax and size of an instance's file in the folder; undefined where unusable. */
async function storedFileOf(
  upstream: OrthancClient,
  ref: StoredInstanceRef,
): Promise<{ syntax: string; size: number } | undefined> {
  const file = await upstream.openStoredFile(ref.orthancId);
  if (file === undefined) return undefined;
  try {
    const head = Buffer.allocUnsafe(Math.min(file.size, MAX_META_BYTES));
    const { bytesRead } = await file.handle.read(head, 0, head.length, 0);
    const syntax = metaTransferSyntax(head.subarray(0, bytesRead));
    return syntax === undefined || syntax === 'more' ? undefined : { syntax, size: file.size };
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/**
 * Sends every instance of a study (or series) as stored, or answers `'use-plugin'` having written
 * nothing.
 */
export async function relayStoredStudy(
  upstream: OrthancClient,
  scope: RetrieveScope,
  transferSyntax: string,
  res: Response,
): Promise<'storage-folder' | 'use-plugin'> {
  if (upstream.storageDirectory === undefined) return 'use-plugin';
  const refs = await upstream.listInstances(scope.studyInstanceUid, scope.seriesInstanceUid);
  if (refs.length === 0) return 'use-plugin';
  // Each file is opened for this check and again in its turn, not held open: a study of thousands
  // of instances would otherwise hold as many descriptors.
  const sizes: number[] = [];
  for (const ref of refs) {
    const stored = await storedFileOf(upstream, ref);
    if (stored === undefined) return 'use-plugin';
    if (transferSyntax !== '*' && transferSyntax !== stored.syntax) return 'use-plugin';
    sizes.push(stored.size);
    upstream.rememberInstance(ref, ref.orthancId);
  }

  const boundary = randomUUID();
  const opening = (size: number): Buffer =>
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${size}\r\n` +
        'MIME-Version: 1.0\r\n\r\n',
      'latin1',
    );
  const lineBreak = Buffer.from('\r\n', 'latin1');
  const closing = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  const total =
    sizes.reduce((n, size) => n + opening(size).length + size + lineBreak.length, 0) +
    closing.length;
  if (res.destroyed) return 'storage-folder';
  res.status(200);
  res.setHeader(
    'content-type',
    `multipart/related; type="application/dicom"; boundary=${boundary}`,
  );
  res.setHeader('content-length', total);
  for (const [i, ref] of refs.entries()) {
    const size = sizes[i] ?? 0;
    const file = res.destroyed ? undefined : await upstream.openStoredFile(ref.orthancId);
    if (file === undefined || file.size !== size || res.destroyed) {
      // Deleted or stored again meanwhile (or the client left): the length promised is void.
      await file?.handle.close().catch(() => undefined);
      res.destroy();
      return 'storage-folder';
    }
    try {
      if (!res.write(opening(size))) await whenDrained(res);
      let at = 0;
      while (at < size && !res.destroyed) {
        const chunk = Buffer.allocUnsafe(Math.min(FILE_CHUNK_BYTES, size - at));
        const { bytesRead } = await file.handle.read(chunk, 0, chunk.length, at);
        if (bytesRead !== chunk.length) {
          res.destroy();
          return 'storage-folder';
        }
        at += bytesRead;
        if (res.destroyed) break;
        if (!res.write(chunk)) await whenDrained(res);
      }
    } finally {
      await file.handle.close().catch(() => undefined);
    }
    if (res.destroyed) return 'storage-folder';
    res.write(lineBreak);
  }
  res.end(closing);
  return 'storage-folder';
}
