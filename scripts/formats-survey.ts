/**
 * Runs every file of ../shared/data/formats through the adapter (openDicomImage, writeDicomImage) and
 * the pipeline's pieces in-process (test/formats/format-outcome.ts: fidelity profile, threshold
 * segmenter, a generated key ring), extracting from the written bytes; lossy files again under
 * lossyPolicy 'store-explicit-le'. Prints a markdown table of the outcomes beside the policy, and the
 * totals of the same corpus through the real command line (`embed --out-dir`, then `extract`).
 *
 *   npx tsx scripts/formats-survey.ts                 # print the tables
 *   npx tsx scripts/formats-survey.ts --write docs/formats.md
 */
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
import { cliTotalsTable, makeWorkDir, runFormatsThroughCli } from '../test/formats/cli-batch';
import { listFiles } from '../test/formats/format-files';
import { formatOutcome, type FormatOutcome } from '../test/formats/format-outcome';

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

function describeOutcome(o: FormatOutcome): string {
  switch (o.kind) {
    case 'embedded': {
      if (!o.exact) return '**embedded, extracted record differs**';
      const frames =
        o.frames > 1
          ? o.everyFrame
            ? ` (each of ${o.frames} frames)`
            : ' (**not from every frame**)'
          : '';
      const stored =
        o.outputSyntax === o.inputSyntax
          ? ''
          : ` as ${lookupCapability(o.outputSyntax)?.name ?? o.outputSyntax}`;
      return `embedded + extracted${stored}${frames}`;
    }
    case 'passthrough':
      return `passthrough: ${o.reason}`;
    case 'refused':
      return `refused \`${o.code}\``;
  }
}

async function outcome(bytes: Uint8Array): Promise<{ now: string; lossy: string }> {
  try {
    const o = await formatOutcome(bytes);
    const lossy =
      o.kind === 'passthrough' && o.reason === 'lossy-compression'
        ? describeOutcome(await formatOutcome(bytes, { lossyPolicy: 'store-explicit-le' }))
        : '';
    return { now: describeOutcome(o), lossy };
  } catch (error) {
    return { now: `**crash**: ${error instanceof Error ? error.name : 'unknown'}`, lossy: '' };
  }
}

/** The capability table's policy for a file, and the colour carrier. */
function policy(d: Described): string {
  if (d.header === undefined) return '-';
  const capability = lookupCapability(d.syntax);
  if (capability === undefined) return 'refuse: unknown transfer syntax';
  const samples = headerNumber(d.header, 'SamplesPerPixel') ?? 1;
  const colour = colourPolicy(d.photometric, samples);
  const carrier =
    colour.kind === 'refuse'
      ? ' (colour: refused)'
      : colour.carrier === 'monochrome'
        ? ''
        : ` (${colour.carrier})`;
  return `\`${capability.embedPolicy}\`${d.photometric === '-' ? '' : carrier}`;
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
    '| File | SOP class | Transfer syntax | Photometric | Frames | Policy | Outcome | Lossy under store-explicit-le |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const counts = new Map<string, number>();
  for (const file of listFiles(FORMATS_DIR)) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const d = describe(bytes);
    const { now, lossy } = await outcome(bytes);
    const key = now.replace(/ \(.*\)$/, '').replace(/ as .*$/, ' (converted)');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const syntax = lookupCapability(d.syntax)?.name ?? d.syntax;
    lines.push(
      `| ${path.relative(FORMATS_DIR, file)} | ${d.sopClass} | ${syntax} | ${d.photometric} | ${d.frames} | ${policy(d)} | ${now} | ${lossy} |`,
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
  transcode a JPEG 2000 instance it answers 500, so the gateway decodes those itself when a client
  asks for Explicit VR Little Endian (see the gateway section below). Files without Patient/Study attributes are refused by Orthanc ("Inexistent tag").
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

## The adapter: what happens to a file

\`openDicomImage(bytes, { lossyPolicy, purpose })\` (\`src/dicom/open-dicom-image.ts\`) decides by the table
and the colour policy, and answers a typed outcome; \`writeDicomImage(original, image, frames)\` writes the
embedded frames back:

| Input | Outcome | Written as |
| --- | --- | --- |
| native little endian, monochrome | \`image\` | patched in place: only stored bits of changed samples differ (\`writeDicomFrames\`, synchronous, as before) |
| native little endian, RGB / YBR_FULL / YBR_FULL_422 (planar or not) | \`image\` (the engine sees the carrier plane) | the carrier written back by the colour policy, planar files kept planar; nothing outside Pixel Data changes |
| Explicit VR Big Endian, Deflated Explicit VR Little Endian | \`image\` | **Explicit VR Little Endian** (\`outputTransferSyntaxUid\`): the dataset as dcmtk's \`dcmconv +te\` writes it, with the embedded pixels. Writing big endian or deflating again is possible but no receiver needs it, and Orthanc stores either |
| lossless compressed (RLE, JPEG lossless, JPEG-LS lossless, JPEG 2000 lossless, HTJ2K lossless, JPEG XL lossless, encapsulated uncompressed, deflated frames) | \`image\` | re-encoded in the same syntax, each frame verified to decode to exactly the embedded samples (else \`CODEC_ROUNDTRIP_MISMATCH\`), spliced into the original bytes: nothing outside the Pixel Data value changes |
| a lossless syntax whose frames are coded irreversibly (e.g. JPEG 2000 9-7 in .4.90) | as lossy | as lossy |
| lossy (JPEG baseline / extended, JPEG-LS near-lossless, JPEG 2000, HTJ2K, JPEG XL) | \`passthrough\`, reason \`lossy-compression\` (store the original untouched and warn) | with \`lossyPolicy: 'store-explicit-le'\`: \`image\`, written as Explicit VR Little Endian with Lossy Image Compression "01" and a warning in \`warnings\` |
| lossy and not decodable here (MPEG-2, H.264, HEVC video; JPEG XL JPEG recompression) | \`passthrough\`, reason \`lossy-undecodable\` | never |
| a non-image SOP class (SR, RT Plan / Structure Set, waveforms, encapsulated PDF, presentation states, SEG, raw data, DICOMDIR) or no Pixel Data | \`passthrough\`, reason \`not-an-image\` (store byte-identical) | never |
| palette colour, 1- or 32-bit pixels, float pixel data, unknown syntax, broken structure | thrown \`StegoGatewayError\` with its code (\`UNSUPPORTED_PHOTOMETRIC\`, \`UNSUPPORTED_BITS_ALLOCATED\`, \`UNSUPPORTED_PIXEL_FORMAT\`, \`UNSUPPORTED_TRANSFER_SYNTAX\`, \`NOT_DICOM\`, \`MALFORMED_DICOM\`, \`TRUNCATED_FILE\`, \`CODEC_*\`, \`ENCAPSULATION_MALFORMED\`) | never |

\`purpose: 'extract'\` (extraction, verification, segmentation) decodes lossy input too, so that it can be
searched; nothing is written. \`readDicomImage\` (synchronous) still reads native little-endian monochrome
files and refuses the rest as before. The transfer syntax table of the walker (\`transfer-syntaxes.ts\`) is
derived from the capability table, so JPEG XL, the video syntaxes and Deflated Image Frame Compression are
walked as encapsulated explicit little endian, never misread.

The codec entry points (\`src/dicom/codecs\`):

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

## The gateway: what STOW-RS and WADO-RS do with each outcome

An \`embed\` rule (docs/rules.md) turns each outcome of the adapter into a stored instance, an answer
(docs/api.md) and an audit row:

| Adapter outcome | Stored in Orthanc | STOW-RS answer | Audit outcome, detail |
| --- | --- | --- | --- |
| \`image\`, written in the syntax it came in (native patched in place; lossless compressed re-encoded in the same syntax) | the embedded file | in ReferencedSOPSequence, no warning | \`embedded\` |
| \`image\`, written as Explicit VR Little Endian (big endian or deflated input; lossy input under \`lossyPolicy: store-explicit-le\`) | the embedded file, Explicit VR Little Endian | Warning Reason \`0xB000\`; \`Warning\` header: \`[uid] stored as transfer syntax [1.2.840.10008.1.2.1], sent as [...]\` (and, for lossy input, the note \`Lossy Image Compression 01\`) | \`embedded\`, \`STORED_AS_EXPLICIT_LE\` |
| \`passthrough\`: a non-image, lossy pixels under \`lossyPolicy: passthrough\` (default), lossy pixels not decodable here | the original, byte for byte | Warning Reason \`0xB1E0\`; \`Warning\` header: \`[uid] original stored unchanged, identity not embedded [reason]: ...\`. Also under \`onFailure: reject\`: this is the documented policy, not a failure | \`passthrough\`, \`PASSTHROUGH_NOT_AN_IMAGE\` / \`PASSTHROUGH_LOSSY\` / \`PASSTHROUGH_LOSSY_UNDECODABLE\` |
| refused with a code (\`NO_BACKGROUND\`, \`PAYLOAD_TOO_LARGE\`, \`UNSUPPORTED_PHOTOMETRIC\`, ...) | \`onFailure: store-original\`: the original, byte for byte; \`onFailure: reject\`: nothing | \`store-original\`: Warning Reason \`0xB1E0\`, \`Warning\` header \`[uid] identity not embedded [CODE], original stored\`; \`reject\`: FailedSOPSequence with the code's Failure Reason (\`0x0110\` for most, docs/api.md) | \`stored-original\` or \`rejected\`, the code |
| a part the gateway cannot read as DICOM (no preamble and no recognisable dataset, cut inside an element) | nothing | FailedSOPSequence, \`0xC000\` | \`failed\`, \`STOW_PART_*\` |

\`0xB1E0\` is the gateway's own Warning Reason (PS3.2 Annex J allows codes beyond \`0xB000\`, \`0xB006\`,
\`0xB007\`; none of those says "stored exactly as sent"). The answer is \`202\` when any instance
carries a warning.

\`test/formats/gateway-formats.test.ts\` sends every file of the corpus through the gateway (eight
parts per request, fidelity profile, threshold segmenter, \`onFailure: store-original\`) to a real
Orthanc and checks each answer: embedded files are read back from Orthanc by the identity route and
match their header; files stored without identity are byte-identical in Orthanc and named in the
\`Warning\` header with their reason; failed parts carry a Failure Reason. It prints the table per
file; the totals at this commit:

| Gateway outcome | Files |
| --- | --- |
| embedded, extracted exactly through the identity route | 37 |
| embedded, stored as Explicit VR Little Endian (\`0xB000\`; big endian input) | 1 |
| stored unchanged (\`0xB1E0\`), \`not-an-image\` | 68 |
| stored unchanged (\`0xB1E0\`), \`lossy-compression\` | 25 |
| stored unchanged (\`0xB1E0\`), embedding refused: \`NO_BACKGROUND\` 61, \`PAYLOAD_TOO_LARGE\` 30, \`UNSUPPORTED_BITS_ALLOCATED\` 13, \`UNSUPPORTED_PHOTOMETRIC\` 9, \`NOT_DICOM\` 3, \`UNSUPPORTED_PIXEL_FORMAT\` 2 | 118 |
| failed \`0xC000\`: not DICOM (READMEs, NIfTI, gzip, manifests) or cut inside the header | 40 |
| failed \`0x0110\` \`UPSTREAM_REFUSED\`: Orthanc refuses the file (\`emri_small_jpeg_2k_lossless_too_short.dcm\`, Pixel Data shorter than declared) | 1 |

The gateway reads a few files the adapter calls \`NOT_DICOM\` (its header reader is more lenient):
they are stored as sent with that code.

**WADO-RS.** Retrieval is relayed from Orthanc. When a client asks for a transfer syntax
(\`Accept: multipart/related; type="application/dicom"; transfer-syntax=...\`, or
\`application/octet-stream\` for frames), Orthanc transcodes: RLE, JPEG-LS and JPEG lossless give
exactly the embedded pixels. For JPEG 2000 Orthanc 1.10 (Debian) has no decoder and answers 500;
the gateway then fetches the stored file and decodes it itself
(\`src/gateway/dicomweb/transcode-fallback.ts\`, \`decodeToExplicitLittleEndian\`): an instance or
frames asked as Explicit VR Little Endian, or with no transfer syntax (PS3.18 8.7.3.5.2 makes that
the default), are answered from the gateway's decode; any other syntax is answered
\`406 DICOMWEB_NOT_ACCEPTABLE\`, naming \`transfer-syntax=*\` (as stored) and Explicit VR Little Endian
as what can be had. The fallback covers instance and frame retrieval (one instance in memory);
a study or series retrieval that Orthanc fails to transcode keeps Orthanc's error. Tested: lossless
RLE, JPEG lossless and JPEG 2000 CT and MR embedded through the gateway, retrieved as Explicit VR
Little Endian (by Orthanc or by the gateway) and extracted exactly; the frames of a 16-frame MR come
back embedded through \`.../frames/{n}\`, and a file made of frame 2 alone gives the identity back.

## The command line: what \`embed --out-dir\` does with each outcome

\`stego-gateway embed --out-dir DIR FILE|FOLDER...\` embeds many files in one process (one segmenter
session, one key ring), writes \`DIR/<path below the folder given>\`, and prints one JSON line per file:

| Adapter outcome | Written to DIR | Line on stdout |
| --- | --- | --- |
| \`image\` | the embedded file, in the syntax it came in or as Explicit VR Little Endian (as in the gateway) | \`"outcome": "embedded"\`, \`transferSyntaxUid\`, \`warnings\` |
| \`passthrough\` (non-image, lossy pixels under the default \`--lossy-policy passthrough\`) | a byte-identical copy | \`"outcome": "passthrough"\`, \`code\` (\`NOT_AN_IMAGE\` / \`UNSUPPORTED_TRANSFER_SYNTAX\`) and \`reason\` |
| refused with a code, or not readable | nothing | \`"outcome": "failed"\` and the code |

The exit code is 0 when no file failed and 5 (\`SOME_FILES_FAILED\`) otherwise; \`extract\` and \`verify\`
take several files or folders the same way. \`test/formats/cli-formats.test.ts\` runs the real command
line over the corpus as a user runs it (fidelity profile, the default segmenter: the ONNX model, one
session for the whole run): one \`embed --out-dir\` over the folder, then one \`extract\` over the
embedded outputs, comparing each record with the one read from the input's header; passthrough copies
are checked byte-identical, failures for a specific code. The totals at this commit (this script runs
the same two commands; about 15 s for the embedding on this machine):

__CLI_TOTALS__

They differ from the gateway's and the survey's below in two ways. Those runs use the threshold
segmenter; the model finds room for the record in more of the small test images (fewer
\`NO_BACKGROUND\` / \`PAYLOAD_TOO_LARGE\`). And the gateway cannot store a part without SOP Class, SOP Instance or
Study Instance UID (the DICOMDIRs and a few test files: \`0xC000\`), which the command line, storing
nothing, embeds or copies; the gateway's header reader also accepts a few files the adapter calls
\`NOT_DICOM\`.

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

"Policy" is the capability table's embed policy for the file's transfer syntax and its colour carrier.
"Outcome" is what \`openDicomImage\` / \`writeDicomImage\` and the pipeline's pieces do with it in-process
(\`test/formats/format-outcome.ts\`: fidelity profile with the identity record, threshold segmenter):
"embedded + extracted" means the identity record was read back exactly from the written file (from each
frame alone); \`NO_BACKGROUND\` and \`PAYLOAD_TOO_LARGE\` are small test images (e.g. 64x64) without room
for a sealed identity record. The last column runs lossy files again under \`lossyPolicy:
'store-explicit-le'\`. \`test/formats/every-format-file.test.ts\` checks the same outcomes.

__SURVEY__
`;

/** The totals of the corpus through the real command line (test/formats/cli-batch.ts). */
async function cliTotals(): Promise<string> {
  const workDir = makeWorkDir();
  try {
    return cliTotalsTable((await runFormatsThroughCli(workDir)).files);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const write = process.argv.indexOf('--write');
  const { table, counts } = await surveyTable();
  const summary = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `- ${k}: ${n}`)
    .join('\n');
  const doc = INTRO.replace('__CAPABILITIES__', capabilityTable())
    .replace('__CLI_TOTALS__', await cliTotals())
    .replace('__SURVEY__', `${summary}\n\n${table}`);
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
