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
export { LAYOUT_KEY_DEFAULT } from './layout';
export { dct4x4, idct4x4, DCT_MATRIX } from './dct';
export { PAPER_ALPHA, PAPER_BETAS } from './paper';
export { ROBUST_TARGET_PSNR, ROBUST_MIN_PSNR } from './robust';
export { keyTag } from './identity-record';
