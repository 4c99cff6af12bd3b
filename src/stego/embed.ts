import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { EmbedOptions, EmbedReport, EmbedResult, ExtractOptions, ExtractResult } from './api';
import { countUsableBlocks } from './block-map';
import { StegoGatewayError } from './errors';
import { fidelityCapacityBits, fidelityEmbed, fidelityExtract } from './fidelity';
import { mapMismatch } from './frame-geometry';
import { LAYOUT_KEY_DEFAULT } from './layout';
import { capacityBppBackground, capacityBppImage, psnrFromMse } from './metrics';
import { isProfileName, type ProfileName } from './profiles';
import { robustCapacityBits, robustEmbed, robustExtract } from './robust';
import { paperCapacityBits, paperEmbed, paperExtract } from './paper';
import type { BlockMap, PixelFrame } from './types';

/** The engine's options, and the robust profile's strength (robust-strength.ts). */
export interface EmbedPayloadOptions extends EmbedOptions {
  /**
   * Robust profile: the largest shift of one block in stored units (default: 2% of the image's
   * contrast). The pipeline lowers it when its segmenter reacts to the embedding.
   */
  readonly robustMaxShift?: number;
}

function checkInputs(frame: PixelFrame, map: BlockMap): void {
  const problem =
    Number.isInteger(frame.bitsStored) && frame.bitsStored >= 1 && frame.bitsStored <= 32
      ? mapMismatch(frame, map)
      : `bits stored out of range [${frame.bitsStored}]`;
  if (problem !== undefined)
    throw new StegoGatewayError('INVALID_FRAME', problem, { httpStatus: 422 });
}

function checkOptions(options: EmbedPayloadOptions, payload: Uint8Array): void {
  const c = options.constraints;
  const badRange = (lo: number, hi: number): boolean =>
    !Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi;
  if (
    c === undefined ||
    badRange(c.minValue, c.maxValue) ||
    c.forbidden.some(([lo, hi]) => badRange(lo, hi))
  ) {
    throw new StegoGatewayError(
      'INVALID_CONSTRAINTS',
      `sample constraints need integer ranges with min <= max [${c === undefined ? 'missing' : `${c.minValue}..${c.maxValue}`}]`,
      { httpStatus: 422 },
    );
  }
  if (options.beta !== undefined && !(Number.isFinite(options.beta) && options.beta > 0)) {
    throw new StegoGatewayError(
      'INVALID_OPTION',
      `beta must be a positive number [${String(options.beta)}]`,
      {
        httpStatus: 400,
      },
    );
  }
  const maxShift = options.robustMaxShift;
  if (maxShift !== undefined && !(Number.isInteger(maxShift) && maxShift >= 1)) {
    throw new StegoGatewayError(
      'INVALID_OPTION',
      `robustMaxShift must be an integer >= 1 [${String(maxShift)}]`,
      { httpStatus: 400 },
    );
  }
  if (!(payload instanceof Uint8Array)) {
    throw new StegoGatewayError('INVALID_OPTION', 'payload must be a Uint8Array', {
      httpStatus: 400,
    });
  }
}

function requireRing(options: EmbedOptions): NonNullable<EmbedOptions['keyRing']> {
  if (options.keyRing === undefined) {
    throw new StegoGatewayError(
      'KEY_RING_REQUIRED',
      `profile [${options.profile}] seals its payload: a key ring is required`,
      { httpStatus: 400 },
    );
  }
  return options.keyRing;
}

/** Embeds `payload` into the usable blocks of `cover` (never modified) with the chosen profile. */
export function embedPayload(
  cover: PixelFrame,
  map: BlockMap,
  payload: Uint8Array,
  options: EmbedPayloadOptions,
): EmbedResult {
  checkInputs(cover, map);
  if (!isProfileName(options.profile)) {
    throw new StegoGatewayError('UNKNOWN_PROFILE', `unknown profile [${String(options.profile)}]`, {
      httpStatus: 400,
    });
  }
  checkOptions(options, payload);
  const blocksAvailable = countUsableBlocks(map);
  const layoutKey = options.layoutKey ?? LAYOUT_KEY_DEFAULT;
  const randomBytes = options.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n)));
  if (blocksAvailable === 0) {
    return {
      ok: false,
      reason: 'no-background',
      neededBits: 8 * payload.length,
      capacityBits: 0,
      message: 'the image has no usable background block',
    };
  }
  const capacityBits = payloadCapacityBits(cover, map, options.profile, layoutKey);
  let result:
    | ReturnType<typeof fidelityEmbed>
    | ReturnType<typeof robustEmbed>
    | ReturnType<typeof paperEmbed>;
  switch (options.profile) {
    case 'fidelity':
      result = fidelityEmbed(
        cover,
        map,
        payload,
        requireRing(options),
        options.constraints,
        layoutKey,
        randomBytes,
      );
      break;
    case 'robust':
      result = robustEmbed(
        cover,
        map,
        payload,
        requireRing(options),
        options.constraints,
        layoutKey,
        options.robustMaxShift === undefined ? {} : { maxShift: options.robustMaxShift },
      );
      break;
    case 'paper':
      result = paperEmbed(cover, map, payload, options.constraints, options.beta);
      break;
  }
  if (!result.ok) {
    return {
      ok: false,
      reason: 'capacity',
      neededBits: result.neededBits,
      capacityBits: result.capacityBits,
      message:
        'message' in result && result.message !== undefined
          ? result.message
          : `payload of ${result.neededBits} bits exceeds the ${options.profile} capacity of this image [${result.capacityBits} bits]`,
    };
  }
  const stego: PixelFrame = {
    rows: cover.rows,
    columns: cover.columns,
    bitsStored: cover.bitsStored,
    signed: cover.signed,
    samples: result.samples,
  };
  let squared = 0;
  let changed = 0;
  for (let i = 0; i < cover.samples.length; i++) {
    const d = (result.samples[i] as number) - (cover.samples[i] as number);
    if (d !== 0) {
      changed++;
      squared += d * d;
    }
  }
  const meanSquared = squared / cover.samples.length;
  const report: EmbedReport = {
    profile: options.profile,
    payloadBits: 8 * payload.length,
    embeddedBits: result.embeddedBits,
    blocksAvailable,
    blocksUsed: result.blocksUsed,
    changedPixels: changed,
    mse: meanSquared,
    psnrMax65535: psnrFromMse(meanSquared, 65535),
    psnrBitsStored: psnrFromMse(meanSquared, 2 ** cover.bitsStored - 1),
    capacityBits,
    capacityBppImage: capacityBppImage(capacityBits, cover),
    capacityBppBackground: capacityBppBackground(capacityBits, blocksAvailable),
    ...('beta' in result ? { beta: result.beta, qrNcc: result.qrNcc } : {}),
  };
  return { ok: true, stego, report };
}

/** Extracts a payload; without `options.profile` each profile is tried in turn. */
export function extractPayload(
  stego: PixelFrame,
  map: BlockMap,
  options: ExtractOptions,
): ExtractResult {
  checkInputs(stego, map);
  const layoutKey = options.layoutKey ?? LAYOUT_KEY_DEFAULT;
  const profiles: readonly ProfileName[] =
    options.profile === undefined ? ['fidelity', 'robust', 'paper'] : [options.profile];
  let best: ExtractResult = { ok: false, reason: 'no-payload', message: 'no payload found' };
  for (const profile of profiles) {
    let r: ExtractResult;
    switch (profile) {
      case 'fidelity': {
        const f = fidelityExtract(stego, map, options.keyRing, layoutKey);
        r = f.ok ? { ...f, profile } : f;
        break;
      }
      case 'robust': {
        const f = robustExtract(stego, map, options.keyRing, layoutKey);
        r = f.ok ? { ...f, profile } : f;
        break;
      }
      case 'paper': {
        const f = paperExtract(stego, map, options.beta);
        r = f.ok
          ? {
              ok: true,
              profile,
              payload: f.payload,
              correctedSymbols: 0,
              erasures: 0,
              qrNcc: f.qrNcc,
            }
          : f;
        break;
      }
      default:
        throw new StegoGatewayError('UNKNOWN_PROFILE', `unknown profile [${String(profile)}]`, {
          httpStatus: 400,
        });
    }
    if (r.ok) return r;
    // A found-but-failed result says more than "nothing here".
    if (best.ok === false && best.reason === 'no-payload') best = r;
  }
  return best;
}

/** User payload bits that fit in this image with this profile. */
export function payloadCapacityBits(
  frame: PixelFrame,
  map: BlockMap,
  profile: ProfileName,
  layoutKey: Uint8Array = LAYOUT_KEY_DEFAULT,
): number {
  checkInputs(frame, map);
  switch (profile) {
    case 'fidelity':
      return fidelityCapacityBits(frame, map, layoutKey);
    case 'robust':
      return robustCapacityBits(map, layoutKey);
    case 'paper':
      return paperCapacityBits(map);
    default:
      throw new StegoGatewayError('UNKNOWN_PROFILE', `unknown profile [${String(profile)}]`, {
        httpStatus: 400,
      });
  }
}
