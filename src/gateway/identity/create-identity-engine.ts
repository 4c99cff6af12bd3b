/**
 * Builds the identity engine the gateway runs with: the embedding pipeline, in a piscina pool of
 * worker threads (embedding is CPU work and must not stall the event loop), or in the event loop's
 * thread when `embedding.workers` is 0. Workers load embed-worker.js beside this file when built
 * (dist), or embed-worker.ts through tsx's require hook when run from source (tsx, jest).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';

import { SEGMENTER_NAMES } from '../../segmentation/segmenter';
import { StegoGatewayError } from '../../stego/errors';
import { parseKeyRing, serializeKeyRing } from '../../stego/key-ring';
import type { GatewayConfig } from '../config';
import type { WorkerSetup, WorkerTask } from './embed-worker';
import type { EmbedInstanceOutcome, IdentityEngine, IdentityInspection } from './identity-engine';
import type { InspectOptions } from './identity-operations';

async function readSetup(config: GatewayConfig): Promise<WorkerSetup> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(config.embedding.keyRingFile, 'utf8'));
  } catch (cause) {
    throw new StegoGatewayError(
      'KEY_RING_UNREADABLE',
      `cannot read the key ring [${config.embedding.keyRingFile}]`,
      { cause },
    );
  }
  const ring = parseKeyRing(json);
  return {
    keyRingJson: JSON.stringify(serializeKeyRing(ring)),
    ...(config.embedding.modelPath === undefined ? {} : { modelPath: config.embedding.modelPath }),
  };
}

function workerFile(): { filename: string; execArgv: string[] } {
  const js = path.join(__dirname, 'embed-worker.js');
  if (existsSync(js)) return { filename: js, execArgv: [] };
  return {
    filename: path.join(__dirname, 'embed-worker.ts'),
    execArgv: ['--require', require.resolve('tsx/cjs')],
  };
}

export async function createIdentityEngine(
  config: GatewayConfig,
  logger: Logger,
): Promise<IdentityEngine> {
  const setup = await readSetup(config);
  const defaultSegmenter = config.embedding.defaultSegmenter;
  const inspectOptions: InspectOptions = {
    segmenters: [defaultSegmenter, ...SEGMENTER_NAMES.filter((n) => n !== defaultSegmenter)],
    marginPx: config.embedding.marginPx,
  };
  let ready = false;

  if (config.embedding.workers === 0) {
    // The pipeline (DICOM adapter, segmenters, engine) is loaded here only when it runs in this
    // thread; with a pool it lives in the workers and the event loop's heap stays small (every
    // full GC of the main thread marks all of it).
    const { createOperationContext } = await import('./embed-worker');
    const { embedOperation, inspectOperation } = await import('./identity-operations');
    const context = createOperationContext(setup);
    try {
      await context.segmenter(defaultSegmenter);
      ready = true;
    } catch (error) {
      logger.error(
        { code: error instanceof StegoGatewayError ? error.code : 'SEGMENTER_FAILED' },
        'the default segmenter could not be loaded; embedding will fail until it can',
      );
    }
    return {
      embed: (bytes, request) => embedOperation(bytes, request, context),
      inspect: (bytes) => inspectOperation(bytes, inspectOptions, context),
      ready: () => ready,
      close: async () => undefined,
    };
  }

  const { filename, execArgv } = workerFile();
  // One worker per core, each segmenting on one thread: no oversubscription.
  const poolSetup: WorkerSetup = { ...setup, onnxThreads: 1 };
  const pool = new Piscina({
    filename,
    execArgv,
    minThreads: config.embedding.workers,
    maxThreads: config.embedding.workers,
    idleTimeout: 60_000,
    // Bounded queue: STOW concurrency limits what is in flight; this is a safety net.
    maxQueue: 1024,
  });
  const run = <T>(task: WorkerTask): Promise<T> => pool.run(task) as Promise<T>;
  try {
    await Promise.all(
      Array.from({ length: config.embedding.workers }, () =>
        run<boolean>({ kind: 'warm-up', setup: poolSetup, segmenter: defaultSegmenter }),
      ),
    );
    ready = true;
  } catch (error) {
    logger.error(
      { code: error instanceof StegoGatewayError ? error.code : 'SEGMENTER_FAILED' },
      'the default segmenter could not be loaded in the workers; embedding will fail until it can',
    );
  }
  return {
    embed: (bytes, request) =>
      run<EmbedInstanceOutcome>({ kind: 'embed', setup: poolSetup, bytes, request }),
    inspect: (bytes) =>
      run<IdentityInspection>({
        kind: 'inspect',
        setup: poolSetup,
        bytes,
        options: inspectOptions,
      }),
    ready: () => ready,
    close: () => pool.destroy(),
  };
}
