/**
 * Runs every file of ../shared/data/formats through the adapter and pipeline in-process: read, and
 * for images embed (fidelity profile, threshold segmenter, a generated key ring) then extract from
 * the written bytes. Prints a markdown table of the outcomes beside the capability table's policy.
 *
 *   npx tsx scripts/formats-survey.ts                 # print the tables
 *   npx tsx scripts/formats-survey.ts --write docs/formats.md
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import prettier from 'prettier';
import {
  colourPolicy,
  lookupCapability,
  TRANSFER_SYNTAX_CAPABILITIES,
  type TransferSyntaxCapability,
} from '../src/dicom/codecs';
import { decodeHeader, headerNumber, headerString, type HeaderDataset } from '../src/dicom/header';
import { hasPart10Prefix, TAG, walkPart10 } from '../src/dicom/tag-walker';
import { embedIdentity, extractIdentity, identityRecordOf } from '../src/pipeline';
import { createThresholdSegmenter } from '../src/segmentation/threshold-segmenter';
import { StegoGatewayError } from '../src/stego/errors';
import { generateKeyRing } from '../src/stego/key-ring';

const FORMATS_DIR = path.resolve(__dirname, '../../shared/data/formats');

/** Short names of the SOP classes in the corpus (PS3.4 Annex B.5). */
const SOP_CLASSES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.3.10': 'Media Storage Directory',
  '1.2.840.10008.5.1.4.1.1.1': 'CR',
  '1.2.840.10008.5.1.4.1.1.2': 'CT',
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT',
  '1.2.840.10008.5.1.4.1.1.3.1': 'US Multi-frame',
  '1.2.840.10008.5.1.4.1.1.4': 'MR',
  '1.2.840.10008.5.1.4.1.1.4.1': 'Enhanced MR',
  '1.2.840.10008.5.1.4.1.1.6.1': 'US',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.2': 'SC Multi-frame Grayscale Byte',
  '1.2.840.10008.5.1.4.1.1.7.3': 'SC Multi-frame Grayscale Word',
  '1.2.840.10008.5.1.4.1.1.7.4': 'SC Multi-frame True Color',
  '1.2.840.10008.5.1.4.1.1.9.1.1': '12-lead ECG',
  '1.2.840.10008.5.1.4.1.1.12.1': 'XA',
  '1.2.840.10008.5.1.4.1.1.20': 'NM',
  '1.2.840.10008.5.1.4.1.1.30': 'Parametric Map',
  '1.2.840.10008.5.1.4.1.1.66.4': 'Segmentation',
  '1.2.840.10008.5.1.4.1.1.88.11': 'Basic Text SR',
  '1.2.840.10008.5.1.4.1.1.88.22': 'Enhanced SR',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF',
  '1.2.840.10008.5.1.4.1.1.481.1': 'RT Image',
  '1.2.840.10008.5.1.4.1.1.481.2': 'RT Dose',
  '1.2.840.10008.5.1.4.1.1.481.3': 'RT Structure Set',
  '1.2.840.10008.5.1.4.1.1.481.5': 'RT Plan',
};

interface Described {
  readonly sopClass: string;
  readonly syntax: string;
  readonly photometric: string;
  readonly frames: string;
  readonly header: HeaderDataset | undefined;
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
    )
    .sort();
}

function describe(bytes: Uint8Array): Described {
  const none = { sopClass: '-', syntax: '-', photometric: '-', frames: '-', header: undefined };
  if (!hasPart10Prefix(bytes)) return none;
  let syntax = '-';
  let header: HeaderDataset | undefined;
  try {
    const walked = walkPart10(bytes);
    syntax = walked.transferSyntaxUid;
    const pixel = walked.elements.find((e) => e.tag === TAG.PixelData);
    header = decodeHeader(bytes, pixel?.elementOffset ?? bytes.length);
  } catch {
    // Described as far as it could be read.
  }
  if (header === undefined) return { ...none, syntax };
  const sop = headerString(header, 'SOPClassUID') ?? '';
  return {
    sopClass: SOP_CLASSES[sop] ?? (sop === '' ? '-' : sop),
    syntax,
    photometric: headerString(header, 'PhotometricInterpretation') ?? '-',
    frames: String(
      headerNumber(header, 'NumberOfFrames') ??
        (header.PixelData === undefined && headerNumber(header, 'Rows') === undefined ? '-' : 1),
    ),
    header,
  };
}

const keyRing = generateKeyRing((n) => new Uint8Array(randomBytes(n)), 'survey');
const segmenter = createThresholdSegmenter();
const NOW = new Date('2026-01-01T00:00:00Z');

async function outcome(bytes: Uint8Array): Promise<string> {
  try {
    const embedded = await embedIdentity(bytes, {
      profile: 'fidelity',
      keyRing,
      segmenter,
      now: NOW,
    });
    const extracted = await extractIdentity(embedded.bytes, {
      profile: 'fidelity',
      keyRing,
      segmenter,
    });
    if (!extracted.ok) return `**embedded, extraction failed** (${extracted.reason})`;
    const record = extracted.identity.kind === 'record' ? extracted.identity.record : undefined;
    const header = describe(bytes).header;
    const expected =
      header === undefined
        ? undefined
        : identityRecordOf(header, undefined, NOW, keyRing.activeKeyId);
    const exact = record !== undefined && JSON.stringify(record) === JSON.stringify(expected);
    const everyFrame = extracted.frames.every((f) => f.ok);
    if (!exact) return '**embedded, extracted record differs**';
    return `embedded + extracted${extracted.frames.length > 1 ? (everyFrame ? ` (each of ${extracted.frames.length} frames)` : ' (not from every frame)') : ''}`;
  } catch (error) {
    if (error instanceof StegoGatewayError) return `refused \`${error.code}\``;
    return `**crash**: ${error instanceof Error ? error.name : 'unknown'}`;
  }
}

/** What the capability table and colour policy plan for a file (phase 2 wires them in). */
function plannedPolicy(d: Described, now: string): string {
  if (now.includes('NOT_AN_IMAGE')) return 'passthrough: not an image';
  // Refusals for the file's content or structure, not its format: phase 2 changes nothing there.
  const contentRefusal =
    /`(NO_BACKGROUND|PAYLOAD_TOO_LARGE|EMBEDDING_UNSTABLE|MALFORMED_DICOM|TRUNCATED_FILE)`/.exec(
      now,
    );
  if (contentRefusal !== null) return `refuse: ${contentRefusal[1] ?? ''}`;
  if (now.includes('UNSUPPORTED_PIXEL_FORMAT')) return 'refuse: float or inconsistent pixel format';
  if (d.header === undefined)
    return now.includes('NOT_DICOM') ? 'refuse: not DICOM Part 10' : 'refuse';
  const capability = lookupCapability(d.syntax);
  if (capability === undefined) return 'refuse: unknown transfer syntax';
  const samples = headerNumber(d.header, 'SamplesPerPixel') ?? 1;
  const colour = colourPolicy(d.photometric, samples);
  if (now.startsWith('embedded')) return capability.embedPolicy;
  if (capability.embedPolicy === 'passthrough-lossy-warning') return 'passthrough: lossy';
  if (colour.kind === 'refuse')
    return `refuse: ${d.photometric === 'PALETTE COLOR' ? 'palette indices' : d.photometric}`;
  const bits = headerNumber(d.header, 'BitsAllocated');
  if (bits !== 8 && bits !== 16) return `refuse: Bits Allocated ${bits ?? '-'}`;
  return `${capability.embedPolicy}${colour.carrier === 'monochrome' ? '' : ` (${colour.carrier})`}`;
}

function capabilityTable(): string {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const rows = [...TRANSFER_SYNTAX_CAPABILITIES.values()].map(
    (c: TransferSyntaxCapability) =>
      `| ${c.name} | \`${c.uid}\` | ${yes(c.decode)} | ${yes(c.encode)} | ${yes(c.lossless)} | \`${c.embedPolicy}\` | ${c.note} |`,
  );
  return [
    '| Transfer syntax | UID | Decode | Encode | Lossless | Embed policy | Note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

async function surveyTable(): Promise<{ table: string; counts: Map<string, number> }> {
  const lines = [
    '| File | SOP class | Transfer syntax | Photometric | Frames | Outcome now | Planned policy |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const counts = new Map<string, number>();
  for (const file of listFiles(FORMATS_DIR)) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const d = describe(bytes);
    const now = await outcome(bytes);
    const key = now.replace(/ \(.*\)$/, '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const syntax = lookupCapability(d.syntax)?.name ?? d.syntax;
    lines.push(
      `| ${path.relative(FORMATS_DIR, file)} | ${d.sopClass} | ${syntax} | ${d.photometric} | ${d.frames} | ${now} | ${plannedPolicy(d, now)} |`,
    );
  }
  return { table: lines.join('\n'), counts };
}

const INTRO = `# Formats

What the gateway does with each kind of DICOM file. Generated by \`npx tsx scripts/formats-survey.ts --write docs/formats.md\`
(the survey tables) around the text of that script; do not edit the tables by hand.

## Transfer syntaxes

One frozen table (\`src/dicom/codecs/capabilities.ts\`) says, for each transfer syntax, whether its pixels
can be decoded and encoded here (dcmjs-codecs, WebAssembly), whether the syntax is lossless by
definition, and the embed policy:

- \`embed-native\`: embedded and patched in place in the native Pixel Data; nothing else changes.
- \`embed-reencode-same-syntax\`: decoded, embedded, re-encoded losslessly in the same syntax (one fragment
  per frame, Basic Offset Table when multi-frame), and kept only if decoding the new frames gives exactly
  the embedded pixels (else \`CODEC_ROUNDTRIP_MISMATCH\`). Bits above High Bit are not carried over.
- \`store-as-explicit-le\`: big endian and deflated input is stored as Explicit VR Little Endian.
- \`passthrough-lossy-warning\`: lossy input is never re-encoded lossily after embedding; by default it
  passes through untouched with a warning (a rule may store it as Explicit VR Little Endian with the
  payload; Lossy Image Compression stays "01").
- an unknown transfer syntax is refused.

Checked against the codec: every encode claim round-trips 8-bit, 12- and 16-bit signed and unsigned and
8-bit RGB frames (\`test/dicom/codecs-capabilities.test.ts\`); decoded pixels equal dcmtk's decode
(\`dcmdrle\`, \`dcmdjpls\`, \`dcmdjpeg\`) or the uncompressed twin of a JPEG 2000 file; files we re-encode
decode identically in dcmtk (\`test/dicom/codecs.test.ts\`). Facts found on the way:

- JPEG baseline (.4.50) and extended 8/12-bit (.4.51) decode (IJG, identical to dcmtk); JPEG Lossless
  Process 14 with any predictor (.4.57) and SV1 (.4.70) decode and encode (8, 12, 16 bits; the predictor
  of the original is kept).
- JPEG-LS encodes samples with the precision of Bits Allocated (lossless, larger than needed for
  12-bit data); dcmtk's \`dcmdjpls\` refuses a 7-bit JPEG-LS file that we decode.
- JPEG 2000 and HTJ2K handle colour in 8 bits only; wider colour is refused (\`CODEC_UNSUPPORTED_IMAGE\`).
  JPEG 2000 colour with a colour transform (YBR_RCT / YBR_ICT) decodes to RGB and is re-encoded with it.
- JPEG lossless and JPEG 2000 code samples of 8 bits or less as unsigned bytes (also in a 16-bit
  container; the header keeps Pixel Representation), as a stored-bits value.
- Costs on a 512x512 CT slice (\`npm run bench -- codecs\`, this machine): encode + verify 15 ms (RLE),
  24 ms (JPEG lossless), 47 ms (JPEG-LS), 126 ms (JPEG 2000), 22 ms (HTJ2K), 430 ms (JPEG XL).
- Orthanc 1.10.1 (Debian, DCMTK inside) stores our re-encoded RLE, JPEG-LS, JPEG lossless and JPEG 2000
  files byte-identical, and when asked on WADO-RS retrieve (Accept transfer-syntax Explicit VR Little
  Endian, whole instance or single frame) transcodes RLE, JPEG-LS and JPEG lossless to exactly the
  pixels we embedded (\`test/formats/orthanc-codecs.test.ts\`). It has no JPEG 2000 decoder: asked to
  transcode a JPEG 2000 instance it answers 500, so the gateway must decode those itself when a client
  asks for another syntax. Files without Patient/Study attributes are refused by Orthanc ("Inexistent tag").
- Frames whose native size would exceed 512 MiB are refused before a codec allocates anything.
- 1-bit (SEG) and 32-bit (RT Dose) pixel data are outside the codecs (\`CODEC_UNSUPPORTED_IMAGE\`).
- Each compressed frame's own header (JPEG SOF/SOS, JPEG-LS SOF55, J2K SIZ/COD, RLE segment table) is
  checked against the DICOM header before a codec runs (\`CODEC_FRAME_MISMATCH\`), and tells whether the
  coding is reversible (some .4.91 files hold reversible 5-3 codestreams; the table still treats .4.91
  as lossy).
- A failed codec call leaves dcmjs-codecs' WebAssembly heap dirty (it does not free its context when a
  codec throws; a run of failures made later valid frames fail), so the module is reloaded after any
  failure (about 30 ms).

__CAPABILITIES__

The entry points (\`src/dicom/codecs\`, wired into the adapter in phase 2):

- \`decodeFrame\` / \`encodeFrame\` / \`encodeFrameVerified\`: one frame; \`initializeCodecs()\` loads the
  WebAssembly once (the calls do it themselves when needed).
- \`decodeEncapsulatedImage\` / \`writeEncapsulatedImage\`: every frame of a file, with each frame's
  reversibility read from its own header (a lossless syntax holding lossy frames is not lossless), and
  the verified re-encode spliced into a copy of the original bytes (nothing outside the Pixel Data value
  changes). An Extended Offset Table (7FE0,0001), if a file has one, is not rewritten by it.
- \`toExplicitLittleEndian\`: big endian and deflated files as Explicit VR Little Endian; the dataset is
  byte-identical to dcmtk's \`dcmconv +te\` for every such file of the corpus.
- \`decodeToExplicitLittleEndian\`: any decodable file as Explicit VR Little Endian with native Pixel
  Data (for 'store-as-explicit-le', and for answering a client that asks for it when Orthanc cannot
  transcode, e.g. JPEG 2000). Header elements are kept byte for byte except Photometric Interpretation
  (J2K YBR_RCT/ICT to RGB, JPEG YBR_FULL_422 to YBR_FULL), Planar Configuration (0), Lossy Image
  Compression ("01" for lossy sources) and stale group lengths / Extended Offset Table.
- \`colourPolicy\` / \`carrierFrame\` / \`applyCarrier\`: the colour policy below.

## Colour

The engine embeds in one plane of integer samples; for colour that plane is a carrier
(\`src/dicom/codecs/colour.ts\`), and extraction reads the same plane back:

| Photometric Interpretation | Carrier | What changes |
| --- | --- | --- |
| MONOCHROME1, MONOCHROME2 | the sample | background samples |
| RGB (and JPEG 2000 YBR_RCT / YBR_ICT, which decode to RGB) | G, the largest weight of luminance (BT.601 0.587) | G; R and B get the same change (clamped), so grey stays grey and Cb, Cr do not move; extraction reads G |
| YBR_FULL | Y | Y only; Cb, Cr untouched |
| YBR_FULL_422 (native: Y1 Y2 Cb Cr per pixel pair) | every Y | Y only; needs an even number of columns |
| PALETTE COLOR | none: refused | a pixel is a lookup-table index; index +-1 can be any colour |
| YBR_PARTIAL_420/422, CMYK, ARGB, HSV | none: refused | retired or lossy-only encodings |

JPEG baseline colour is lossy and passes through; its decode keeps the coded colour space (no YBR to RGB
conversion).

## Error codes of the codecs (\`src/dicom/codecs/codec-error.ts\`)

| Code | HTTP | Meaning |
| --- | --- | --- |
| \`CODEC_UNAVAILABLE\` | 415 | no codec for the transfer syntax, or it cannot go in the asked direction (e.g. encode a lossy syntax) |
| \`CODEC_INIT_FAILED\` | 500 | the WebAssembly module could not be loaded |
| \`CODEC_DECODE_FAILED\` | 422 | the codec rejected the compressed frame (corrupt or truncated bitstream) |
| \`CODEC_ENCODE_FAILED\` | 500 | the codec failed to compress a frame |
| \`CODEC_UNSUPPORTED_IMAGE\` | 415 | a pixel format outside the codecs: Bits Allocated other than 8/16, Samples per Pixel other than 1/3, JPEG 2000 colour wider than 8 bits |
| \`CODEC_FRAME_MISMATCH\` | 422 | the compressed frame describes another image than the DICOM header (size, samples, precision, decoded length) |
| \`CODEC_ROUNDTRIP_MISMATCH\` | 500 | a re-encoded frame did not decode to exactly the pixels it was made from |
| \`ENCAPSULATION_MALFORMED\` | 400 | encapsulated Pixel Data (PS3.5 A.4) with a broken item structure or fragments that cannot be split into frames |

## Survey of ../shared/data/formats

"Outcome now" is the current adapter and pipeline (phase 1: native little-endian monochrome only;
everything else is refused with its code). "Planned policy" is what the capability table and the colour
policy say phase 2 will do with the file.

__SURVEY__
`;

async function main(): Promise<void> {
  const write = process.argv.indexOf('--write');
  const { table, counts } = await surveyTable();
  const summary = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `- ${k}: ${n}`)
    .join('\n');
  const doc = INTRO.replace('__CAPABILITIES__', capabilityTable()).replace(
    '__SURVEY__',
    `${summary}\n\n${table}`,
  );
  if (write > 0) {
    const target = process.argv[write + 1] ?? 'docs/formats.md';
    // Written as prettier would format it, so that the format check passes on the generated file.
    const options = (await prettier.resolveConfig(target)) ?? {};
    fs.writeFileSync(target, await prettier.format(doc, { ...options, parser: 'markdown' }));
    console.log(`wrote ${target}`);
  } else {
    console.log(doc);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
