import { blockPixels } from './frame-geometry';
import type { KeyRing } from './key-ring';
import { slotCarriers } from './layout';
import { GF256, galoisField, rsDecode, rsEncode } from './reed-solomon';
import { open, seal, sealOverheadBytes } from './seal';
import type { BlockMap, PixelFrame, SampleConstraints } from './types';
import { PROFILE_CODES } from './profiles';
import { bytesToSymbols, symbolsToBytes } from './bits';
import {
  ASSUMED_KEY_ID_BYTES,
  HEADER_BYTES,
  HEADER_PARITY,
  HEADER_SLOTS,
  LENGTH_BYTES,
  LEVELS,
  MAGIC,
  SCAN_STEPS,
  VERSION,
  codewordCount,
  codewordLength,
  evaluate,
  geometry,
  plan,
  slotBlocks,
  strategies,
  ternary,
  unitsPerSlot,
  type BodyPlan,
} from './fidelity-plan';

/**
 * The `fidelity` profile (docs/method.md): sealed payload -> Reed-Solomon over GF(2^m) with
 * erasures -> symbols carried by ternary Hamming (+-1) matrix embedding in slots of background
 * blocks placed by the keyed absolute layout. A small header (fixed slots, strong RS) says which
 * level and code the body uses.
 */

export interface ProfileEmbedOk {
  readonly ok: true;
  readonly samples: Int32Array;
  readonly embeddedBits: number;
  readonly blocksUsed: number;
}
export interface ProfileEmbedFail {
  readonly ok: false;
  readonly reason: 'capacity';
  readonly neededBits: number;
  readonly capacityBits: number;
  readonly message?: string;
}

export function fidelityEmbed(
  cover: PixelFrame,
  map: BlockMap,
  payload: Uint8Array,
  ring: KeyRing,
  constraints: SampleConstraints,
  layoutKey: Uint8Array,
  randomBytes: (n: number) => Uint8Array,
): ProfileEmbedOk | ProfileEmbedFail {
  const g = geometry(map, layoutKey);
  const needBits = 8 * (LENGTH_BYTES + sealOverheadBytes(ring.activeKeyId) + payload.length);
  let chosen: BodyPlan | undefined;
  for (const { rho, levels } of strategies(needBits)) {
    for (const level of levels) {
      chosen = plan(g, map, level, needBits, rho);
      if (chosen !== undefined) break;
    }
    if (chosen !== undefined) break;
  }
  if (chosen === undefined) {
    const capacityBits = fidelityCapacityBits(
      cover,
      map,
      layoutKey,
      Buffer.byteLength(ring.activeKeyId, 'utf8'),
    );
    return { ok: false, reason: 'capacity', neededBits: 8 * payload.length, capacityBits };
  }
  const header = new Uint8Array(HEADER_BYTES);
  header[0] = MAGIC;
  header[1] = (VERSION << 4) | PROFILE_CODES.fidelity;
  header[2] = chosen.level.id;
  header[3] = (chosen.slots >>> 16) & 0xff;
  header[4] = (chosen.slots >>> 8) & 0xff;
  header[5] = chosen.slots & 0xff;
  header[6] = (chosen.nsym >>> 8) & 0xff;
  header[7] = chosen.nsym & 0xff;
  const blob = seal(ring, payload, header, randomBytes);
  const body = new Uint8Array(Math.floor(chosen.dataBits / 8));
  body[0] = (blob.length >>> 16) & 0xff;
  body[1] = (blob.length >>> 8) & 0xff;
  body[2] = blob.length & 0xff;
  body.set(blob, LENGTH_BYTES);
  const samples = Int32Array.from(cover.samples);
  let blocksUsed = 0;
  // Header: 64 nibbles, one block each.
  const headerCodeword = rsEncode(GF256, header, HEADER_PARITY);
  const headerCarriers = slotCarriers(g.perm, 0, g.headerEnd, HEADER_SLOTS, 1, map);
  const code3 = ternary(3, 16);
  const pixels16 = new Int32Array(16);
  for (let s = 0; s < HEADER_SLOTS; s++) {
    const block = headerCarriers[s] as number;
    if (block < 0) continue;
    const byte = headerCodeword[s >> 1] as number;
    const nibble = s & 1 ? byte & 0x0f : byte >> 4;
    blockPixels(cover, map, [block], pixels16);
    code3.embed(samples, pixels16, nibble, constraints);
    blocksUsed++;
  }
  // Body.
  const level = chosen.level;
  const m = level.symbolBits;
  const dataSymbols = bytesToSymbols(body, m, chosen.dataBits / m);
  const perSlot = slotBlocks(level);
  const code = ternary(level.trits, level.unitPixels);
  const units = unitsPerSlot(level);
  const slotPixels = new Int32Array(16 * perSlot);
  const gf = galoisField(m);
  let offset = 0;
  for (let c = 0; c < chosen.codewords; c++) {
    const n = codewordLength(c, chosen.slots, chosen.codewords);
    const k = n - chosen.nsym;
    const cw = rsEncode(gf, dataSymbols.subarray(offset, offset + k), chosen.nsym);
    offset += k;
    for (let pos = 0; pos < n; pos++) {
      const slot = pos * chosen.codewords + c;
      if ((chosen.carriers[slot * perSlot] as number) < 0) continue;
      let value = cw[pos] as number;
      blockPixels(
        cover,
        map,
        chosen.carriers.subarray(slot * perSlot, (slot + 1) * perSlot),
        slotPixels,
      );
      for (let u = 0; u < units; u++) {
        const unit = slotPixels.subarray(u * level.unitPixels, (u + 1) * level.unitPixels);
        code.embed(samples, unit, value % code.states, constraints);
        value = Math.floor(value / code.states);
      }
      blocksUsed += perSlot;
    }
  }
  // Self-check: symbols that no allowed change could write (pixels pinned at the range limits) are
  // errors for the code; make sure they stayed correctable.
  const check = fidelityExtract({ ...cover, samples }, map, ring, layoutKey);
  if (!check.ok || !Buffer.from(check.payload).equals(Buffer.from(payload))) {
    return {
      ok: false,
      reason: 'capacity',
      neededBits: 8 * payload.length,
      capacityBits: fidelityCapacityBits(
        cover,
        map,
        layoutKey,
        Buffer.byteLength(ring.activeKeyId, 'utf8'),
      ),
      message: 'too many background pixels are pinned at the range limits to carry this payload',
    };
  }
  return {
    ok: true,
    samples,
    embeddedBits: 8 * (HEADER_BYTES + HEADER_PARITY) + chosen.slots * m,
    blocksUsed,
  };
}

export type ProfileExtract =
  | { ok: true; payload: Uint8Array; keyId: string; correctedSymbols: number; erasures: number }
  | { ok: false; reason: 'no-payload' | 'wrong-key' | 'corrupted'; message: string };

export function fidelityExtract(
  stego: PixelFrame,
  map: BlockMap,
  ring: KeyRing | undefined,
  layoutKey: Uint8Array,
): ProfileExtract {
  const g = geometry(map, layoutKey);
  const samples = stego.samples;
  const code3 = ternary(3, 16);
  const pixels16 = new Int32Array(16);
  const headerCarriers = slotCarriers(g.perm, 0, g.headerEnd, HEADER_SLOTS, 1, map);
  const received = new Array<number>(HEADER_BYTES + HEADER_PARITY).fill(0);
  const erased = new Set<number>();
  for (let s = 0; s < HEADER_SLOTS; s++) {
    const block = headerCarriers[s] as number;
    let nibble = -1;
    if (block >= 0) {
      blockPixels(stego, map, [block], pixels16);
      const state = code3.syndrome(samples, pixels16);
      if (state < 16) nibble = state;
    }
    if (nibble < 0) erased.add(s >> 1);
    else received[s >> 1] = (received[s >> 1] as number) | (s & 1 ? nibble : nibble << 4);
  }
  const headerResult = rsDecode(GF256, received, HEADER_PARITY, [...erased]);
  const none = { ok: false, reason: 'no-payload', message: 'no fidelity payload found' } as const;
  if (!headerResult.ok) return none;
  const header = Uint8Array.from(headerResult.message);
  if (header[0] !== MAGIC || header[1] !== ((VERSION << 4) | PROFILE_CODES.fidelity)) return none;
  const level = LEVELS[header[2] as number];
  const slots =
    ((header[3] as number) << 16) | ((header[4] as number) << 8) | (header[5] as number);
  const nsym = ((header[6] as number) << 8) | (header[7] as number);
  if (level === undefined)
    return { ok: false, reason: 'corrupted', message: `unknown fidelity level [${header[2]}]` };
  const perSlot = slotBlocks(level);
  const codewords = codewordCount(slots, level);
  if (
    slots < 1 ||
    slots * perSlot > g.total - g.headerEnd ||
    nsym >= Math.floor(slots / codewords)
  ) {
    return {
      ok: false,
      reason: 'corrupted',
      message: `fidelity header out of range [slots ${slots}, parity ${nsym}]`,
    };
  }
  const carriers = slotCarriers(g.perm, g.headerEnd, g.total, slots, perSlot, map);
  const m = level.symbolBits;
  const gf = galoisField(m);
  const code = ternary(level.trits, level.unitPixels);
  const units = unitsPerSlot(level);
  const slotPixels = new Int32Array(16 * perSlot);
  const symbolLimit = 1 << m;
  const data: number[] = [];
  let corrected = headerResult.corrected;
  let erasures = headerResult.erasures;
  for (let c = 0; c < codewords; c++) {
    const n = codewordLength(c, slots, codewords);
    const cw = new Array<number>(n).fill(0);
    const erase: number[] = [];
    for (let pos = 0; pos < n; pos++) {
      const slot = pos * codewords + c;
      if ((carriers[slot * perSlot] as number) < 0) {
        erase.push(pos);
        continue;
      }
      let value = 0;
      let scale = 1;
      blockPixels(stego, map, carriers.subarray(slot * perSlot, (slot + 1) * perSlot), slotPixels);
      for (let u = 0; u < units; u++) {
        const unit = slotPixels.subarray(u * level.unitPixels, (u + 1) * level.unitPixels);
        value += code.syndrome(samples, unit) * scale;
        scale *= code.states;
      }
      if (value >= symbolLimit) erase.push(pos);
      else cw[pos] = value;
    }
    const r = rsDecode(gf, cw, nsym, erase);
    if (!r.ok) {
      return {
        ok: false,
        reason: 'corrupted',
        message: `fidelity payload found but not correctable [codeword ${c} of ${codewords}]`,
      };
    }
    corrected += r.corrected;
    erasures += r.erasures;
    for (const v of r.message) data.push(v);
  }
  const body = symbolsToBytes(data, m);
  const blobLength = ((body[0] ?? 0) << 16) | ((body[1] ?? 0) << 8) | (body[2] ?? 0);
  if (LENGTH_BYTES + blobLength > body.length) {
    return {
      ok: false,
      reason: 'corrupted',
      message: `sealed length exceeds the body [${blobLength}]`,
    };
  }
  const opened = open(ring, body.subarray(LENGTH_BYTES, LENGTH_BYTES + blobLength), header);
  if (!opened.ok) return opened;
  return {
    ok: true,
    payload: opened.plaintext,
    keyId: opened.keyId,
    correctedSymbols: corrected,
    erasures,
  };
}

/**
 * The largest payload (bits) that fits without flip margin. The dense levels (one block per slot)
 * hold the most; their data grows with the number of slots up to one slot per body block.
 */
export function fidelityCapacityBits(
  frame: PixelFrame,
  map: BlockMap,
  layoutKey: Uint8Array,
  keyIdBytes = ASSUMED_KEY_ID_BYTES,
): number {
  void frame;
  const g = geometry(map, layoutKey);
  let best = 0;
  for (const level of LEVELS.filter((l) => l.slotBlocks === 1)) {
    const maxSlots = Math.floor((g.total - g.headerEnd) / slotBlocks(level));
    // One slot per body block holds the most (erasures cost parity one for one).
    for (const f of [SCAN_STEPS]) {
      const p = evaluate(g, map, level, Math.floor((maxSlots * f) / SCAN_STEPS), 0);
      if (p !== undefined) best = Math.max(best, p.dataBits);
    }
  }
  const overhead = 8 * (LENGTH_BYTES + 1 + keyIdBytes + 12 + 16);
  return Math.max(0, Math.floor((best - overhead) / 8) * 8);
}
