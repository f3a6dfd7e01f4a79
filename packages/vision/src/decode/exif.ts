/**
 * Reads the Orientation tag (0x0112) from IFD0 of an Exif TIFF payload.
 *
 * Cameras store pixels as the sensor saw them and record the rotation here; photo viewers (and
 * PIL's `exif_transpose`, which fastai users rely on) show the image turned upright. Only this one
 * tag is needed, so a 40-line reader beats a dependency. Malformed Exif never fails a decode: it
 * yields orientation 1 (as stored), because the pixels themselves are still good.
 */

/** 1..8 as defined by Exif/TIFF: 1 upright, 3 rotated 180, 6 needs 90° clockwise, 8 needs 90° anticlockwise, 2/4/5/7 mirrored. */
export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const ORIENTATION_TAG = 0x0112;
const TYPE_SHORT = 3;

/** `tiff` is the APP1 body after "Exif\0\0", starting at the TIFF byte-order mark. */
export function readExifOrientation(tiff: Uint8Array): ExifOrientation {
  if (tiff.length < 8) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return 1; // neither "II" nor "MM"
  const little = order === 0x4949;
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd0 = view.getUint32(4, little);
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd0, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (view.getUint16(entry + 2, little) !== TYPE_SHORT || view.getUint32(entry + 4, little) < 1) return 1;
    // A single SHORT sits left-aligned in the 4-byte value field, in the file's byte order.
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? (value as ExifOrientation) : 1;
  }
  return 1;
}
