import { gridPermutation, slotCarriers } from './layout';
import { TernaryCode } from './ternary';
import type { BlockMap } from './types';

/**
 * Planning of the fidelity profile (fidelity.ts): the levels of the ternary code, the header's
 * fixed slots, the body's slots and Reed-Solomon codewords, and the choice of level and parity.
 */
/** A level of the ternary code. */
export interface Level {
  readonly id: number;
  /** Blocks per slot; a slot carries one RS symbol. */
  readonly slotBlocks: number;
  /** Pixels per ternary unit (consecutive pixels of the slot's blocks in raster order). */
  readonly unitPixels: number;
  readonly trits: number;
  /** RS symbol size m: 2^m <= (3^trits)^(units per slot). */
  readonly symbolBits: number;
}

/**
 * From dense to sparse. Bits per block / changed pixels per block (when written):
 * 0: 15 / 10.7 (t=1 per pixel); 1: 12 / 3.6 (t=2 per 4 px); 2: 4.5 / 0.96 (t=3 per block);
 * 3: 2 / 0.33 (t=4 per 3 blocks); 4: 0.94 / 0.125 (t=5 per 8 blocks).
 */
export const LEVELS: readonly Level[] = [
  { id: 0, slotBlocks: 1, unitPixels: 1, trits: 1, symbolBits: 15 },
  { id: 1, slotBlocks: 1, unitPixels: 4, trits: 2, symbolBits: 12 },
  { id: 2, slotBlocks: 2, unitPixels: 16, trits: 3, symbolBits: 9 },
  { id: 3, slotBlocks: 6, unitPixels: 48, trits: 4, symbolBits: 12 },
  { id: 4, slotBlocks: 16, unitPixels: 128, trits: 5, symbolBits: 15 },
];

/** Payloads up to this size (identity records) get parity for a few % block-map flips. */
export const SMALL_PAYLOAD_BITS = 4096;

export const LAYOUT_LABEL = 'fidelity';
export const MAGIC = 0x5a;
export const VERSION = 1;
export const HEADER_BYTES = 8;
export const HEADER_PARITY = 32;
/** Header: 40 RS bytes as 80 nibbles, one per block (16 of the 27 ternary states). */
export const HEADER_SLOTS = (HEADER_BYTES + HEADER_PARITY) * 2;
export const LENGTH_BYTES = 3;
/** Key ids assumed by payloadCapacity (the real overhead is computed at embedding). */
export const ASSUMED_KEY_ID_BYTES = 16;

export const codes = new Map<string, TernaryCode>();
export function ternary(trits: number, length: number): TernaryCode {
  const key = `${trits}:${length}`;
  let c = codes.get(key);
  if (c === undefined) {
    c = new TernaryCode(trits, length);
    codes.set(key, c);
  }
  return c;
}

export function headerRegion(totalBlocks: number): number {
  return Math.min(
    Math.floor(totalBlocks / 2),
    Math.max(HEADER_SLOTS * 4, Math.ceil(totalBlocks / 16)),
  );
}

export interface Geometry {
  readonly perm: Uint32Array;
  readonly total: number;
  readonly headerEnd: number;
}

export function geometry(map: BlockMap, layoutKey: Uint8Array): Geometry {
  const total = map.blockRows * map.blockColumns;
  return {
    perm: gridPermutation(layoutKey, LAYOUT_LABEL, map.blockRows, map.blockColumns),
    total,
    headerEnd: headerRegion(total),
  };
}

export interface BodyPlan {
  readonly level: Level;
  readonly slots: number;
  readonly nsym: number;
  readonly carriers: Int32Array;
  readonly codewords: number;
  readonly dataBits: number;
}

export function slotBlocks(level: Level): number {
  return level.slotBlocks;
}

export function unitsPerSlot(level: Level): number {
  return (16 * level.slotBlocks) / level.unitPixels;
}

/** Codewords are capped at 1023 symbols: erasure decoding costs O(n * erasures) per codeword. */
export const MAX_CODEWORD = 1023;

export function codewordCount(slots: number, level: Level): number {
  return Math.ceil(slots / Math.min(MAX_CODEWORD, (1 << level.symbolBits) - 1));
}

export function codewordLength(c: number, slots: number, codewords: number): number {
  return Math.floor(slots / codewords) + (c < slots % codewords ? 1 : 0);
}

/** Evaluates a body of `slots` slots: erasures per codeword and the data bits left for `rho`. */
export function evaluate(
  g: Geometry,
  map: BlockMap,
  level: Level,
  slots: number,
  rho: number,
): BodyPlan | undefined {
  const perSlot = slotBlocks(level);
  if (slots < 1 || slots * perSlot > g.total - g.headerEnd) return undefined;
  const carriers = slotCarriers(g.perm, g.headerEnd, g.total, slots, perSlot, map);
  const codewords = codewordCount(slots, level);
  const erasures = new Int32Array(codewords);
  for (let j = 0; j < slots; j++)
    if ((carriers[j * perSlot] as number) < 0)
      erasures[j % codewords] = (erasures[j % codewords] as number) + 1;
  let maxErasures = 0;
  for (const e of erasures) maxErasures = Math.max(maxErasures, e);
  const nShort = Math.floor(slots / codewords);
  const nsym = maxErasures + 2 * Math.ceil(rho * nShort);
  if (nsym >= nShort) return undefined;
  let dataSymbols = 0;
  for (let c = 0; c < codewords; c++) dataSymbols += codewordLength(c, slots, codewords) - nsym;
  return { level, slots, nsym, carriers, codewords, dataBits: dataSymbols * level.symbolBits };
}

export const SCAN_STEPS = 40;

/** Smallest body (for this level and parity margin) with at least `needBits` data bits. */
export function plan(
  g: Geometry,
  map: BlockMap,
  level: Level,
  needBits: number,
  rho: number,
): BodyPlan | undefined {
  const maxSlots = Math.floor((g.total - g.headerEnd) / slotBlocks(level));
  let slots = Math.ceil(needBits / level.symbolBits / Math.max(0.05, 1 - 2 * rho));
  for (let iteration = 0; iteration < 12 && slots <= maxSlots; iteration++) {
    const p = evaluate(g, map, level, slots, rho);
    if (p !== undefined && p.dataBits >= needBits) return p;
    const deficit = p === undefined ? slots : Math.ceil((needBits - p.dataBits) / level.symbolBits);
    slots = Math.min(maxSlots + 1, slots + Math.max(deficit, Math.ceil(slots * 0.03)));
  }
  // Near capacity the iteration can overshoot: scan the same grid as the capacity figure.
  for (let f = 1; f <= SCAN_STEPS; f++) {
    const p = evaluate(g, map, level, Math.floor((maxSlots * f) / SCAN_STEPS), rho);
    if (p !== undefined && p.dataBits >= needBits) return p;
  }
  return undefined;
}

/**
 * Parity margins and the levels to try with each, in order. Small payloads get parity for ~5%
 * block-map flips on levels whose slots are short (a flip disturbs a slot when it falls in the part
 * of the bucket read up to its last carrier); large payloads get the sparsest level that fits
 * (the fewest changes), with thin parity.
 */
export function strategies(needBits: number): { rho: number; levels: readonly Level[] }[] {
  const all = [...LEVELS].reverse();
  const short = all.filter((l) => l.slotBlocks <= 2);
  if (needBits <= SMALL_PAYLOAD_BITS) {
    // One block per slot reads the shortest bucket prefix (1/p blocks for a usable fraction p): the
    // fewest slots disturbed per flipped block, and 12 bits per slot.
    const oneBlock = LEVELS.filter((l) => l.id === 1);
    return [
      { rho: 0.25, levels: oneBlock },
      { rho: 0.16, levels: short },
      { rho: 0.08, levels: short },
      { rho: 0.02, levels: all },
      { rho: 0, levels: all },
    ];
  }
  return [
    { rho: 0.003, levels: all },
    { rho: 0, levels: all },
  ];
}
