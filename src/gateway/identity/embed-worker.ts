/**
 * Piscina worker: runs embedOperation / inspectOperation off the event loop. Each worker thread is
 * its own small composition root: it parses the key ring and creates each segmenter (the ONNX
 * session included) once, on first use, and reuses them for every task.
 */
import { createSegmenter } from '../../segmentation/create-segmenter';
import type { Segmenter, SegmenterName } from '../../segmentation/segmenter';
import { parseKeyRing } from '../../stego/key-ring';
import type { EmbedInstanceRequest } from './identity-engine';
import { embedOperation, inspectOperation } from './identity-operations';
import type { InspectOptions, OperationContext } from './identity-operations';

export interface WorkerSetup {
  /** The key ring in its JSON form (serializeKeyRing). */
  readonly keyRingJson: string;
  readonly modelPath?: string;
  /** onnxruntime intra-op threads per segmenter (1 in a pool of one worker per core). */
  readonly onnxThreads?: number;
}

export type WorkerTask =
  | {
      readonly kind: 'embed';
      readonly setup: WorkerSetup;
      readonly bytes: Uint8Array;
      readonly request: EmbedInstanceRequest;
    }
  | {
      readonly kind: 'inspect';
      readonly setup: WorkerSetup;
      readonly bytes: Uint8Array;
      readonly options: InspectOptions;
    }
  | { readonly kind: 'warm-up'; readonly setup: WorkerSetup; readonly segmenter: SegmenterName };

/**
 * The key ring and segmenters for a setup; segmenters are created on first use and kept (a failed
 * load is retried on the next call rather than cached).
 */
export function createOperationContext(setup: WorkerSetup): OperationContext {
  const keyRing = parseKeyRing(JSON.parse(setup.keyRingJson) as unknown);
  const segmenters = new Map<SegmenterName, Promise<Segmenter>>();
  return {
    keyRing,
    segmenter: (name) => {
      let segmenter = segmenters.get(name);
      if (segmenter === undefined) {
        segmenter = createSegmenter(name, {
          ...(setup.modelPath === undefined ? {} : { modelPath: setup.modelPath }),
          ...(setup.onnxThreads === undefined
            ? {}
            : { onnx: { intraOpThreads: setup.onnxThreads } }),
        });
        segmenter.catch(() => segmenters.delete(name));
        segmenters.set(name, segmenter);
      }
      return segmenter;
    },
  };
}

let cached: { readonly source: string; readonly context: OperationContext } | undefined;

export default async function runTask(task: WorkerTask): Promise<unknown> {
  if (cached === undefined || cached.source !== task.setup.keyRingJson) {
    cached = { source: task.setup.keyRingJson, context: createOperationContext(task.setup) };
  }
  const context = cached.context;
  switch (task.kind) {
    case 'embed':
      return embedOperation(task.bytes, task.request, context);
    case 'inspect':
      return inspectOperation(task.bytes, task.options, context);
    case 'warm-up':
      await context.segmenter(task.segmenter);
      return true;
  }
}
