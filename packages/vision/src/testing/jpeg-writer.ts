/**
 * Test-only JPEG writer: baseline or progressive (spectral selection), 1, 3 or 4 components,
 * optional Adobe APP14 marker. jpeg-js can only write baseline 3-component files, and the
 * decoder must be tested on progressive, grayscale and CMYK/YCCK files built in the test itself.
 *
 * Deliberately simple: no chroma subsampling, one flat quantisation table (near lossless), one
 * canonical Huffman table per class with every symbol the same length. Progressive files use
 * spectral selection only (DC scan, then two AC bands per component); successive approximation is
 * exercised by the real progressive photos in the hymenoptera set when it is present.
 */

export interface JpegWriteSpec {
  width: number;
  height: number;
  /** One plane (width*height samples) per component, in stored order. */
  planes: Uint8Array[];
  progressive?: boolean;
  /** Write an Adobe APP14 marker with this transform (0 none/CMYK, 1 YCbCr, 2 YCCK). */
  adobeTransform?: 0 | 1 | 2;
  /** Flat quantiser; 2 keeps every coefficient within the baseline Huffman categories. */
  quantizer?: number;
}

/** Zigzag position -> natural (row-major) index in the 8x8 block. */
const ZIGZAG: number[] = (() => {
  const order: number[] = [];
  for (let s = 0; s < 15; s++) {
    const cells: number[] = [];
    for (let y = 0; y < 8; y++) {
      const x = s - y;
      if (x >= 0 && x < 8) cells.push(y * 8 + x);
    }
    // Even diagonals run bottom-left to top-right, odd ones the other way.
    order.push(...(s % 2 === 0 ? cells.reverse() : cells));
  }
  return order;
})();

const COS = Array.from({ length: 8 }, (_, x) => Array.from({ length: 8 }, (_, u) => Math.cos(((2 * x + 1) * u * Math.PI) / 16)));

function fdct(block: Float64Array): Float64Array {
  const out = new Float64Array(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += block[y * 8 + x]! * COS[x]![u]! * COS[y]![v]!;
      const cu = u === 0 ? Math.SQRT1_2 : 1;
      const cv = v === 0 ? Math.SQRT1_2 : 1;
      out[v * 8 + u] = 0.25 * cu * cv * sum;
    }
  }
  return out;
}

/** Canonical Huffman table where every symbol has the same length (valid, if not compact). */
interface Huffman {
  counts: number[]; // codes per length 1..16
  symbols: number[];
  code: Map<number, { code: number; length: number }>;
}

function flatHuffman(symbols: number[], length: number): Huffman {
  const counts = new Array<number>(16).fill(0);
  counts[length - 1] = symbols.length;
  const code = new Map(symbols.map((s, i) => [s, { code: i, length }] as const));
  return { counts, symbols, code };
}

const DC_TABLE = flatHuffman(Array.from({ length: 12 }, (_, i) => i), 4);
const AC_TABLE = flatHuffman(
  [0x00, 0xf0, ...Array.from({ length: 16 * 10 }, (_, i) => ((i / 10) | 0) * 16 + (i % 10) + 1)],
  8,
);

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.emit();
    }
  }
  private emit(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  /** Pads the last byte with 1-bits, as the standard requires at the end of a scan. */
  flush(): number[] {
    while (this.n !== 0) this.write(1, 1);
    return this.bytes;
  }
}

function category(v: number): number {
  let a = Math.abs(v);
  let s = 0;
  while (a) {
    s++;
    a >>= 1;
  }
  return s;
}

function writeValue(bits: BitWriter, table: Huffman, symbol: number, value: number, size: number): void {
  const c = table.code.get(symbol);
  if (!c) throw new Error(`no Huffman code for symbol ${symbol.toString(16)}`);
  bits.write(c.code, c.length);
  if (size) bits.write(value >= 0 ? value : value + (1 << size) - 1, size);
}

/** Codes coefficients ss..se (zigzag) of one block; baseline and progressive first scans agree. */
function writeAcBand(bits: BitWriter, zz: Int32Array, ss: number, se: number): void {
  let run = 0;
  for (let k = ss; k <= se; k++) {
    const v = zz[k]!;
    if (v === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      writeValue(bits, AC_TABLE, 0xf0, 0, 0);
      run -= 16;
    }
    const s = category(v);
    writeValue(bits, AC_TABLE, (run << 4) | s, v, s);
    run = 0;
  }
  if (run > 0) writeValue(bits, AC_TABLE, 0x00, 0, 0); // EOB (progressive: EOBRUN of 1)
}

function segment(marker: number, body: number[]): number[] {
  const length = body.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...body];
}

/** Quantised zigzag coefficients for every block of every component. */
function quantisedBlocks(spec: JpegWriteSpec, q: number): Int32Array[][] {
  const bw = Math.ceil(spec.width / 8);
  const bh = Math.ceil(spec.height / 8);
  return spec.planes.map((plane) => {
    const blocks: Int32Array[] = [];
    for (let by = 0; by < bh; by++) {
      for (let bx = 0; bx < bw; bx++) {
        const block = new Float64Array(64);
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            // Edge blocks repeat the last row/column, as encoders usually do.
            const sx = Math.min(bx * 8 + x, spec.width - 1);
            const sy = Math.min(by * 8 + y, spec.height - 1);
            block[y * 8 + x] = plane[sy * spec.width + sx]! - 128;
          }
        }
        const coefficients = fdct(block);
        const zz = new Int32Array(64);
        for (let k = 0; k < 64; k++) zz[k] = Math.round(coefficients[ZIGZAG[k]!]! / q);
        blocks.push(zz);
      }
    }
    return blocks;
  });
}

function scanHeader(componentIds: number[], ss: number, se: number): number[] {
  return segment(0xda, [componentIds.length, ...componentIds.flatMap((id) => [id, 0x00]), ss, se, 0x00]);
}

export function writeJpeg(spec: JpegWriteSpec): Uint8Array {
  const q = spec.quantizer ?? 2;
  const n = spec.planes.length;
  const blocks = quantisedBlocks(spec, q);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const out: number[] = [0xff, 0xd8];
  if (spec.adobeTransform === undefined) {
    out.push(...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0])); // JFIF
  } else {
    out.push(...segment(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0, 0, 0, 0, spec.adobeTransform]));
  }
  out.push(...segment(0xdb, [0x00, ...new Array<number>(64).fill(q)]));
  out.push(
    ...segment(spec.progressive ? 0xc2 : 0xc0, [
      8, spec.height >> 8, spec.height & 0xff, spec.width >> 8, spec.width & 0xff, n,
      ...ids.flatMap((id) => [id, 0x11, 0x00]),
    ]),
  );
  out.push(...segment(0xc4, [0x00, ...DC_TABLE.counts, ...DC_TABLE.symbols]));
  out.push(...segment(0xc4, [0x10, ...AC_TABLE.counts, ...AC_TABLE.symbols]));
  const blockCount = blocks[0]!.length;

  const dcScan = (withAc: boolean): number[] => {
    const bits = new BitWriter();
    const previous = new Array<number>(n).fill(0);
    for (let b = 0; b < blockCount; b++) {
      for (let c = 0; c < n; c++) {
        const zz = blocks[c]![b]!;
        const diff = zz[0]! - previous[c]!;
        previous[c] = zz[0]!;
        const s = category(diff);
        writeValue(bits, DC_TABLE, s, diff, s);
        if (withAc) writeAcBand(bits, zz, 1, 63);
      }
    }
    return bits.flush();
  };

  if (!spec.progressive) {
    out.push(...scanHeader(ids, 0, 63), ...dcScan(true));
  } else {
    out.push(...scanHeader(ids, 0, 0), ...dcScan(false));
    for (const [ss, se] of [[1, 5], [6, 63]] as const) {
      for (let c = 0; c < n; c++) {
        const bits = new BitWriter();
        for (let b = 0; b < blockCount; b++) writeAcBand(bits, blocks[c]![b]!, ss, se);
        out.push(...scanHeader([ids[c]!], ss, se), ...bits.flush());
      }
    }
  }
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

/** JFIF RGB -> YCbCr planes (full range, the conversion jpeg-js inverts). */
export function rgbToYcbcrPlanes(width: number, height: number, rgb: Uint8Array): Uint8Array[] {
  const planes = [0, 1, 2].map(() => new Uint8Array(width * height));
  for (let i = 0; i < width * height; i++) {
    const r = rgb[3 * i]!;
    const g = rgb[3 * i + 1]!;
    const b = rgb[3 * i + 2]!;
    const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
    planes[0]![i] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    planes[1]![i] = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
    planes[2]![i] = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
  }
  return planes;
}

/** A colour photo-like JPEG from RGB pixels. */
export function writeRgbJpeg(width: number, height: number, rgb: Uint8Array, progressive = false): Uint8Array {
  return writeJpeg({ width, height, planes: rgbToYcbcrPlanes(width, height, rgb), progressive });
}
