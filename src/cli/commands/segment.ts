import { Command } from 'commander';
import { PNG } from 'pngjs';
import { readAnyDicomImage } from '../../dicom';
import { analyseFrame } from '../../pipeline';
import type { SegmenterName } from '../../segmentation/segmenter';
import { DEFAULT_MARGIN_PX } from '../../stego/block-map';
import type { PixelFrame } from '../../stego/types';
import { cliError } from '../cli-error';
import {
  parseNonNegativeInteger,
  parseSegmenterName,
  printJson,
  readInputFile,
  withSegmenter,
  writeFileAtomic,
} from '../cli-io';

interface SegmentOptions {
  readonly out: string;
  readonly segmenter?: SegmenterName;
  readonly frame: number;
  readonly margin: number;
}

/** An 8-bit greyscale PNG of the mask: 255 = significant, 0 = background. */
export function maskPng(rows: number, columns: number, data: Uint8Array): Uint8Array {
  const png = new PNG({
    width: columns,
    height: rows,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  });
  const grey = Buffer.alloc(rows * columns);
  for (let i = 0; i < grey.length; i++) grey[i] = data[i] ? 255 : 0;
  png.data = grey;
  return new Uint8Array(
    PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }),
  );
}

export async function runSegment(input: string, options: SegmentOptions): Promise<void> {
  const image = await readAnyDicomImage(await readInputFile(input));
  const frame = image.frames[options.frame];
  if (frame === undefined) {
    throw cliError('NO_SUCH_FRAME', `frame [${options.frame}] of [${image.frames.length}]`);
  }
  const { mask, map } = await withSegmenter(options.segmenter, (segmenter) =>
    analyseFrame(image, frame as PixelFrame, segmenter, options.margin),
  );
  await writeFileAtomic(options.out, maskPng(mask.rows, mask.columns, mask.data));
  let significant = 0;
  for (const v of mask.data) significant += v;
  let usable = 0;
  for (const v of map.usable) usable += v;
  printJson({
    output: options.out,
    rows: mask.rows,
    columns: mask.columns,
    frame: options.frame,
    frames: image.frames.length,
    significantFraction: significant / mask.data.length,
    usableBlocks: usable,
    marginPx: options.margin,
  });
}

export function segmentCommand(): Command {
  return new Command('segment')
    .description('write the significance mask as an 8-bit PNG (255 = significant)')
    .argument('<in>', 'DICOM file')
    .requiredOption('--out <png>', 'mask PNG to write')
    .option('--segmenter <name>', 'onnx-maskrcnn (default) | threshold', parseSegmenterName)
    .option('--frame <n>', 'frame of a multi-frame image', parseNonNegativeInteger, 0)
    .option(
      '--margin <px>',
      'margin for the usable-block count',
      parseNonNegativeInteger,
      DEFAULT_MARGIN_PX,
    )
    .action(async (input: string, options: SegmentOptions) => runSegment(input, options));
}
