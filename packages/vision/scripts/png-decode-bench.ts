/**
 * PNG decode speed: the decoders Tessera could use, on the same files, interleaved file by file
 * so that load from other processes falls on all of them alike. Development only (never built).
 *
 *   TESSERA_DATA=/work/shared/data npx tsx --conditions=development packages/vision/scripts/png-decode-bench.ts [N]
 *
 * Inputs, made in a temporary folder first: the first N (default 100) paintings (512x512 JPEGs)
 * re-encoded as 8-bit RGB PNGs, and N counting images (64x64 PNGs, as `tessera data counting`
 * writes them). Prints each decoder's median milliseconds per image and megapixels per second,
 * and checks that every decoder gives the same RGB bytes. Then feeds each decoder two hostile
 * 16x16 files and prints what it did: one whose zlib stream holds half the rows, and a 195 KB one
 * whose data inflates to 200 MB (plain and interlaced).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as fastPngDecode } from 'fast-png';
import pngjs from 'pngjs';
import { zlibSync } from 'fflate';
import { decodeImage, encodePng } from '../src/index.js';
import { writeCountingDataset } from '../src/node/index.js';
import { pngFile } from '../src/testing/png-chunks.js';

type Decoder = (bytes: Uint8Array) => Uint8Array;

/** RGBA or RGB samples to RGB (the inputs here are opaque 8-bit, so no compositing is needed). */
function toRgb(data: ArrayLike<number>, pixels: number, channels: number): Uint8Array {
  if (channels === 3) return data instanceof Uint8Array ? data : Uint8Array.from(data);
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = data[channels * p + c]!;
  return rgb;
}

const DECODERS: Record<string, Decoder> = {
  'decodeImage (this checkout)': (bytes) => decodeImage(bytes).data,
  'pngjs 7 (PNG.sync.read)': (bytes) => {
    const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return toRgb(png.data, png.width * png.height, 4);
  },
  'fast-png 8 (decode)': (bytes) => {
    const png = fastPngDecode(bytes);
    return toRgb(png.data, png.width * png.height, png.channels);
  },
};

async function makeInputs(dir: string, n: number): Promise<{ name: string; files: Uint8Array[]; pixels: number }[]> {
  const data = process.env.TESSERA_DATA ?? './data';
  const paintingsDir = join(data, 'paintings');
  const classes = (await readdir(paintingsDir)).sort();
  const jpegs = (await Promise.all(classes.map(async (c) => (await readdir(join(paintingsDir, c))).sort().map((f) => join(paintingsDir, c, f))))).flat();
  const paintings: Uint8Array[] = [];
  let paintingPixels = 0;
  for (const path of jpegs.slice(0, n)) {
    const img = decodeImage(new Uint8Array(await readFile(path)), { file: path });
    paintingPixels += img.width * img.height;
    paintings.push(encodePng(img));
  }
  const out = join(dir, 'counting');
  await writeCountingDataset({ range: [1, 5], perClass: Math.ceil(n / 5), size: 64, seed: 0, out });
  const counting: Uint8Array[] = [];
  for (const c of (await readdir(out)).sort()) for (const f of (await readdir(join(out, c))).sort()) counting.push(new Uint8Array(await readFile(join(out, c, f))));
  await writeFile(join(dir, 'done'), '');
  return [
    { name: `paintings as PNG (${paintings.length}, 512x512 RGB)`, files: paintings, pixels: paintingPixels / paintings.length },
    { name: `counting (${counting.length}, 64x64 RGB)`, files: counting.slice(0, n), pixels: 64 * 64 },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function hostileFiles(): Record<string, Uint8Array> {
  const [width, height] = [16, 16];
  const rows = new Uint8Array((width * 3 + 1) * height).map((_, i) => (i % (width * 3 + 1) === 0 ? 0 : i & 0xff));
  const zeros = zlibSync(new Uint8Array(200e6));
  return {
    'half the rows': pngFile({ width, height, bitDepth: 8, colorType: 2 }, zlibSync(rows.subarray(0, rows.length / 2))),
    [`${zeros.length} B inflating to 200 MB`]: pngFile({ width, height, bitDepth: 8, colorType: 2 }, zeros),
    [`${zeros.length} B inflating to 200 MB, interlaced`]: pngFile({ width, height, bitDepth: 8, colorType: 2, interlaced: true }, zeros),
  };
}

function tryHostile(): void {
  for (const [name, bytes] of Object.entries(hostileFiles())) {
    console.log(`hostile: ${name}`);
    for (const [decoder, decode] of Object.entries(DECODERS)) {
      const t0 = performance.now();
      let outcome: string;
      try {
        const rgb = decode(bytes);
        outcome = `returned ${rgb.length} bytes`;
      } catch (err) {
        outcome = `threw: ${(err as Error).message.slice(0, 90)}`;
      }
      console.log(`  ${decoder.padEnd(30)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${outcome}`);
    }
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100);
  const dir = await mkdtemp(join(tmpdir(), 'tessera-png-bench-'));
  try {
    for (const set of await makeInputs(dir, n)) {
      const names = Object.keys(DECODERS);
      const times = new Map(names.map((k) => [k, [] as number[]]));
      for (const decoder of Object.values(DECODERS)) for (const f of set.files.slice(0, 5)) decoder(f); // warm-up (JIT)
      for (const file of set.files) {
        const reference = DECODERS[names[0]!]!(file);
        for (const name of names) {
          const t0 = performance.now();
          const rgb = DECODERS[name]!(file);
          times.get(name)!.push(performance.now() - t0);
          if (Buffer.compare(Buffer.from(rgb), Buffer.from(reference)) !== 0) throw new Error(`${name} decodes differently from ${names[0]}`);
        }
      }
      console.log(set.name);
      for (const name of names) {
        const ms = median(times.get(name)!);
        console.log(`  ${name.padEnd(30)} ${ms.toFixed(3).padStart(8)} ms/image  ${(set.pixels / 1e3 / ms).toFixed(1).padStart(6)} MP/s`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  tryHostile();
}

await main();
