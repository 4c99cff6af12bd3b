import { readDicomImage, walkPart10, writeDicomFrames } from '../../src/dicom';
import { generateKeyRing, type KeyRing } from '../../src/stego/key-ring';
import { SeededRandom } from '../../src/stego/prng';
import { readData } from '../dicom/data-files';

/** A deterministic random source for key generation and nonces in tests. */
export function seededBytes(seed: number): (n: number) => Uint8Array {
  const rng = new SeededRandom(seed);
  return (n) => Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
}

export function testKeyRing(seed: number, id: string): KeyRing {
  return generateKeyRing(seededBytes(seed), id);
}

/** A real CT file whose every pixel is soft tissue (0 HU): no background at all. */
export function allBodyCt(): Uint8Array {
  const original = readData('ct/lung-pet-ct-dx/1-03.dcm');
  const image = readDicomImage(original);
  const frames = image.frames.map((f) => ({
    ...f,
    samples: new Int32Array(f.samples.length).fill(1024),
  }));
  return writeDicomFrames(original, image, frames);
}

/**
 * The same bytes with a top-level string attribute's value replaced by `fill` repeated to the same
 * length (so that nothing else moves): a header edited after embedding.
 */
export function withAttributeOverwritten(bytes: Uint8Array, tag: number, fill: string): Uint8Array {
  const element = walkPart10(bytes).elements.find((e) => e.tag === tag);
  if (element === undefined || element.valueLength === undefined || element.valueLength === 0) {
    throw new Error(`no value for tag ${tag.toString(16)}`);
  }
  const out = bytes.slice();
  for (let i = 0; i < element.valueLength; i++) {
    out[element.valueOffset + i] = fill.charCodeAt(i % fill.length);
  }
  return out;
}

export const TAG_PATIENT_ID = 0x00100020;
