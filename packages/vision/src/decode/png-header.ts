/**
 * PNG signature and IHDR: the declared size and pixel layout, read before inflating anything.
 */

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

export class PngHeaderError extends Error {}

/** Bit depths the PNG specification allows per colour type. */
const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

export function readPngHeader(bytes: Uint8Array): PngHeader {
  // 8-byte signature + IHDR chunk (4 length + 4 type + 13 data).
  if (bytes.length < 8 + 8 + 13) throw new PngHeaderError('truncated before the image header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (type !== 'IHDR' || view.getUint32(8) !== 13) throw new PngHeaderError('corrupt PNG (first chunk is not IHDR)');
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24]!;
  const colorType = bytes[25]!;
  const interlace = bytes[28]!;
  // The spec caps dimensions at 2^31-1; 0 is invalid.
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new PngHeaderError(`invalid PNG size ${width}x${height}`);
  }
  const depths = ALLOWED_DEPTHS[colorType];
  if (!depths) throw new PngHeaderError(`invalid PNG colour type ${colorType}`);
  if (!depths.includes(bitDepth)) throw new PngHeaderError(`invalid bit depth ${bitDepth} for colour type ${colorType}`);
  if (interlace > 1) throw new PngHeaderError(`invalid interlace method ${interlace}`);
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}
