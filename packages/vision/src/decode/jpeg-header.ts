/**
 * JPEG marker walk up to the first scan: frame size, colour layout, Adobe and Exif segments.
 *
 * This runs before any pixel is decoded so that the size limit (decompression bombs) is enforced
 * on the header alone, and so that variants jpeg-js cannot decode get a precise reason instead of
 * its generic "unknown JPEG marker".
 */

export interface JpegHeader {
  width: number;
  height: number;
  /** 1 grayscale, 3 YCbCr/RGB, 4 CMYK/YCCK. */
  components: number;
  /** Component identifiers from the frame header (libjpeg reads 'R','G','B' as "not YCbCr"). */
  componentIds: number[];
  progressive: boolean;
  /** Adobe APP14 colour transform (0 none/CMYK, 1 YCbCr, 2 YCCK), null when there is no APP14. */
  adobeTransform: number | null;
  /** TIFF payload of the first APP1 "Exif\0\0" segment, or null. */
  exif: Uint8Array | null;
}

/** Thrown for headers we can name a reason for; the caller wraps it with the file name. */
export class JpegHeaderError extends Error {}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP1 = 0xe1;
const APP14 = 0xee;

/** Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** The reason jpeg-js cannot decode a frame type, or null when it can (SOF0/1/2). */
function unsupportedFrame(marker: number, precision: number): string | null {
  if (marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf) return 'lossless JPEG is not supported';
  if (marker >= 0xc9) return 'arithmetic-coded JPEG is not supported';
  if (marker >= 0xc5) return 'hierarchical JPEG is not supported';
  if (precision !== 8) return `${precision}-bit JPEG is not supported (only 8-bit)`;
  return null;
}

function startsWithAscii(bytes: Uint8Array, text: string): boolean {
  if (bytes.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) throw new JpegHeaderError('not a JPEG (no start-of-image marker)');
  let frame: Omit<JpegHeader, 'adobeTransform' | 'exif'> | null = null;
  let adobeTransform: number | null = null;
  let exif: Uint8Array | null = null;
  let offset = 2;
  for (;;) {
    if (offset >= bytes.length) throw new JpegHeaderError('truncated before the first scan');
    if (bytes[offset] !== 0xff) throw new JpegHeaderError(`corrupt marker structure at byte ${offset}`);
    // Any number of 0xFF fill bytes may precede a marker code.
    while (offset < bytes.length && bytes[offset] === 0xff) offset++;
    if (offset >= bytes.length) throw new JpegHeaderError('truncated before the first scan');
    const marker = bytes[offset++]!;
    if (marker === EOI) throw new JpegHeaderError('no image data (end-of-image before any scan)');
    // Standalone markers (TEM, RSTn) carry no length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (offset + 2 > bytes.length) throw new JpegHeaderError('truncated inside the header');
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    if (length < 2) throw new JpegHeaderError(`corrupt segment length at byte ${offset}`);
    const body = bytes.subarray(offset + 2, offset + length);
    if (offset + length > bytes.length) throw new JpegHeaderError('truncated inside the header');

    if (isStartOfFrame(marker)) {
      if (body.length < 6) throw new JpegHeaderError('corrupt frame header');
      const precision = body[0]!;
      const height = (body[1]! << 8) | body[2]!;
      const width = (body[3]! << 8) | body[4]!;
      const components = body[5]!;
      const unsupported = unsupportedFrame(marker, precision);
      if (unsupported) throw new JpegHeaderError(unsupported);
      if (width === 0 || height === 0) {
        // Height 0 means "given later by a DNL marker": legal, but neither we nor jpeg-js handle it.
        throw new JpegHeaderError(`frame size ${width}x${height} is not supported`);
      }
      if (![1, 3, 4].includes(components)) throw new JpegHeaderError(`${components}-component JPEG is not supported`);
      if (body.length < 6 + 3 * components) throw new JpegHeaderError('corrupt frame header');
      const componentIds = Array.from({ length: components }, (_, i) => body[6 + 3 * i]!);
      frame = { width, height, components, componentIds, progressive: marker === 0xc2 };
    } else if (marker === APP1 && exif === null && startsWithAscii(body, 'Exif\0\0')) {
      exif = body.subarray(6);
    } else if (marker === APP14 && startsWithAscii(body, 'Adobe') && body.length >= 12) {
      adobeTransform = body[11]!;
    } else if (marker === SOS) {
      if (!frame) throw new JpegHeaderError('scan before any frame header');
      return { ...frame, adobeTransform, exif };
    }
    offset += length;
  }
}
