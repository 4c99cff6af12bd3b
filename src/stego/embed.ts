import type { EmbedOptions, EmbedResult, ExtractOptions, ExtractResult } from './api';
import { StegoGatewayError } from './errors';
import type { ProfileName } from './profiles';
import type { BlockMap, PixelFrame } from './types';

function notYet(): never {
  throw new StegoGatewayError('NOT_IMPLEMENTED', 'stego engine under construction', {
    httpStatus: 501,
  });
}

export function embedPayload(
  _cover: PixelFrame,
  _map: BlockMap,
  _payload: Uint8Array,
  _options: EmbedOptions,
): EmbedResult {
  return notYet();
}

export function extractPayload(
  _stego: PixelFrame,
  _map: BlockMap,
  _options: ExtractOptions,
): ExtractResult {
  return notYet();
}

export function payloadCapacityBits(
  _frame: PixelFrame,
  _map: BlockMap,
  _profile: ProfileName,
): number {
  return notYet();
}
