import {
  openDicomImageForEmbedding,
  sampleConstraints,
  writeDicomImage,
  type DicomImage,
  type LossyPolicy,
} from '../dicom';
import type { Segmenter } from '../segmentation/segmenter';
import type { EmbedReport, EmbedResult } from '../stego/api';
import { DEFAULT_MARGIN_PX } from '../stego/block-map';
import { embedPayload, extractPayload } from '../stego/embed';
import type { KeyRing } from '../stego/key-ring';
import type { ProfileName } from '../stego/profiles';
import type { BlockMap, PixelFrame, SampleConstraints } from '../stego/types';
import { StegoGatewayError } from '../stego/errors';
import { robustMaxShift } from '../stego/robust-strength';
import { analyseFrame, frameConstraints, type FrameAnalysis } from './frame-context';
import { identityPayload, identityRecordOf } from './identity-payload';
import { pipelineError } from './pipeline-error';
import { blockMapAgreement, blockMapsEqual, intersectBlockMaps, maskNcc } from './stability';

export interface EmbedIdentityOptions {
  readonly profile: ProfileName;
  /** Required by fidelity and robust (they seal under the active key). */
  readonly keyRing?: KeyRing;
  readonly segmenter: Segmenter;
  /** Safety margin around the significant region (default 4 px). */
  readonly marginPx?: number;
  /** DICOM keywords of the identity record (default DEFAULT_IDENTITY_FIELDS). */
  readonly identityFields?: readonly string[];
  /** Embed these bytes instead of the identity record. */
  readonly payload?: Uint8Array;
  /** The record's embeddedAt (default: now). */
  readonly now?: Date;
  /** Paper profile: its beta. */
  readonly beta?: number;
  readonly layoutKey?: Uint8Array;
  readonly randomBytes?: (n: number) => Uint8Array;
  /** Re-segmentation rounds before giving up on a stable block map (default 4). */
  readonly maxStabilityIterations?: number;
  /**
   * Robust profile: the largest shift of one block to try first (stored units; default the
   * engine's, 7% of the image's contrast). When the stego frame would not be read back, the
   * embedding is run again at half the strength, down to 1.
   */
  readonly robustMaxShift?: number;
  /**
   * Lossy input: refused with UNSUPPORTED_TRANSFER_SYNTAX (default 'passthrough': the caller stores
   * the original), or stored as Explicit VR Little Endian with the payload ('store-explicit-le').
   */
  readonly lossyPolicy?: LossyPolicy;
}

export interface FrameEmbedReport extends EmbedReport {
  readonly frame: number;
  /** Embedding rounds run (1 when the stego image segments like the cover); the best is kept. */
  readonly iterations: number;
  /** Whether the stego frame's block map equals the one the payload was embedded with. */
  readonly stable: boolean;
  /** Fraction of blocks on which the stego frame's map agrees with the map used. */
  readonly blockMapAgreement: number;
  /** NCC between the cover's and the stego frame's significance masks. */
  readonly maskNcc: number;
  /** Blocks left out because they were unstable under the embedding. */
  readonly blocksExcluded: number;
  /** Robust profile: the largest shift of one block that was allowed (stored units). */
  readonly robustMaxShift?: number;
}

/** Numbers and names only: no patient attribute ever enters the report. */
export interface EmbedIdentityReport {
  readonly profile: ProfileName;
  readonly keyId: string | null;
  readonly segmenter: string;
  readonly marginPx: number;
  /** 'identity' when the header's record was embedded, 'bytes' for a given payload. */
  readonly payloadKind: 'identity' | 'bytes';
  readonly payloadBits: number;
  /** Over all frames: sums of blocks and pixels, the worst PSNR and capacity, all stable? */
  readonly summary: EmbedSummary;
  readonly frames: readonly FrameEmbedReport[];
}

export interface EmbedSummary {
  readonly frames: number;
  readonly blocksUsed: number;
  readonly changedPixels: number;
  readonly psnrMax65535: number;
  readonly psnrBitsStored: number;
  readonly capacityBits: number;
  readonly stable: boolean;
}

function summarise(frames: readonly FrameEmbedReport[]): EmbedSummary {
  return {
    frames: frames.length,
    blocksUsed: frames.reduce((n, f) => n + f.blocksUsed, 0),
    changedPixels: frames.reduce((n, f) => n + f.changedPixels, 0),
    psnrMax65535: Math.min(...frames.map((f) => f.psnrMax65535)),
    psnrBitsStored: Math.min(...frames.map((f) => f.psnrBitsStored)),
    capacityBits: Math.min(...frames.map((f) => f.capacityBits)),
    stable: frames.every((f) => f.stable),
  };
}

export interface EmbedIdentityResult {
  readonly bytes: Uint8Array;
  readonly report: EmbedIdentityReport;
  /** The transfer syntax of `bytes`: the input's, or Explicit VR LE (big endian, deflated, lossy by rule). */
  readonly transferSyntaxUid: string;
  /** For the sender (e.g. lossy input stored as Explicit VR LE); no patient attribute. */
  readonly warnings: readonly string[];
}

const DEFAULT_MAX_ITERATIONS = 4;

type EmbedFailure = Extract<EmbedResult, { ok: false }>;

function countUsable(map: BlockMap): number {
  let n = 0;
  for (const v of map.usable) n += v;
  return n;
}

/**
 * Hides the identity record of a DICOM file (or `payload`) in every frame's background and returns
 * the new Part 10 bytes (the input is never modified; only Pixel Data changes).
 *
 * Stability: extraction re-segments the stego image. After embedding, the stego frame is segmented
 * again; where its block map differs from the one used, the payload is embedded again into the
 * cover using the stego frame's map (what extraction will see) restricted to the cover's map (so no
 * pixel of the cover's mask and margin ever changes), until the maps agree or the rounds run out
 * (reported; the sealed profiles' error correction absorbs a few differing blocks). A frame whose
 * payload would not be read back fails with EMBEDDING_UNSTABLE rather than being stored unreadable.
 */
export async function embedIdentity(
  bytes: Uint8Array,
  options: EmbedIdentityOptions,
): Promise<EmbedIdentityResult> {
  const { profile, keyRing, segmenter } = options;
  if (profile !== 'paper' && keyRing === undefined) {
    throw pipelineError(
      'KEY_RING_REQUIRED',
      `profile [${profile}] seals its payload: a key ring is required`,
    );
  }
  const marginPx = options.marginPx ?? DEFAULT_MARGIN_PX;
  // Any transfer syntax and colour the adapter handles (docs/formats.md); lossy input and
  // non-images are refused with the codes they had (UNSUPPORTED_TRANSFER_SYNTAX, NOT_AN_IMAGE).
  const opened = await openDicomImageForEmbedding(bytes, options.lossyPolicy);
  const image = opened.image;
  const payload =
    options.payload ??
    identityPayload(
      profile,
      identityRecordOf(
        image.header,
        options.identityFields,
        options.now ?? new Date(),
        keyRing?.activeKeyId ?? '',
      ),
      keyRing,
    );
  const constraints = sampleConstraints(image);
  const maxIterations = Math.max(1, options.maxStabilityIterations ?? DEFAULT_MAX_ITERATIONS);
  const stegoFrames: PixelFrame[] = [];
  const reports: FrameEmbedReport[] = [];
  for (let f = 0; f < image.frames.length; f++) {
    const embedded = await embedFrame(image, f, payload, {
      ...options,
      marginPx,
      constraints,
      maxIterations,
    });
    stegoFrames.push(embedded.stego);
    reports.push(embedded.report);
  }
  return {
    // Patched in place, converted, or re-encoded in the same syntax and verified; the writer never
    // changes the caller's bytes (a node Buffer included).
    bytes: await writeDicomImage(bytes, image, stegoFrames),
    transferSyntaxUid: opened.outputTransferSyntaxUid,
    warnings: opened.warnings,
    report: {
      profile,
      keyId: profile === 'paper' ? null : (keyRing?.activeKeyId ?? null),
      segmenter: segmenter.name,
      marginPx,
      payloadKind: options.payload === undefined ? 'identity' : 'bytes',
      payloadBits: payload.length * 8,
      summary: summarise(reports),
      frames: reports,
    },
  };
}

interface FrameEmbedOptions extends EmbedIdentityOptions {
  readonly marginPx: number;
  readonly constraints: SampleConstraints;
  readonly maxIterations: number;
}

function embedError(frame: number, marginPx: number, profile: ProfileName, result: EmbedFailure) {
  if (result.reason === 'no-background') {
    return pipelineError(
      'NO_BACKGROUND',
      `frame [${frame}] has no usable background block (margin [${marginPx}] px)`,
    );
  }
  // Within the bit capacity, the engine says why (e.g. robust: blocks pinned at the range limits).
  const why = result.neededBits <= result.capacityBits ? `: ${result.message}` : '';
  return pipelineError(
    'PAYLOAD_TOO_LARGE',
    `frame [${frame}]: the payload needs [${result.neededBits}] bits, the background holds [${result.capacityBits}] with profile [${profile}]${why}`,
  );
}

/**
 * Embeds one frame, re-segmenting the stego frame until its block map is the one used (see
 * embedIdentity); keeps the round whose map agreed best when the rounds run out. The robust
 * profile starts at the engine's strength and halves it while its frame would not be read back (a
 * faint MR whose background, lifted by the embedding, looks like tissue to the segmenter).
 */
async function embedFrame(
  image: DicomImage,
  f: number,
  payload: Uint8Array,
  options: FrameEmbedOptions,
): Promise<{ stego: PixelFrame; report: FrameEmbedReport }> {
  const cover = image.frames[f] as PixelFrame;
  const analysis = await analyseFrame(image, cover, options.segmenter, options.marginPx);
  if (options.profile !== 'robust') {
    return finish(f, await stabilityRounds(image, f, cover, analysis, payload, options, undefined));
  }
  let strength = options.robustMaxShift ?? robustMaxShift(cover, options.constraints);
  let outcome: Outcome | undefined;
  for (;;) {
    const attempt = await stabilityRounds(image, f, cover, analysis, payload, options, strength);
    // A weaker embedding that fails outright (capacity) does not replace a stronger one's result.
    if (outcome === undefined || !(attempt instanceof StegoGatewayError)) outcome = attempt;
    if (!(outcome instanceof StegoGatewayError) && outcome.best.recoverable) break;
    if (strength <= 1) break;
    strength = Math.max(1, Math.floor(strength / 2));
  }
  return finish(f, outcome);
}

type Outcome = { best: Round & { stego: PixelFrame }; rounds: number } | StegoGatewayError;

function finish(f: number, outcome: Outcome): { stego: PixelFrame; report: FrameEmbedReport } {
  if (outcome instanceof StegoGatewayError) throw outcome;
  const { best, rounds } = outcome;
  if (!best.recoverable) {
    throw pipelineError(
      'EMBEDDING_UNSTABLE',
      `frame [${f}]: the stego image segments differently from the cover (block map agreement [${best.report.blockMapAgreement.toFixed(4)}] after [${rounds}] rounds) and its payload would not be read back; try another profile or segmenter`,
    );
  }
  return { stego: best.stego, report: { ...best.report, iterations: rounds } };
}

/** The stability rounds at one strength; the engine's refusal comes back as the error. */
async function stabilityRounds(
  image: DicomImage,
  f: number,
  cover: PixelFrame,
  analysis: FrameAnalysis,
  payload: Uint8Array,
  options: FrameEmbedOptions,
  strength: number | undefined,
): Promise<Outcome> {
  const { profile, keyRing, segmenter, marginPx } = options;
  let used = analysis.map;
  let best: (Round & { stego: PixelFrame }) | undefined;
  let rounds = 0;
  const constraints = frameConstraints(image, options.constraints, analysis);
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    const result = embedPayload(cover, used, payload, {
      profile,
      constraints,
      ...(keyRing === undefined ? {} : { keyRing }),
      ...(options.beta === undefined ? {} : { beta: options.beta }),
      ...(options.layoutKey === undefined ? {} : { layoutKey: options.layoutKey }),
      ...(options.randomBytes === undefined ? {} : { randomBytes: options.randomBytes }),
      ...(strength === undefined ? {} : { robustMaxShift: strength }),
    });
    if (!result.ok) {
      // A later round may have too few blocks left: the best earlier round stands.
      if (best !== undefined) break;
      return embedError(f, marginPx, profile, result);
    }
    rounds = iteration;
    const after = await analyseFrame(image, result.stego, segmenter, marginPx);
    const stable = blockMapsEqual(after.map, used);
    // An unstable round may still be read back (the sealed profiles correct a few wrong blocks):
    // try it exactly as extraction will, on the stego frame's own map.
    const recoverable = stable || readsBack(result.stego, after.map, payload, options);
    const round = {
      stego: result.stego,
      recoverable,
      report: {
        ...result.report,
        frame: f,
        iterations: iteration,
        stable,
        blockMapAgreement: blockMapAgreement(after.map, used),
        maskNcc: maskNcc(analysis.mask, after.mask),
        blocksExcluded: countUsable(analysis.map) - countUsable(used),
        ...(strength === undefined ? {} : { robustMaxShift: strength }),
      },
    };
    if (best === undefined || better(round, best)) best = round;
    if (stable) return { best: round, rounds };
    // Embed where the extractor will look (the stego frame's map), but never outside the cover's
    // map: no pixel inside the cover's mask and margin ever changes.
    used = intersectBlockMaps(after.map, analysis.map);
  }
  if (best === undefined) throw new Error('unreachable: at least one embedding round runs');
  return { best, rounds };
}

interface Round {
  readonly recoverable: boolean;
  readonly report: FrameEmbedReport;
}

/** A round that reads back beats one that does not; then the better map agreement wins. */
function better(a: Round, b: Round): boolean {
  if (a.recoverable !== b.recoverable) return a.recoverable;
  return a.report.blockMapAgreement > b.report.blockMapAgreement;
}

/** Whether extraction on `map` gives `payload` back exactly. */
function readsBack(
  stego: PixelFrame,
  map: BlockMap,
  payload: Uint8Array,
  options: FrameEmbedOptions,
): boolean {
  const r = extractPayload(stego, map, {
    profile: options.profile,
    ...(options.keyRing === undefined ? {} : { keyRing: options.keyRing }),
    ...(options.beta === undefined ? {} : { beta: options.beta }),
    ...(options.layoutKey === undefined ? {} : { layoutKey: options.layoutKey }),
  });
  return r.ok && r.payload.length === payload.length && r.payload.every((v, i) => v === payload[i]);
}
