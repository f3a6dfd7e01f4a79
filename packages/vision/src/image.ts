/**
 * The one pixel container of the CPU side: 8-bit RGB, row-major, channels interleaved (HWC).
 *
 * Everything the decoders, resizers, caches and datasets exchange is an `RgbImage`; batches are
 * these laid end to end (NHWC), which is what the GPU upload expects.
 */

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes, R G B per pixel, rows top to bottom. */
  readonly data: Uint8Array;
}

/** Bytes an image occupies: the unit the caches budget in. */
export function imageBytes(width: number, height: number): number {
  return width * height * 3;
}

/** A blank (black) image, validating the size once so callers need not. */
export function createImage(width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  return { width, height, data: new Uint8Array(imageBytes(width, height)) };
}

/** Throws when `data` does not hold exactly width*height RGB pixels (guards hand-made images). */
export function assertRgbImage(img: RgbImage): void {
  if (img.data.length !== imageBytes(img.width, img.height)) {
    throw new RangeError(
      `RgbImage ${img.width}x${img.height} needs ${imageBytes(img.width, img.height)} bytes, has ${img.data.length}`,
    );
  }
}
