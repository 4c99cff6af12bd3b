/**
 * Builds the identity engine the gateway runs with. Until the embedding pipeline (src/pipeline) is
 * wired in, embedding fails with EMBED_UNAVAILABLE (rules with onFailure: store-original keep
 * storing; the readiness probe says not-ready).
 */
import type { Logger } from 'pino';

import type { GatewayConfig } from '../config';
import { FailureReason } from '../stow/store-instances-response';
import type { IdentityEngine } from './identity-engine';

export async function createIdentityEngine(
  _config: GatewayConfig,
  _logger: Logger,
): Promise<IdentityEngine> {
  return {
    embed: async () => ({
      ok: false,
      code: 'EMBED_UNAVAILABLE',
      message: 'the embedding pipeline is not available',
      failureReason: FailureReason.ProcessingFailure,
    }),
    inspect: async () => ({
      payloadPresent: false,
      result: 'failed',
      message: 'EMBED_UNAVAILABLE: the embedding pipeline is not available',
    }),
    ready: () => false,
    close: async () => undefined,
  };
}
