/** Public surface of the pure steganography engine (docs/method.md). */
export * from './types';
export { StegoGatewayError } from './errors';
export { blockMapFromMask, countUsableBlocks, dilateSquare, DEFAULT_MARGIN_PX } from './block-map';
export type { BlockMapOptions } from './block-map';
export { PROFILE_NAMES, isProfileName } from './profiles';
export type { ProfileName } from './profiles';
export {
  generateKeyRing,
  parseKeyRing,
  serializeKeyRing,
  addKeyToRing,
  KEY_BYTES,
} from './key-ring';
export type { KeyRing } from './key-ring';
export type { EmbedOptions, EmbedReport, EmbedResult, ExtractOptions, ExtractResult } from './api';
export { embedPayload, extractPayload, payloadCapacityBits } from './embed';
export {
  DEFAULT_IDENTITY_FIELDS,
  encodeIdentityRecord,
  decodeIdentityRecord,
  identityText,
  encodeCompactRecord,
  verifyCompactRecord,
} from './identity-record';
export type { IdentityRecord, CompactVerification } from './identity-record';
export * as metrics from './metrics';
export {
  mse,
  psnrFromMse,
  psnrMax65535,
  psnrBitsStored,
  changedPixels,
  ncc,
  bitErrorRate,
  capacityBppImage,
  capacityBppBackground,
} from './metrics';
export { gaussianNoise, uniformNoise, saltAndPepperNoise, storedRange } from './attacks';
export { SeededRandom } from './prng';
