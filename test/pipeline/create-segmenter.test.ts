import { readDicomImage } from '../../src/dicom';
import { segmentationContext } from '../../src/pipeline';
import { createSegmenter } from '../../src/segmentation/create-segmenter';
import { StegoGatewayError } from '../../src/stego/errors';
import type { PixelFrame } from '../../src/stego/types';
import { readData } from '../dicom/data-files';

describe('createSegmenter', () => {
  it('creates the threshold segmenter', async () => {
    const segmenter = await createSegmenter('threshold');
    expect(segmenter.name).toBe('threshold');
    const image = readDicomImage(readData('ct/lung-pet-ct-dx/1-12.dcm'));
    const mask = await segmenter.segment(
      image.frames[0] as PixelFrame,
      segmentationContext(image, undefined),
    );
    expect(mask.data.some((v) => v === 1)).toBe(true);
    await segmenter.close();
  });

  it('says MODEL_UNAVAILABLE, naming the way out, when the ONNX model cannot be loaded', async () => {
    const error = await createSegmenter('onnx-maskrcnn', {
      modelPath: '/nonexistent/body-maskrcnn.onnx',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StegoGatewayError);
    expect((error as StegoGatewayError).code).toBe('MODEL_UNAVAILABLE');
    expect((error as StegoGatewayError).message).toContain('--segmenter threshold');
  });
});
