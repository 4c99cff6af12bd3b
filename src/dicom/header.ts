import { data as dcmjsData, log as dcmjsLog } from 'dcmjs';
import { dicomError } from './dicom-error';

/**
 * The header of a DICOM file as decoded by dcmjs (strings per Specific Character Set), naturalized to
 * DICOM keywords. Values are `unknown` until read through the accessors below.
 */
export type HeaderDataset = Readonly<Record<string, unknown>>;

// dcmjs logs warnings on odd files through loglevel; output belongs to the callers (JSON on stdout).
dcmjsLog.setLevel('silent');
dcmjsLog.getLogger('validation.dcmjs').setLevel('silent');

/**
 * Decodes the header: the Part 10 bytes up to `endOffset` (the start of the top-level Pixel Data
 * element, so that dcmjs never copies the pixels).
 */
export function decodeHeader(bytes: Uint8Array, endOffset: number): HeaderDataset {
  const head = bytes.slice(0, endOffset).buffer;
  try {
    return naturalize(head, false);
  } catch (cause) {
    // dcmjs refuses code extensions (ISO 2022, several Specific Character Set values) unless told to
    // ignore errors; it then decodes with the first one. The structure was checked by the walker.
    if (cause instanceof Error && /character set|meta length/i.test(cause.message)) {
      try {
        return naturalize(head, true);
      } catch {
        // fall through to the first error
      }
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw dicomError('MALFORMED_DICOM', `the header could not be decoded [${reason}]`, cause);
  }
}

function naturalize(buffer: ArrayBuffer, ignoreErrors: boolean): HeaderDataset {
  const file = dcmjsData.DicomMessage.readFile(buffer, { ignoreErrors });
  return dcmjsData.DicomMetaDictionary.naturalizeDataset(file.dict);
}

function first(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** A numeric attribute (US, SS, IS, DS, ...); undefined when absent, empty or not a number. */
export function headerNumber(ds: HeaderDataset, keyword: string): number | undefined {
  const v = first(ds[keyword]);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A string attribute's first value, trimmed; undefined when absent or empty. */
export function headerString(ds: HeaderDataset, keyword: string): string | undefined {
  const v = first(ds[keyword]);
  if (typeof v === 'string') {
    const s = v.trim();
    return s === '' ? undefined : s;
  }
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** A sequence attribute's items (naturalized datasets); empty when absent. */
export function headerItems(ds: HeaderDataset, keyword: string): HeaderDataset[] {
  const v = ds[keyword];
  const items = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return items.filter(
    (item): item is HeaderDataset =>
      typeof item === 'object' && item !== null && !Array.isArray(item),
  );
}

/** PN in its DICOM string form (PS3.5 6.2.1): Alphabetic=Ideographic=Phonetic, trailing '=' dropped. */
function personNameText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return '';
  const groups = ['Alphabetic', 'Ideographic', 'Phonetic'].map((key) => {
    const g = (value as Record<string, unknown>)[key];
    return typeof g === 'string' ? g : '';
  });
  return groups.join('=').replace(/=+$/, '');
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return personNameText(value);
}

/**
 * The text of an attribute for the identity record: multiple values joined with '\' (the DICOM value
 * separator, PS3.5 6.4), PN as its string form, '' when absent. Trailing spaces are padding and go.
 */
export function headerFieldText(ds: HeaderDataset, keyword: string): string {
  const v = ds[keyword];
  if (v === undefined || v === null) return '';
  const values = Array.isArray(v) ? v : [v];
  return values
    .map(valueText)
    .join('\\')
    .replace(/[\0 ]+$/, '');
}
