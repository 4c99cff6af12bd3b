export { DICOM_ERROR_STATUS, type DicomErrorCode } from './dicom-error';
export { headerNumber, headerString, type HeaderDataset } from './header';
export { readIdentityFields } from './identity-fields';
export type { ImageStorage } from './image-storage';
export {
  openDicomImage,
  openDicomImageForEmbedding,
  passthroughError,
  passthroughReasonOf,
  readAnyDicomImage,
  type LossyPolicy,
  type OpenDicomOptions,
  type OpenDicomResult,
  type PassthroughReason,
} from './open-dicom-image';
export { storedRange, type ByteRange, type PixelLayout } from './pixel-codec';
export { paddingMask, sampleConstraints } from './pixel-padding';
export { readDicomImage, type DicomImage } from './read-dicom-image';
export { hasPart10Prefix, walkPart10, type WalkedElement, type WalkedFile } from './tag-walker';
export { lookupTransferSyntax, TRANSFER_SYNTAXES, type TransferSyntax } from './transfer-syntaxes';
export { writeDicomFrames, writeDicomImage } from './write-dicom-image';
export {
  decodeToExplicitLittleEndian,
  initializeCodecs,
  lookupCapability,
  type EmbedPolicy,
  type TransferSyntaxCapability,
} from './codecs';
