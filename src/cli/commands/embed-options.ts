import type { LossyPolicy } from '../../dicom';
import type { EmbedIdentityOptions } from '../../pipeline';
import type { Segmenter, SegmenterName } from '../../segmentation/segmenter';
import type { KeyRing } from '../../stego/key-ring';
import type { ProfileName } from '../../stego/profiles';

/** The options of `embed`, as commander parses them (both forms). */
export interface EmbedOptions {
  readonly key?: string;
  readonly profile: ProfileName;
  readonly payloadFile?: string;
  readonly margin: number;
  readonly segmenter?: SegmenterName;
  readonly beta?: number;
  readonly fields?: string[];
  readonly outDir?: string;
  readonly lossyPolicy?: LossyPolicy;
}

/** What embedIdentity needs besides the file: the same for every file of a batch. */
export function embedSettings(
  options: EmbedOptions,
  segmenter: Segmenter,
  keyRing: KeyRing | undefined,
  payload: Uint8Array | undefined,
): EmbedIdentityOptions {
  return {
    profile: options.profile,
    segmenter,
    marginPx: options.margin,
    ...(keyRing === undefined ? {} : { keyRing }),
    ...(payload === undefined ? {} : { payload }),
    ...(options.beta === undefined ? {} : { beta: options.beta }),
    ...(options.fields === undefined ? {} : { identityFields: options.fields }),
    ...(options.lossyPolicy === undefined ? {} : { lossyPolicy: options.lossyPolicy }),
  };
}
