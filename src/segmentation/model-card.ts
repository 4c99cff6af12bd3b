/**
 * What the runtime knows about the committed body model (models/README.md is its card; a test checks
 * that both state the same SHA-256 and that the file has it). Changing the model means changing this
 * constant and the card together.
 */
export const BODY_MODEL = {
  fileName: 'body-maskrcnn.onnx',
  sha256: 'a483c4d34501c9f49884a5cb5f9da6c610d6da07288024fca617ced452be516d',
  /** The model sees the whole frame stretched to inputSize x inputSize, one channel in [0, 1]. */
  inputSize: 256,
  inputName: 'image',
  outputNames: ['boxes', 'labels', 'scores', 'masks'],
  /** CT input: clip((HU - lo) / (hi - lo), 0, 1); air, padding and lungs below -600 HU read as 0. */
  ctWindowHu: [-600, 600],
  /** Other modalities: clip(I / p, 0, 1) with p the frame's 99.5th percentile. */
  percentile: 99.5,
  /**
   * Other modalities: below this fraction of the percentile reads as 0. The background noise of MR is
   * then flat zero, as air is in CT, so +-1 embedding changes there cannot reach the model.
   */
  noiseFloor: 0.15,
  /** Instances scoring below this are ignored; the rest are united. */
  scoreThreshold: 0.5,
} as const;
