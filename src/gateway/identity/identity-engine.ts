/**
 * The gateway's port to the embedding pipeline (src/pipeline: embedIdentity, extractIdentity,
 * verifyIdentity). The STOW-RS and identity routes depend on this interface only; the adapter to
 * the pipeline (and its worker pool) implements it.
 */
import type { LossyPolicy, PassthroughReason } from '../../dicom';
import type { SegmenterName } from '../../segmentation/segmenter';
import type { ExtractionResult } from '../audit/types';
import type { EmbedProfile, UidPolicy } from '../rules/types';

export interface EmbedInstanceRequest {
  readonly profile: EmbedProfile;
  readonly segmenter: SegmenterName;
  readonly marginPx: number;
  /** DICOM keywords of the identity record; undefined = the pipeline's default list. */
  readonly identityFields?: readonly string[];
  readonly uidPolicy: UidPolicy;
  /** What to do with lossy input (src/dicom LossyPolicy); undefined = 'passthrough'. */
  readonly lossyPolicy?: LossyPolicy;
}

export type EmbedInstanceOutcome =
  | {
      readonly ok: true;
      readonly bytes: Uint8Array;
      readonly profile: string;
      readonly keyId: string | null;
      /** The new SOP Instance UID under uidPolicy `derive`; absent when the UID was kept. */
      readonly derivedSopInstanceUid?: string;
      /** Original Attributes Sequence items (DICOM JSON) when attributes were coerced. */
      readonly originalAttributes?: readonly Readonly<Record<string, unknown>>[];
      /** Blocks, bits, PSNR...: numbers and short strings only, never patient data. */
      readonly report: Readonly<Record<string, unknown>>;
      /** The transfer syntax of `bytes` (the input's, or Explicit VR Little Endian). */
      readonly transferSyntaxUid: string;
      /** Things to tell the sender (e.g. lossy input stored as Explicit VR Little Endian). */
      readonly warnings: readonly string[];
    }
  | {
      readonly ok: false;
      /** Stable error code (e.g. EMBED_NO_CAPACITY, DICOM_UNSUPPORTED_TRANSFER_SYNTAX). */
      readonly code: string;
      readonly message: string;
      /** The PS3.18 Failure Reason that fits if the rule says to reject on failure. */
      readonly failureReason: number;
      /**
       * Set when the instance is not a failure but a documented passthrough (a non-image, lossy
       * pixels under lossyPolicy 'passthrough'): the original is stored untouched with a warning,
       * whatever the rule's onFailure says.
       */
      readonly passthrough?: PassthroughReason;
    };

/** One field of the identity record compared with the stored header. */
export interface FieldAgreement {
  readonly field: string;
  readonly hidden: string | null;
  readonly header: string | null;
  readonly agrees: boolean;
}

export interface IdentityInspection {
  readonly payloadPresent: boolean;
  readonly result: ExtractionResult;
  readonly profile?: string;
  readonly keyId?: string;
  /** Reed-Solomon symbols the decoder corrected (extraction quality). */
  readonly correctedSymbols?: number;
  /** The hidden identity record, field by field. */
  readonly identity?: Readonly<Record<string, string | null>>;
  readonly fields?: readonly FieldAgreement[];
  /** Why there is no identity (no payload, wrong key, unsupported file...). */
  readonly message?: string;
}

export interface IdentityEngine {
  embed(bytes: Uint8Array, request: EmbedInstanceRequest): Promise<EmbedInstanceOutcome>;
  /** Extracts the hidden identity and compares it with the file's header. */
  inspect(bytes: Uint8Array): Promise<IdentityInspection>;
  /** Whether the segmentation model (if any) is loaded and the engine takes work. */
  ready(): boolean;
  close(): Promise<void>;
}
