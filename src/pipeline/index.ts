/** Composes the DICOM adapter, a segmenter and the stego engine; safe in worker threads. */
export {
  embedIdentity,
  type EmbedIdentityOptions,
  type EmbedIdentityReport,
  type EmbedIdentityResult,
  type FrameEmbedReport,
} from './embed-identity';
export {
  extractIdentity,
  extractFromImage,
  type ExtractFailure,
  type ExtractIdentityOptions,
  type ExtractIdentityResult,
  type FrameExtraction,
} from './extract-identity';
export {
  analyseFrame,
  frameConstraints,
  segmentationContext,
  type FrameAnalysis,
} from './frame-context';
export { identityPayload, identityRecordOf, type HiddenIdentity } from './identity-payload';
export { PIPELINE_ERROR_STATUS, type PipelineErrorCode } from './pipeline-error';
export { blockMapAgreement, maskNcc } from './stability';
export { verifyIdentity, type FieldAgreement, type VerifyIdentityResult } from './verify-identity';
