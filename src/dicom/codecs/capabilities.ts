/**
 * What the gateway can do with each transfer syntax (PS3.5 Section 10 and Annex A; PS3.6 Annex A):
 * decode its pixels, encode them back, whether the syntax is lossless by definition, and the embed
 * policy that follows. One frozen table, asked by UID; nothing else compares transfer syntax UIDs
 * to decide a policy. docs/formats.md shows it; test/dicom/codecs-capabilities.test.ts checks that
 * every `decode` / `encode` claim holds against the codec.
 */

/** How pixel data is coded in a syntax, i.e. which code path decodes it. */
export type CodecFamily =
  /** Native little endian (PS3.5 8.1.1): read and patched in place. */
  | 'native'
  /** Native big endian (retired PS3.5 A.3): bytes swapped. */
  | 'big-endian'
  /** The whole dataset deflated (PS3.5 A.5): inflated with zlib. */
  | 'deflated-dataset'
  /** Each frame a native frame in its own fragment (PS3.5 A.4.11). */
  | 'encapsulated-uncompressed'
  /** Each frame deflated on its own (PS3.5 A.4.12, Deflated Image Frame Compression). */
  | 'deflated-frame'
  | 'rle'
  | 'jpeg'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'htj2k'
  | 'jpeg-xl'
  /** MPEG-2, MPEG-4, HEVC: a video stream, not frames. */
  | 'video';

/**
 * What embedding does with an image in the syntax:
 * - 'embed-native': embed and patch the native Pixel Data in place (nothing else changes);
 * - 'embed-reencode-same-syntax': decode, embed, encode in the same syntax, and check that decoding
 *   the new frames gives exactly the embedded pixels (else refuse with CODEC_ROUNDTRIP_MISMATCH);
 * - 'store-as-explicit-le': decode, embed, store as Explicit VR Little Endian (the header values
 *   stay; Transfer Syntax UID changes);
 * - 'passthrough-lossy-warning': the pixels were already lossy; re-encoding them lossily again after
 *   embedding would degrade them further, so by default the file passes through untouched with a
 *   warning (a rule may store it as Explicit VR Little Endian with the payload; Lossy Image
 *   Compression stays "01");
 * - 'refuse': no way to reach the pixels; the file is refused with a specific code.
 */
export type EmbedPolicy =
  | 'embed-native'
  | 'embed-reencode-same-syntax'
  | 'store-as-explicit-le'
  | 'passthrough-lossy-warning'
  | 'refuse';

export interface TransferSyntaxCapability {
  readonly uid: string;
  readonly name: string;
  readonly family: CodecFamily;
  /** Frames can be decoded to native little-endian samples here. */
  readonly decode: boolean;
  /** Native frames can be encoded in this syntax here (lossless settings only). */
  readonly encode: boolean;
  /** The syntax admits only lossless coding (so a decoded frame is the original). */
  readonly lossless: boolean;
  readonly embedPolicy: EmbedPolicy;
  /** Why, in a sentence, for docs/formats.md and warnings. */
  readonly note: string;
}

function row(
  uid: string,
  name: string,
  family: CodecFamily,
  flags: { decode: boolean; encode: boolean; lossless: boolean },
  embedPolicy: EmbedPolicy,
  note: string,
): TransferSyntaxCapability {
  return Object.freeze({ uid, name, family, ...flags, embedPolicy, note });
}

const REENCODE_NOTE =
  'decoded, embedded and re-encoded losslessly in the same syntax, verified by decoding';

/** A lossless syntax we decode and encode: embedded and re-encoded in the same syntax. */
const reencode = (uid: string, name: string, family: CodecFamily, note = REENCODE_NOTE) =>
  row(
    uid,
    name,
    family,
    { decode: true, encode: true, lossless: true },
    'embed-reencode-same-syntax',
    note,
  );

/** A syntax that admits lossy coding: passed through untouched with a warning. */
const lossy = (
  uid: string,
  name: string,
  family: CodecFamily,
  decode: boolean,
  what = 'lossy by definition',
) =>
  row(
    uid,
    name,
    family,
    { decode, encode: false, lossless: false },
    'passthrough-lossy-warning',
    `${what}: passed through untouched with a warning`,
  );

const video = (uid: string, name: string) => lossy(uid, name, 'video', false, 'lossy video');

const ROWS: readonly TransferSyntaxCapability[] = [
  row(
    '1.2.840.10008.1.2',
    'Implicit VR Little Endian',
    'native',
    { decode: true, encode: true, lossless: true },
    'embed-native',
    'patched in place',
  ),
  row(
    '1.2.840.10008.1.2.1',
    'Explicit VR Little Endian',
    'native',
    { decode: true, encode: true, lossless: true },
    'embed-native',
    'patched in place',
  ),
  reencode(
    '1.2.840.10008.1.2.1.98',
    'Encapsulated Uncompressed Explicit VR Little Endian',
    'encapsulated-uncompressed',
    'one native frame per fragment',
  ),
  row(
    '1.2.840.10008.1.2.1.99',
    'Deflated Explicit VR Little Endian',
    'deflated-dataset',
    { decode: true, encode: false, lossless: true },
    'store-as-explicit-le',
    'the whole dataset is deflated: stored inflated, as Explicit VR Little Endian',
  ),
  row(
    '1.2.840.10008.1.2.2',
    'Explicit VR Big Endian (retired)',
    'big-endian',
    { decode: true, encode: false, lossless: true },
    'store-as-explicit-le',
    'retired syntax: stored as Explicit VR Little Endian',
  ),
  lossy('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg', true),
  lossy('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg', true),
  reencode(
    '1.2.840.10008.1.2.4.57',
    'JPEG Lossless, Non-Hierarchical (Process 14)',
    'jpeg',
    `${REENCODE_NOTE} (same predictor)`,
  ),
  reencode(
    '1.2.840.10008.1.2.4.70',
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction',
    'jpeg',
  ),
  reencode('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
  lossy('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'jpeg-ls', true),
  reencode('1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)', 'jpeg-2000'),
  lossy('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg-2000', true),
  reencode('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'jpeg-xl'),
  lossy(
    '1.2.840.10008.1.2.4.111',
    'JPEG XL JPEG Recompression',
    'jpeg-xl',
    false,
    'a recompressed lossy JPEG',
  ),
  lossy('1.2.840.10008.1.2.4.112', 'JPEG XL', 'jpeg-xl', true),
  reencode('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'htj2k'),
  reencode(
    '1.2.840.10008.1.2.4.202',
    'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
    'htj2k',
    `${REENCODE_NOTE} (RPCL progression)`,
  ),
  lossy('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'htj2k', true),
  video('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level'),
  video('1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level'),
  video('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1'),
  video('1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1'),
  video('1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video'),
  video('1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video'),
  video('1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2'),
  video('1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1'),
  video('1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1'),
  reencode('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  reencode('1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression', 'deflated-frame'),
];

export const TRANSFER_SYNTAX_CAPABILITIES: ReadonlyMap<string, TransferSyntaxCapability> = new Map(
  ROWS.map((r) => [r.uid, r] as const),
);

/** The row for a UID, or undefined for a syntax the gateway has never heard of (refused). */
export function lookupCapability(uid: string): TransferSyntaxCapability | undefined {
  return TRANSFER_SYNTAX_CAPABILITIES.get(uid);
}

/** The embed policy for a UID: an unknown syntax is refused. */
export function embedPolicyFor(uid: string): EmbedPolicy {
  return lookupCapability(uid)?.embedPolicy ?? 'refuse';
}
