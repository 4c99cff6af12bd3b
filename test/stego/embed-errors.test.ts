import { embedPayload, extractPayload, payloadCapacityBits } from '../../src/stego/embed';
import { StegoGatewayError } from '../../src/stego/errors';
import type { EmbedOptions } from '../../src/stego/api';
import { syntheticSlice, testRing } from './helpers/fixtures';

const slice = syntheticSlice(64, 1);
const ring = testRing();
const base: EmbedOptions = { profile: 'fidelity', keyRing: ring, constraints: slice.constraints };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof StegoGatewayError ? e.code : `not a StegoGatewayError: ${String(e)}`;
  }
  return undefined;
}

describe('bad input to the engine gets a specific code, never a crash', () => {
  const payload = Uint8Array.of(1, 2, 3);
  it.each([
    [
      'no key ring',
      () =>
        embedPayload(slice.image.frame, slice.map, payload, {
          profile: 'robust',
          constraints: slice.constraints,
        }),
      'KEY_RING_REQUIRED',
    ],
    [
      'unknown profile (embed)',
      () =>
        embedPayload(slice.image.frame, slice.map, payload, { ...base, profile: 'lsb' as 'paper' }),
      'UNKNOWN_PROFILE',
    ],
    [
      'unknown profile (extract)',
      () => extractPayload(slice.image.frame, slice.map, { profile: 'lsb' as 'paper' }),
      'UNKNOWN_PROFILE',
    ],
    [
      'unknown profile (capacity)',
      () => payloadCapacityBits(slice.image.frame, slice.map, 'x' as 'paper'),
      'UNKNOWN_PROFILE',
    ],
    [
      'map of another size',
      () =>
        embedPayload(
          slice.image.frame,
          { blockRows: 2, blockColumns: 2, usable: new Uint8Array(4) },
          payload,
          base,
        ),
      'INVALID_FRAME',
    ],
    [
      'samples of another size',
      () => extractPayload({ ...slice.image.frame, samples: new Int32Array(5) }, slice.map, {}),
      'INVALID_FRAME',
    ],
    [
      'bits stored 0',
      () => extractPayload({ ...slice.image.frame, bitsStored: 0 }, slice.map, {}),
      'INVALID_FRAME',
    ],
    [
      'min > max',
      () =>
        embedPayload(slice.image.frame, slice.map, payload, {
          ...base,
          constraints: { minValue: 5, maxValue: 1, forbidden: [] },
        }),
      'INVALID_CONSTRAINTS',
    ],
    [
      'bad beta',
      () =>
        embedPayload(slice.image.frame, slice.map, payload, {
          ...base,
          profile: 'paper',
          beta: -1,
        }),
      'INVALID_OPTION',
    ],
  ])('%s', (_, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});
