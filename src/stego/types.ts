/**
 * Value objects shared by the steganography engine and its callers. Pure data, no behaviour.
 */

/** One image plane of integer samples, row-major, as stored (before Rescale Slope/Intercept). */
export interface PixelFrame {
  readonly rows: number;
  readonly columns: number;
  /** Bits Stored (0028,0101): samples lie in [0, 2^bitsStored - 1] or the signed equivalent. */
  readonly bitsStored: number;
  /** Pixel Representation (0028,0103) = 1. */
  readonly signed: boolean;
  readonly samples: Int32Array;
}

/** Per-pixel mask of the medically significant region: 1 = significant (diagnostic), 0 = background. */
export interface SignificanceMask {
  readonly rows: number;
  readonly columns: number;
  readonly data: Uint8Array;
}

/** Block edge in pixels: the paper embeds in 4x4 blocks. */
export const BLOCK_SIZE = 4;

/**
 * Which 4x4 blocks of the image grid may change: 1 = wholly background, at least the safety margin
 * away from the significant region, and free of frozen pixels (e.g. Pixel Padding Value).
 * Block (bx, by) covers columns 4*bx..4*bx+3 and rows 4*by..4*by+3; partial edge blocks never count.
 */
export interface BlockMap {
  readonly blockRows: number;
  readonly blockColumns: number;
  readonly usable: Uint8Array;
}

/** The inclusive sample range a stego value must stay in, and values it must never take. */
export interface SampleConstraints {
  readonly minValue: number;
  readonly maxValue: number;
  /** Inclusive ranges (e.g. Pixel Padding Value..Range Limit) that an embedded sample must avoid. */
  readonly forbidden: readonly (readonly [number, number])[];
}
