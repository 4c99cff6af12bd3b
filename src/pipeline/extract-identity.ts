import { readAnyDicomImage, type DicomImage } from '../dicom';
import type { Segmenter } from '../segmentation/segmenter';
import type { ExtractResult } from '../stego/api';
import { DEFAULT_MARGIN_PX } from '../stego/block-map';
import { extractPayload } from '../stego/embed';
import type { KeyRing } from '../stego/key-ring';
import type { ProfileName } from '../stego/profiles';
import type { BlockMap, PixelFrame } from '../stego/types';
import { analyseFrame } from './frame-context';
import { readHiddenIdentity, type HiddenIdentity } from './identity-payload';

export interface ExtractIdentityOptions {
  readonly keyRing?: KeyRing;
  /** Without it, every profile is tried. */
  readonly profile?: ProfileName;
  readonly segmenter: Segmenter;
  readonly marginPx?: number;
  /** The keywords the record was built from (robust digest check; default list otherwise). */
  readonly identityFields?: readonly string[];
  readonly beta?: number;
  readonly layoutKey?: Uint8Array;
}

export type FrameExtraction = { readonly frame: number } & ExtractResult;

export type ExtractFailure = 'no-payload' | 'wrong-key' | 'corrupted';

export type ExtractIdentityResult =
  | {
      readonly ok: true;
      readonly profile: ProfileName;
      readonly keyId: string | null;
      /** The payload of the first frame that gave one. */
      readonly payload: Uint8Array;
      readonly identity: HiddenIdentity;
      /** Whether every frame that gave a payload gave the same bytes. */
      readonly framesAgree: boolean;
      readonly frames: readonly FrameExtraction[];
    }
  | {
      readonly ok: false;
      readonly reason: ExtractFailure;
      readonly message: string;
      readonly frames: readonly FrameExtraction[];
    };

/** The most telling failure across frames: a wrong key beats corruption beats nothing found. */
function worstFailure(frames: readonly FrameExtraction[]): {
  reason: ExtractFailure;
  message: string;
} {
  for (const reason of ['wrong-key', 'corrupted', 'no-payload'] as const) {
    const hit = frames.find((f) => !f.ok && f.reason === reason);
    if (hit !== undefined && !hit.ok) return { reason, message: hit.message };
  }
  return { reason: 'no-payload', message: 'the image has no frame' };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Reads the hidden payload of every frame of a parsed image. */
export async function extractFromImage(
  image: DicomImage,
  options: ExtractIdentityOptions,
): Promise<ExtractIdentityResult> {
  const marginPx = options.marginPx ?? DEFAULT_MARGIN_PX;
  const frames: FrameExtraction[] = [];
  for (let f = 0; f < image.frames.length; f++) {
    const frame = image.frames[f] as PixelFrame;
    const { map, looseMap } = await analyseFrame(image, frame, options.segmenter, marginPx);
    const read = (m: BlockMap): ExtractResult =>
      extractPayload(frame, m, {
        ...(options.profile === undefined ? {} : { profile: options.profile }),
        ...(options.keyRing === undefined ? {} : { keyRing: options.keyRing }),
        ...(options.beta === undefined ? {} : { beta: options.beta }),
        ...(options.layoutKey === undefined ? {} : { layoutKey: options.layoutKey }),
      });
    let result = read(map);
    // A clean stego frame reads on the exact map; a noisy copy may need the loose one (see
    // FrameAnalysis.looseMap). A wrong key stays the answer: another map cannot open it.
    if (!result.ok && result.reason !== 'wrong-key' && looseMap !== undefined) {
      const loose = read(looseMap());
      if (loose.ok) result = loose;
    }
    frames.push({ frame: f, ...result });
  }
  const found = frames.filter((f): f is FrameExtraction & { ok: true } => f.ok);
  const first = found[0];
  if (first === undefined) return { ok: false, ...worstFailure(frames), frames };
  return {
    ok: true,
    profile: first.profile,
    keyId: first.keyId ?? null,
    payload: first.payload,
    identity: readHiddenIdentity(
      first.profile,
      first.payload,
      image.header,
      options.identityFields,
      options.keyRing,
    ),
    framesAgree: found.every(
      (f) => f.profile === first.profile && sameBytes(f.payload, first.payload),
    ),
    frames,
  };
}

/** Reads the hidden identity (or payload) of a DICOM file; the input is never modified. */
export async function extractIdentity(
  bytes: Uint8Array,
  options: ExtractIdentityOptions,
): Promise<ExtractIdentityResult> {
  return extractFromImage(await readAnyDicomImage(bytes), options);
}
