/**
 * Prometheus metrics (prom-client), one registry per app so that tests and several apps in one
 * process do not share counters. Labels carry outcomes and route names only, never a UID.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Instances that went through STOW-RS, by outcome (embedded, passthrough, stored-original, rejected, failed). */
  readonly instances: Counter<'outcome'>;
  /** Seconds to embed one instance (segmentation + embedding + re-encoding). */
  readonly embedSeconds: Histogram<'profile'>;
  /** Failed or refused requests to Orthanc, by operation. */
  readonly upstreamErrors: Counter<'operation'>;
  /** Identity extractions, by result. */
  readonly extractions: Counter<'result'>;
  /**
   * WADO-RS retrieves of one instance, by where the answer came from: `storage-folder` (the gateway
   * read the stored file in Orthanc's storage folder), `stored-file` (it sent the stored file Orthanc
   * served over REST) or `plugin` (Orthanc's DICOMweb plugin answered).
   */
  readonly instanceRetrieves: Counter<'source'>;
  /**
   * WADO-RS retrieves of frames, by where the answer came from: `storage-folder` (the gateway read
   * the frames in Orthanc's storage folder) or `plugin`.
   */
  readonly frameRetrieves: Counter<'source'>;
  /**
   * WADO-RS retrieves of a whole study or series (`level`), by where the answer came from:
   * `storage-folder` (every file read in Orthanc's storage folder) or `plugin`.
   */
  readonly studyRetrieves: Counter<'level' | 'source'>;
}

export function createMetrics(options: { readonly defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    instances: new Counter({
      name: 'stego_gateway_instances_total',
      help: 'Instances received over STOW-RS, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    embedSeconds: new Histogram({
      name: 'stego_gateway_embed_seconds',
      help: 'Time to embed the identity into one instance',
      labelNames: ['profile'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: 'stego_gateway_upstream_errors_total',
      help: 'Failed or refused requests to Orthanc, by operation',
      labelNames: ['operation'],
      registers: [registry],
    }),
    extractions: new Counter({
      name: 'stego_gateway_extractions_total',
      help: 'Identity extractions, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    instanceRetrieves: new Counter({
      name: 'stego_gateway_instance_retrieves_total',
      help: 'WADO-RS retrieves of one instance, by source (storage-folder, stored-file, plugin)',
      labelNames: ['source'],
      registers: [registry],
    }),
    frameRetrieves: new Counter({
      name: 'stego_gateway_frame_retrieves_total',
      help: 'WADO-RS retrieves of frames, by source (storage-folder, plugin)',
      labelNames: ['source'],
      registers: [registry],
    }),
    studyRetrieves: new Counter({
      name: 'stego_gateway_study_retrieves_total',
      help: 'WADO-RS retrieves of a whole study or series, by level and source (storage-folder, plugin)',
      labelNames: ['level', 'source'],
      registers: [registry],
    }),
  };
}
