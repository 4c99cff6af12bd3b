import { walkPart10 } from '../../src/dicom/tag-walker';

/**
 * Seeded mutations of real DICOM files, for fuzzing the parser now and the STOW endpoint later:
 * bit flips, truncation, corrupted length fields, swapped tags, corrupted VRs, spliced bytes. The
 * same seed always gives the same cases, so a failure names a case that can be replayed.
 */

export interface Mutation {
  /** Replayable name: seed file, case number and what was done. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** mulberry32: a small, good-enough seeded generator (not for cryptography). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Landmark {
  /** Offset of an element's tag. */
  readonly at: number;
  /** Offset of its length field and its size in bytes (2 or 4). */
  readonly lengthAt: number;
  readonly lengthBytes: 2 | 4;
  /** Offset of its explicit VR, when it has one. */
  readonly vrAt: number | undefined;
}

const LONG_VRS = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

/** Where the top-level elements of a file lie (empty when the walker cannot read it). */
function landmarks(bytes: Uint8Array): Landmark[] {
  try {
    return walkPart10(bytes).elements.map((e) => {
      if (e.vr === undefined)
        return {
          at: e.elementOffset,
          lengthAt: e.elementOffset + 4,
          lengthBytes: 4,
          vrAt: undefined,
        };
      const long = LONG_VRS.has(e.vr);
      return {
        at: e.elementOffset,
        lengthAt: e.elementOffset + (long ? 8 : 6),
        lengthBytes: long ? 4 : 2,
        vrAt: e.elementOffset + 4,
      };
    });
  } catch {
    return [];
  }
}

const INTERESTING_LENGTHS = [0, 1, 2, 3, 0xff, 0xffff, 0x7fffffff, 0xfffffffe, 0xffffffff];

type Operator = (
  input: Uint8Array,
  random: () => number,
  marks: readonly Landmark[],
) => { what: string; bytes: Uint8Array };

const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;
const offsetIn = (length: number, random: () => number): number =>
  Math.floor(random() * Math.max(1, length));

const OPERATORS: readonly Operator[] = [
  function flipBits(input, random) {
    const bytes = input.slice();
    const flips = 1 + Math.floor(random() * 8);
    for (let i = 0; i < flips; i++) {
      const at = offsetIn(bytes.length, random);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(random() * 8));
    }
    return { what: `flip ${flips} bits`, bytes };
  },
  function truncate(input, random) {
    const length = offsetIn(input.length, random);
    return { what: `truncate to ${length}`, bytes: input.slice(0, length) };
  },
  function corruptLength(input, random, marks) {
    const bytes = input.slice();
    if (marks.length === 0) return { what: 'no landmark: unchanged', bytes };
    const mark = pick(marks, random);
    const view = new DataView(bytes.buffer);
    const original =
      mark.lengthBytes === 2
        ? view.getUint16(mark.lengthAt, true)
        : view.getUint32(mark.lengthAt, true);
    const value =
      random() < 0.5
        ? pick(INTERESTING_LENGTHS, random)
        : Math.max(0, original + Math.floor(random() * 17) - 8);
    if (mark.lengthBytes === 2) view.setUint16(mark.lengthAt, value & 0xffff, true);
    else view.setUint32(mark.lengthAt, value >>> 0, true);
    return { what: `length at ${mark.lengthAt} = ${value}`, bytes };
  },
  function swapTags(input, random, marks) {
    const bytes = input.slice();
    if (marks.length < 2) return { what: 'no landmarks: unchanged', bytes };
    const a = pick(marks, random);
    const b = pick(marks, random);
    const tagA = bytes.slice(a.at, a.at + 4);
    bytes.copyWithin(a.at, b.at, b.at + 4);
    bytes.set(tagA, b.at);
    return { what: `swap tags at ${a.at} and ${b.at}`, bytes };
  },
  function corruptVr(input, random, marks) {
    const bytes = input.slice();
    const withVr = marks.filter((m) => m.vrAt !== undefined);
    if (withVr.length === 0) return { what: 'no VR: unchanged', bytes };
    const mark = pick(withVr, random);
    const vr = pick(['SQ', 'UN', 'OB', 'US', 'XX', '\0\0', 'ob'], random);
    bytes[mark.vrAt as number] = vr.charCodeAt(0);
    bytes[(mark.vrAt as number) + 1] = vr.charCodeAt(1);
    return { what: `VR at ${mark.vrAt} = ${JSON.stringify(vr)}`, bytes };
  },
  function splice(input, random) {
    const at = offsetIn(input.length, random);
    const count = 1 + Math.floor(random() * 16);
    if (random() < 0.5) {
      return {
        what: `delete ${count} bytes at ${at}`,
        bytes: Uint8Array.from([...input.subarray(0, at), ...input.subarray(at + count)]),
      };
    }
    const inserted = Array.from({ length: count }, () => Math.floor(random() * 256));
    return {
      what: `insert ${count} bytes at ${at}`,
      bytes: Uint8Array.from([...input.subarray(0, at), ...inserted, ...input.subarray(at)]),
    };
  },
];

/**
 * `count` mutations of the seed files, each one to three operators deep, in a fixed order for a
 * given `seed`.
 */
export function* mutations(
  seeds: readonly { readonly name: string; readonly bytes: Uint8Array }[],
  seed: number,
  count: number,
): Generator<Mutation> {
  const random = seededRandom(seed);
  const marks = seeds.map((s) => landmarks(s.bytes));
  for (let i = 0; i < count; i++) {
    const s = i % seeds.length;
    const source = seeds[s] as { name: string; bytes: Uint8Array };
    let bytes = source.bytes;
    const steps: string[] = [];
    const depth = 1 + Math.floor(random() * 3);
    for (let d = 0; d < depth; d++) {
      const operator = pick(OPERATORS, random);
      const result = operator(bytes, random, d === 0 ? (marks[s] ?? []) : landmarks(bytes));
      bytes = result.bytes;
      steps.push(`${operator.name}: ${result.what}`);
    }
    yield { name: `${source.name} #${i} [${steps.join('; ')}]`, bytes };
  }
}
