/**
 * The transfer syntaxes this adapter knows (PS3.5 Section 10 and Annex A; PS3.6 Annex A), and how
 * their datasets are laid out. Derived from the one frozen capability table
 * (codecs/capabilities.ts), so that a syntax is either known to both or to neither: the walker
 * never misreads a syntax that the table would refuse or pass through (video, JPEG XL, Deflated
 * Image Frame Compression are encapsulated explicit little endian like any other).
 */
import { TRANSFER_SYNTAX_CAPABILITIES, type TransferSyntaxCapability } from './codecs/capabilities';

/** How pixel data can be reached in a transfer syntax. */
export type PixelAccess =
  /** Native little-endian pixel data: decoded and patched in place. */
  | 'native'
  /** Reached through the codecs or a conversion (openDicomImage), not by readDicomImage. */
  | 'unsupported';

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  /** Explicit VR (PS3.5 7.1.2) or implicit VR (PS3.5 7.1.3). */
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
  /** Pixel Data in fragments (PS3.5 A.4). */
  readonly encapsulated: boolean;
  /** The whole dataset is deflated (PS3.5 A.5). */
  readonly deflated: boolean;
  readonly pixelAccess: PixelAccess;
}

/** Implicit VR Little Endian (PS3.5 A.1) is the only implicit VR syntax still defined. */
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';

function syntaxOf(c: TransferSyntaxCapability): TransferSyntax {
  const native = c.family === 'native';
  return Object.freeze({
    uid: c.uid,
    name: c.name,
    explicitVr: c.uid !== IMPLICIT_VR_LITTLE_ENDIAN,
    littleEndian: c.family !== 'big-endian',
    encapsulated: !native && c.family !== 'big-endian' && c.family !== 'deflated-dataset',
    deflated: c.family === 'deflated-dataset',
    pixelAccess: native ? 'native' : 'unsupported',
  });
}

export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map(
  [...TRANSFER_SYNTAX_CAPABILITIES.values()].map((c) => [c.uid, syntaxOf(c)] as const),
);

/** The table entry for a UID, or undefined for a UID this adapter has never heard of. */
export function lookupTransferSyntax(uid: string): TransferSyntax | undefined {
  return TRANSFER_SYNTAXES.get(uid);
}
