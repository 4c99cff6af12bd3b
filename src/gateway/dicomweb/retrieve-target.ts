/**
 * What a WADO-RS retrieve names and in which transfer syntax it wants it: pure parsing of the path
 * and the Accept header, shared by the stored-file relay and the transcode fallback (and light: no
 * DICOM adapter behind it).
 */

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** What a retrieve path names: one instance, or frames of one instance (1-based numbers). */
export interface RetrieveTarget {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly frames?: readonly number[];
}

/** `studies/{s}/series/{se}/instances/{i}` or `.../frames/{1,2,3}`; undefined for anything else. */
export function retrieveTarget(segments: readonly string[]): RetrieveTarget | undefined {
  const [studies, study, series, seriesUid, instances, sop, frames, list] = segments;
  if (studies !== 'studies' || series !== 'series' || instances !== 'instances') return undefined;
  if (study === undefined || seriesUid === undefined || sop === undefined) return undefined;
  const uids = { studyInstanceUid: study, seriesInstanceUid: seriesUid, sopInstanceUid: sop };
  if (segments.length === 6) return uids;
  if (segments.length !== 8 || frames !== 'frames' || list === undefined) return undefined;
  const numbers = list.split(',').map(Number);
  if (!numbers.every((n) => Number.isInteger(n) && n >= 1)) return undefined;
  return { ...uids, frames: numbers };
}

/**
 * Bytes of one native frame (PS3.5 8.1.1: Rows x Columns x Samples per Pixel x Bits Allocated / 8,
 * frames one after the other in Pixel Data) from the image's attributes; undefined when they do
 * not give a whole positive number of bytes (bit-packed frames, missing attributes).
 */
export function nativeFrameBytes(
  number: (keyword: string) => number | undefined,
): number | undefined {
  const length =
    ((number('Rows') ?? Number.NaN) *
      (number('Columns') ?? Number.NaN) *
      (number('SamplesPerPixel') ?? 1) *
      (number('BitsAllocated') ?? Number.NaN)) /
    8;
  return Number.isSafeInteger(length) && length > 0 ? length : undefined;
}

/** What a study- or series-level retrieve path names (`studies/{s}`, `studies/{s}/series/{se}`). */
export interface RetrieveScope {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid?: string;
}

/** `studies/{s}` or `studies/{s}/series/{se}`; undefined for anything else. */
export function retrieveScope(segments: readonly string[]): RetrieveScope | undefined {
  const [studies, study, series, seriesUid] = segments;
  if (studies !== 'studies' || study === undefined) return undefined;
  if (segments.length === 2) return { studyInstanceUid: study };
  if (segments.length === 4 && series === 'series' && seriesUid !== undefined) {
    return { studyInstanceUid: study, seriesInstanceUid: seriesUid };
  }
  return undefined;
}

/**
 * The transfer syntax an Accept header asks for with a multipart type of application/dicom (for an
 * instance) or application/octet-stream (for frames): the `transfer-syntax` parameter, Explicit VR
 * Little Endian when absent (PS3.18 8.7.3.5.2); '*' for "as stored"; undefined when the header asks
 * for something else (rendered, single part...).
 */
export function acceptedTransferSyntax(
  accept: string | undefined,
  frames: boolean,
): string | undefined {
  if (accept === undefined) return undefined;
  const type = frames ? 'application/octet-stream' : 'application/dicom';
  for (const range of accept.split(',')) {
    const [essence, ...parameters] = range.split(';').map((p) => p.trim());
    if (essence?.toLowerCase() !== 'multipart/related') continue;
    const values = new Map(
      parameters.map((p) => {
        const at = p.indexOf('=');
        const value = p.slice(at + 1).trim();
        return [p.slice(0, at).trim().toLowerCase(), value.replace(/^"(.*)"$/, '$1')] as const;
      }),
    );
    if ((values.get('type') ?? '').toLowerCase() !== type) continue;
    return values.get('transfer-syntax') ?? EXPLICIT_VR_LITTLE_ENDIAN;
  }
  return undefined;
}
