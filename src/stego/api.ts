import type { KeyRing } from './key-ring';
import type { ProfileName } from './profiles';
import type { PixelFrame, SampleConstraints } from './types';

export interface EmbedOptions {
  readonly profile: ProfileName;
  /** Required for fidelity and robust (they seal under the active key). */
  readonly keyRing?: KeyRing;
  readonly constraints: SampleConstraints;
  /** Paper profile only: the paper's beta; default the largest that still decodes. */
  readonly beta?: number;
  /** Optional deployment secret for the layout PRF; default LAYOUT_KEY_DEFAULT (public). */
  readonly layoutKey?: Uint8Array;
  /** Injectable random source (nonces); default node's crypto.randomBytes. */
  readonly randomBytes?: (n: number) => Uint8Array;
}

export interface EmbedReport {
  profile: ProfileName;
  payloadBits: number;
  /** Including framing, seal and error correction. */
  embeddedBits: number;
  blocksAvailable: number;
  blocksUsed: number;
  changedPixels: number;
  mse: number;
  psnrMax65535: number;
  psnrBitsStored: number;
  capacityBits: number;
  capacityBppImage: number;
  capacityBppBackground: number;
  qrNcc?: number;
  beta?: number;
}

export type EmbedResult =
  | { ok: true; stego: PixelFrame; report: EmbedReport }
  | {
      ok: false;
      reason: 'no-background' | 'capacity';
      neededBits: number;
      capacityBits: number;
      message: string;
    };

export interface ExtractOptions {
  readonly profile?: ProfileName;
  readonly keyRing?: KeyRing;
  readonly beta?: number;
  readonly layoutKey?: Uint8Array;
}

export type ExtractResult =
  | {
      ok: true;
      profile: ProfileName;
      payload: Uint8Array;
      keyId?: string;
      correctedSymbols: number;
      erasures: number;
      qrNcc?: number;
    }
  | { ok: false; reason: 'no-payload' | 'wrong-key' | 'corrupted'; message: string };
