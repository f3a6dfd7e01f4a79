/**
 * Test-only Exif writer: builds an APP1 segment whose IFD0 holds an Orientation tag (after an
 * unrelated tag, so the reader must walk the directory) and splices it in after SOI, where
 * cameras put it.
 */

export function exifSegment(orientation: number, littleEndian = false): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 2 * 12 + 4);
  const view = new DataView(tiff.buffer);
  tiff.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d], 0);
  view.setUint16(2, 42, littleEndian);
  view.setUint32(4, 8, littleEndian); // IFD0 right after the header
  view.setUint16(8, 2, littleEndian); // two entries
  // Entry 1: ImageWidth (0x0100), LONG, 1, value 640: something to skip over.
  view.setUint16(10, 0x0100, littleEndian);
  view.setUint16(12, 4, littleEndian);
  view.setUint32(14, 1, littleEndian);
  view.setUint32(18, 640, littleEndian);
  // Entry 2: Orientation (0x0112), SHORT, 1, value in the first two bytes of the field.
  view.setUint16(22, 0x0112, littleEndian);
  view.setUint16(24, 3, littleEndian);
  view.setUint32(26, 1, littleEndian);
  view.setUint16(30, orientation, littleEndian);
  view.setUint32(34, 0, littleEndian); // no next IFD
  const body = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const length = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...body]);
}

export function withExifOrientation(jpeg: Uint8Array, orientation: number, littleEndian = false): Uint8Array {
  const app1 = exifSegment(orientation, littleEndian);
  const out = new Uint8Array(jpeg.length + app1.length);
  out.set(jpeg.subarray(0, 2));
  out.set(app1, 2);
  out.set(jpeg.subarray(2), 2 + app1.length);
  return out;
}
