import { randomBytes } from 'node:crypto';
import {
  openDicomImage,
  sampleConstraints,
  writeDicomImage,
  type DicomImage,
  type OpenDicomOptions,
  type PassthroughReason,
} from '../../src/dicom';
import {
  analyseFrame,
  frameConstraints,
  extractFromImage,
  identityPayload,
  identityRecordOf,
} from '../../src/pipeline';
import { createThresholdSegmenter } from '../../src/segmentation/threshold-segmenter';
import { DEFAULT_MARGIN_PX } from '../../src/stego/block-map';
import { embedPayload } from '../../src/stego/embed';
import { StegoGatewayError } from '../../src/stego/errors';
import { generateKeyRing } from '../../src/stego/key-ring';
import type { PixelFrame } from '../../src/stego/types';

/**
 * One file through the adapter (openDicomImage / writeDicomImage) and the pipeline's own pieces
 * (segmentation and block map by analyseFrame, the identity payload, extractFromImage), in process:
 * what embedIdentity / extractIdentity do once they call openDicomImage (see the report of issue 5
 * phase 2). Shared by test/formats and scripts/formats-survey.ts.
 */

export const keyRing = generateKeyRing((n) => new Uint8Array(randomBytes(n)), 'formats');
const segmenter = createThresholdSegmenter();
const NOW = new Date('2026-01-01T00:00:00Z');

export type FormatOutcome =
  | {
      readonly kind: 'embedded';
      readonly frames: number;
      /** Every frame gave the identity record back on its own. */
      readonly everyFrame: boolean;
      readonly exact: boolean;
      readonly inputSyntax: string;
      readonly outputSyntax: string;
      readonly warnings: readonly string[];
      readonly written: Uint8Array;
      readonly image: DicomImage;
    }
  | { readonly kind: 'passthrough'; readonly reason: PassthroughReason; readonly message: string }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

async function embedFrames(image: DicomImage, payload: Uint8Array): Promise<PixelFrame[]> {
  const constraints = sampleConstraints(image);
  const out: PixelFrame[] = [];
  for (let f = 0; f < image.frames.length; f++) {
    const cover = image.frames[f] as PixelFrame;
    const analysis = await analyseFrame(image, cover, segmenter, DEFAULT_MARGIN_PX);
    // The pipeline's own constraints for the frame (values the segmenter could see, faint tissue).
    const r = embedPayload(cover, analysis.map, payload, {
      profile: 'fidelity',
      constraints: frameConstraints(image, constraints, analysis),
      keyRing,
    });
    if (!r.ok) {
      throw new StegoGatewayError(
        r.reason === 'no-background' ? 'NO_BACKGROUND' : 'PAYLOAD_TOO_LARGE',
        `frame [${f}]: ${r.reason}`,
      );
    }
    out.push(r.stego);
  }
  return out;
}

export async function formatOutcome(
  bytes: Uint8Array,
  options: OpenDicomOptions = {},
): Promise<FormatOutcome> {
  try {
    const opened = await openDicomImage(bytes, options);
    if (opened.kind === 'passthrough') return opened;
    const { image } = opened;
    const record = identityRecordOf(image.header, undefined, NOW, keyRing.activeKeyId);
    const stego = await embedFrames(image, identityPayload('fidelity', record, keyRing));
    const written = await writeDicomImage(bytes, image, stego);
    const reopened = await openDicomImage(written, { purpose: 'extract' });
    if (reopened.kind !== 'image') throw new Error('an embedded image reopened as a passthrough');
    const extracted = await extractFromImage(reopened.image, {
      profile: 'fidelity',
      keyRing,
      segmenter,
    });
    const exact =
      extracted.ok &&
      extracted.framesAgree &&
      JSON.stringify(extracted.identity) === JSON.stringify({ kind: 'record', record });
    return {
      kind: 'embedded',
      frames: image.frames.length,
      everyFrame: extracted.frames.every((f) => f.ok),
      exact,
      inputSyntax: image.transferSyntaxUid,
      outputSyntax: opened.outputTransferSyntaxUid,
      warnings: opened.warnings,
      written,
      image: reopened.image,
    };
  } catch (error) {
    if (error instanceof StegoGatewayError) {
      return { kind: 'refused', code: error.code, message: error.message };
    }
    throw error;
  }
}
