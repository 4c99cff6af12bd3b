/**
 * WADO-RS retrieve when Orthanc cannot transcode: Orthanc 1.10 (Debian) has no JPEG 2000 decoder and
 * answers 500 when a client asks for an instance or frames of a JPEG 2000 file in another transfer
 * syntax (docs/formats.md). For Explicit VR Little Endian, the default of PS3.18 8.7.3.5 for both
 * application/dicom and application/octet-stream, the gateway fetches the file as stored and decodes
 * it itself (src/dicom decodeToExplicitLittleEndian); any other syntax is answered 406 with a body
 * that says which syntaxes the instance can be had in.
 */
import { randomBytes } from 'node:crypto';

import { decodeToExplicitLittleEndian, headerNumber, walkPart10 } from '../../dicom';
import { decodeHeader } from '../../dicom/header';
import { TAG } from '../../dicom/tag-walker';
import { StegoGatewayError } from '../../stego/errors';
import type { OrthancClient } from '../orthanc/orthanc-client';

import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  nativeFrameBytes,
  type RetrieveTarget,
} from './retrieve-target';

export { acceptedTransferSyntax, retrieveTarget } from './retrieve-target';
export type { RetrieveTarget } from './retrieve-target';

export type FallbackAnswer =
  | { readonly status: 200; readonly contentType: string; readonly body: Buffer }
  | { readonly status: 404 | 406; readonly code: string; readonly message: string };

function multipart(type: string, parts: readonly Uint8Array[]): FallbackAnswer {
  const boundary = randomBytes(16).toString('hex');
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`, 'latin1'));
    chunks.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    chunks.push(Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return {
    status: 200,
    contentType: `multipart/related; type="${type}"; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}; boundary=${boundary}`,
    body: Buffer.concat(chunks),
  };
}

/** The native frames of an Explicit VR Little Endian file, by 1-based number. */
function nativeFrames(bytes: Uint8Array, numbers: readonly number[]): Uint8Array[] | undefined {
  const walked = walkPart10(bytes);
  const pixel = walked.elements.find((e) => e.tag === TAG.PixelData);
  const length = pixel?.valueLength;
  if (pixel === undefined || length === undefined) return undefined;
  const header = decodeHeader(bytes, pixel.elementOffset);
  const frameBytes = nativeFrameBytes((keyword) => headerNumber(header, keyword));
  const count = headerNumber(header, 'NumberOfFrames') ?? 1;
  if (frameBytes === undefined) return undefined;
  if (numbers.some((f) => f > count || f * frameBytes > length)) return undefined;
  return numbers.map((f) =>
    bytes.subarray(pixel.valueOffset + (f - 1) * frameBytes, pixel.valueOffset + f * frameBytes),
  );
}

/**
 * Answers a retrieve Orthanc failed on (status >= 500) for `transferSyntax`; undefined when the
 * instance is not in Orthanc either (the caller then relays Orthanc's own answer).
 */
export async function transcodeFallback(
  upstream: OrthancClient,
  target: RetrieveTarget,
  transferSyntax: string,
): Promise<FallbackAnswer | undefined> {
  if (transferSyntax !== EXPLICIT_VR_LITTLE_ENDIAN) {
    return {
      status: 406,
      code: 'DICOMWEB_NOT_ACCEPTABLE',
      message:
        `the instance cannot be transcoded to transfer syntax [${transferSyntax.slice(0, 64)}]; ` +
        `ask for transfer-syntax=* (as stored) or ${EXPLICIT_VR_LITTLE_ENDIAN}`,
    };
  }
  const id = await upstream.findInstance(target);
  if (id === undefined) return undefined;
  let decoded: Uint8Array;
  try {
    decoded = await decodeToExplicitLittleEndian(await upstream.instanceFile(id));
  } catch (error) {
    // Orthanc down, or unable to send its own file (lost from its storage): not the client's ask.
    if (
      !(error instanceof StegoGatewayError) ||
      error.code === 'UPSTREAM_UNAVAILABLE' ||
      error.code === 'UPSTREAM_ERROR'
    ) {
      throw error;
    }
    // Lossy video, JPEG XL recompression, a broken file: nothing to offer but the stored bytes.
    return {
      status: 406,
      code: 'DICOMWEB_NOT_ACCEPTABLE',
      message: `the stored instance cannot be decoded here [${error.code}]; ask for transfer-syntax=* (as stored)`,
    };
  }
  if (target.frames === undefined) return multipart('application/dicom', [decoded]);
  const frames = nativeFrames(decoded, target.frames);
  if (frames === undefined) {
    return {
      status: 404,
      code: 'DICOMWEB_NO_SUCH_FRAME',
      message: `the instance has no frame [${target.frames.join(',').slice(0, 64)}]`,
    };
  }
  return multipart('application/octet-stream', frames);
}
