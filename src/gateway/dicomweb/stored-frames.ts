/**
 * WADO-RS retrieve of frames (PS3.18 10.4.1.1.5) of an instance stored in Explicit VR Little
 * Endian, read from Orthanc's storage folder (OrthancClient.openStoredFile): a native frame is a
 * slice of the Pixel Data value (PS3.5 8.1.1, frames one after the other), so the gateway reads the
 * file's header and the asked frames' byte ranges and nothing else, where Orthanc's plugin reads
 * and parses the whole file for every request (viewers ask frame by frame). The answer is framed as
 * the plugin frames it (Orthanc 1.10: Content-Location, Content-Type with the transfer syntax,
 * Content-Length and MIME-Version in each part), with the gateway's URLs.
 *
 * Only the plain cases are answered here: native pixels of 8, 16 or 32 bits allocated, not
 * subsampled (no YBR_*_422), every asked frame present, no storage folder configured otherwise.
 * Everything else (another syntax asked or stored, a frame out of range, bit-packed pixels) goes to
 * the plugin, which converts or answers its error: `'use-plugin'`, with nothing written.
 */
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

import type { OrthancClient } from '../orthanc/orthanc-client';
import { readInstanceHeader } from '../stow/read-instance-header';
import { EXPLICIT_VR_LITTLE_ENDIAN, nativeFrameBytes } from './retrieve-target';
import type { RetrieveTarget } from './retrieve-target';
import { whenDrained } from './when-drained';

/** The start of a stored file read for its header; a header beyond it goes to the plugin. */
const HEADER_BYTES = 256 * 1024;
/** Frames answered here at most per request (bytes); a larger ask goes to the plugin. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;
const SUBSAMPLED = /^YBR_(FULL|PARTIAL)_42[02]$/;

/**
 * Bytes of one frame where the frames are plain slices of Pixel Data that the plugin sends as they
 * lie (8, 16 or 32 bits allocated, not subsampled); undefined otherwise.
 */
function frameLength(attribute: (keyword: string) => string | undefined): number | undefined {
  const number = (keyword: string): number | undefined => {
    const text = attribute(keyword);
    return text === undefined || text === '' ? undefined : Number(text);
  };
  const bits = number('BitsAllocated');
  if (bits !== 8 && bits !== 16 && bits !== 32) return undefined;
  if (SUBSAMPLED.test(attribute('PhotometricInterpretation') ?? '')) return undefined;
  return nativeFrameBytes(number);
}

/**
 * Sends frames `target.frames` of one stored instance, or answers `'use-plugin'` having written
 * nothing. `contentLocation(frame)` is the gateway's URL of one frame.
 */
export async function relayStoredFrames(
  upstream: OrthancClient,
  target: RetrieveTarget & { readonly frames: readonly number[] },
  transferSyntax: string,
  contentLocation: (frame: number) => string,
  res: Response,
): Promise<'storage-folder' | 'use-plugin'> {
  if (upstream.storageDirectory === undefined) return 'use-plugin';
  if (transferSyntax !== '*' && transferSyntax !== EXPLICIT_VR_LITTLE_ENDIAN) return 'use-plugin';
  const orthancId = await upstream.findInstance(target);
  if (orthancId === undefined) return 'use-plugin';
  const file = await upstream.openStoredFile(orthancId);
  if (file === undefined) return 'use-plugin';
  try {
    const head = Buffer.allocUnsafe(Math.min(file.size, HEADER_BYTES));
    const { bytesRead } = await file.handle.read(head, 0, head.length, 0);
    if (bytesRead !== head.length) return 'use-plugin';
    const read = readInstanceHeader(head, { headOnly: true });
    if (!read.ok || read.header.transferSyntaxUid !== EXPLICIT_VR_LITTLE_ENDIAN)
      return 'use-plugin';
    const pixels = read.header.pixelData;
    const length = frameLength((k) => read.header.attribute(k));
    if (pixels?.length === undefined || length === undefined) return 'use-plugin';
    const count = Number(read.header.attribute('NumberOfFrames') ?? '1') || 1;
    if (
      pixels.valueOffset + pixels.length > file.size ||
      count * length > pixels.length ||
      target.frames.some((n) => n > count) ||
      target.frames.length * length > MAX_ANSWER_BYTES
    ) {
      return 'use-plugin';
    }

    const boundary = randomUUID();
    const partType = `application/octet-stream; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`;
    const opening = (frame: number): Buffer =>
      Buffer.from(
        `--${boundary}\r\nContent-Location: ${contentLocation(frame)}\r\n` +
          `Content-Type: ${partType}\r\nContent-Length: ${length}\r\nMIME-Version: 1.0\r\n\r\n`,
        'latin1',
      );
    const openings = target.frames.map(opening);
    const lineBreak = Buffer.from('\r\n', 'latin1');
    const closing = Buffer.from(`--${boundary}--\r\n`, 'latin1');
    const total =
      openings.reduce((n, o) => n + o.length + length + lineBreak.length, 0) + closing.length;
    res.status(200);
    res.setHeader('content-type', `multipart/related; type="${partType}"; boundary=${boundary}`);
    res.setHeader('content-length', total);
    for (const [i, frame] of target.frames.entries()) {
      if (res.destroyed) return 'storage-folder';
      const bytes = Buffer.allocUnsafe(length);
      const got: { bytesRead: number } = await file.handle.read(
        bytes,
        0,
        length,
        pixels.valueOffset + (frame - 1) * length,
      );
      if (res.destroyed) return 'storage-folder';
      if (got.bytesRead !== length) {
        // The file changed under us: nothing sensible can follow the parts already sent.
        res.destroy();
        return 'storage-folder';
      }
      res.write(openings[i]);
      const flowing = res.write(bytes);
      res.write(lineBreak);
      if (!flowing && !res.destroyed) await whenDrained(res);
    }
    res.end(closing);
    return 'storage-folder';
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}
