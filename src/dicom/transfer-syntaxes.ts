/**
 * The transfer syntaxes this adapter knows (PS3.5 Section 10 and Annex A; PS3.6 Annex A), and what it
 * can do with each. A frozen table, in the manner of dcmjs-codecs: reading and writing code asks the
 * table, never compares UIDs inline. A later issue adds codecs by flipping `pixelAccess` for the
 * encapsulated syntaxes and giving them a decoder.
 */

/** How pixel data can be reached in a transfer syntax. */
export type PixelAccess =
  /** Native little-endian pixel data: decoded and patched in place. */
  | 'native'
  /** Known but not handled yet (compressed, big endian, deflated). */
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

function syntax(
  uid: string,
  name: string,
  flags: Partial<Omit<TransferSyntax, 'uid' | 'name'>> = {},
): TransferSyntax {
  return Object.freeze({
    uid,
    name,
    explicitVr: flags.explicitVr ?? true,
    littleEndian: flags.littleEndian ?? true,
    encapsulated: flags.encapsulated ?? true,
    deflated: flags.deflated ?? false,
    pixelAccess: flags.pixelAccess ?? 'unsupported',
  });
}

const NATIVE = { encapsulated: false, pixelAccess: 'native' } as const;

export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map(
  [
    syntax('1.2.840.10008.1.2', 'Implicit VR Little Endian', { ...NATIVE, explicitVr: false }),
    syntax('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', NATIVE),
    syntax('1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian'),
    syntax('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', {
      encapsulated: false,
      deflated: true,
    }),
    syntax('1.2.840.10008.1.2.2', 'Explicit VR Big Endian (retired)', {
      encapsulated: false,
      littleEndian: false,
    }),
    syntax('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)'),
    syntax('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)'),
    syntax('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)'),
    syntax('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction'),
    syntax('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless'),
    syntax('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)'),
    syntax('1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)'),
    syntax('1.2.840.10008.1.2.4.91', 'JPEG 2000'),
    syntax('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)'),
    syntax(
      '1.2.840.10008.1.2.4.202',
      'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
    ),
    syntax('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000'),
    syntax('1.2.840.10008.1.2.5', 'RLE Lossless'),
  ].map((s) => [s.uid, s] as const),
);

/** The table entry for a UID, or undefined for a UID this adapter has never heard of. */
export function lookupTransferSyntax(uid: string): TransferSyntax | undefined {
  return TRANSFER_SYNTAXES.get(uid);
}
