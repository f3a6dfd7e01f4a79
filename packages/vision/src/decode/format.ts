/**
 * Image format detection from the first bytes of a file.
 *
 * Extensions lie (a PNG saved as .jpg, an HTML error page saved as .jpg), so the decoders are
 * chosen by magic bytes only. Formats we recognise but cannot decode are named, so the error
 * says "GIF is not supported" rather than "unknown format".
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'heif' | 'avif' | 'unknown';

/** Formats with a decoder in this package. */
export const DECODABLE_FORMATS: readonly ImageFormat[] = ['jpeg', 'png'];

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

export function detectFormat(bytes: Uint8Array): ImageFormat {
  // JPEG: SOI followed by the first marker's 0xFF (every JFIF/Exif/raw JPEG starts like this).
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  const head = ascii(bytes, 0, 4);
  if (head === 'GIF8') return 'gif';
  if (head === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  // ISO-BMFF: box size, then "ftyp" and a brand that says which still-image format it is.
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  return 'unknown';
}

/** "GIF", "WebP"...: how a format is named in error messages. */
export function formatName(format: ImageFormat): string {
  const names: Record<ImageFormat, string> = {
    jpeg: 'JPEG', png: 'PNG', gif: 'GIF', webp: 'WebP', bmp: 'BMP', tiff: 'TIFF', heif: 'HEIF', avif: 'AVIF',
    unknown: 'unknown',
  };
  return names[format];
}
