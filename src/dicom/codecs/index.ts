/** Codecs for encapsulated transfer syntaxes, the capability table, and the colour policy. */
export {
  embedPolicyFor,
  lookupCapability,
  TRANSFER_SYNTAX_CAPABILITIES,
  type CodecFamily,
  type EmbedPolicy,
  type TransferSyntaxCapability,
} from './capabilities';
export { CODEC_ERROR_STATUS, type CodecErrorCode } from './codec-error';
export {
  encapsulateFrames,
  frameFragments,
  readEncapsulatedPixelData,
  replacePixelDataValue,
  type EncapsulatedPixelData,
  type FragmentRange,
} from './encapsulated';
export {
  decodeEncapsulatedImage,
  writeEncapsulatedImage,
  type DecodedEncapsulatedImage,
  type PixelDataValue,
} from './encapsulated-image';
export {
  decodeFrame,
  encodeFrame,
  encodeFrameVerified,
  inspectFrame,
  type EncodeOptions,
} from './frame-codec';
export type { CodestreamHeader } from './frame-header';
export {
  firstStoredDifference,
  nativeFrameLength,
  storedValues,
  type FrameInfo,
} from './frame-info';
export { codecsReady, initializeCodecs } from './native-codecs';
export {
  applyCarrier,
  carrierFrame,
  colourPolicy,
  type ColourCarrier,
  type ColourPolicy,
} from './colour';
export { EXPLICIT_VR_LITTLE_ENDIAN, toExplicitLittleEndian } from './to-explicit-le';
export { decodeToExplicitLittleEndian } from './decode-to-native';
