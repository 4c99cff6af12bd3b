import { embedPayload } from '../../../src/stego/embed';
import { blockMapFromMask, DEFAULT_MARGIN_PX, dilateSquare } from '../../../src/stego/block-map';
import { generateKeyRing } from '../../../src/stego/key-ring';
import { SeededRandom } from '../../../src/stego/prng';
import type { ProfileName } from '../../../src/stego/profiles';
import type { Segmenter } from '../../../src/segmentation/segmenter';
import type { BlockMap } from '../../../src/stego/types';
import { maskNcc, type Slice } from './slices';

export function seededBytes(seed: number): (n: number) => Uint8Array {
  const rng = new SeededRandom(seed);
  return (n) => rng.bytes(n);
}

const RING = generateKeyRing(seededBytes(7), 'k-test');

export type StabilityOutcome =
  | { readonly embedded: false; readonly reason: string }
  | {
      readonly embedded: true;
      /** Fraction of blocks whose usability is the same on cover and stego. */
      readonly agreement: number;
      readonly mapsEqual: boolean;
      readonly ncc: number;
      readonly changedPixels: number;
      /** Changed pixels that the cover's mask calls body (must be 0 by construction). */
      readonly changedBodyPixels: number;
      /** Changed pixels within `marginPx` of the cover's body (must be 0 too). */
      readonly changedNearBody: number;
      /** Changed pixels inside the ground-truth label's body (undefined without a label). */
      readonly changedLabelBody: number | undefined;
      readonly payloadBytes: number;
    };

export interface StabilityOptions {
  readonly profile: ProfileName;
  /** Payload sizes to try, largest first; the first that fits is embedded. */
  readonly payloadBytes: readonly number[];
  readonly marginPx?: number;
  readonly seed?: number;
  /** Ground-truth body (models/labels) when the slice has one: changes there are counted too. */
  readonly label?: Uint8Array;
}

function agreement(a: BlockMap, b: BlockMap): number {
  let same = 0;
  for (let i = 0; i < a.usable.length; i++) if (a.usable[i] === b.usable[i]) same++;
  return a.usable.length === 0 ? 1 : same / a.usable.length;
}

/**
 * Segment the cover, embed a random payload with the real engine into the blocks the cover's mask
 * allows, segment the stego frame, and compare: what an extractor would see against what the
 * embedder used.
 */
export async function measureStability(
  segmenter: Segmenter,
  slice: Slice,
  options: StabilityOptions,
): Promise<StabilityOutcome> {
  const marginPx = options.marginPx ?? DEFAULT_MARGIN_PX;
  const frozen = slice.context.padding;
  const cover = await segmenter.segment(slice.frame, slice.context);
  const map = blockMapFromMask(cover, { marginPx, ...(frozen === undefined ? {} : { frozen }) });
  let result: ReturnType<typeof embedPayload> | undefined;
  for (const bytes of options.payloadBytes) {
    const payload = seededBytes(options.seed ?? 1)(bytes);
    result = embedPayload(slice.frame, map, payload, {
      profile: options.profile,
      keyRing: RING,
      constraints: slice.constraints,
      randomBytes: seededBytes((options.seed ?? 1) + 1),
    });
    if (result.ok || result.reason !== 'capacity') break;
  }
  if (result === undefined) return { embedded: false, reason: 'no payload size given' };
  if (!result.ok) return { embedded: false, reason: result.reason };
  const stego = result.stego;
  const after = await segmenter.segment(stego, slice.context);
  const mapAfter = blockMapFromMask(after, {
    marginPx,
    ...(frozen === undefined ? {} : { frozen }),
  });
  let changedPixels = 0;
  let changedBodyPixels = 0;
  let changedNearBody = 0;
  let changedLabelBody = 0;
  const label = options.label;
  const { columns } = slice.frame;
  const dilatedCover = dilateSquare(cover.data, slice.frame.rows, columns, marginPx);
  for (let i = 0; i < stego.samples.length; i++) {
    if (stego.samples[i] === slice.frame.samples[i]) continue;
    changedPixels++;
    if (cover.data[i] !== 0) changedBodyPixels++;
    if (dilatedCover[i] !== 0) changedNearBody++;
    if (label !== undefined && label[i] !== 0) changedLabelBody++;
  }
  return {
    embedded: true,
    agreement: agreement(map, mapAfter),
    mapsEqual: agreement(map, mapAfter) === 1,
    ncc: maskNcc(cover.data, after.data),
    changedPixels,
    changedBodyPixels,
    changedNearBody,
    changedLabelBody: label === undefined ? undefined : changedLabelBody,
    payloadBytes: result.report.payloadBits / 8,
  };
}
