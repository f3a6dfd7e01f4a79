/**
 * ONNX files from disk: the model through readFileChecked (size cap, clear errors), and
 * external data — weights stored beside the graph, how ONNX models past protobuf's 2 GB limit
 * are saved — read from the files it names, which must stay inside the model's folder.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { TesseraError } from '@tessera/tensor';
import { readFileChecked } from '@tessera/tensor/node';
import { parseOnnx, type ParsedGraph } from '../import/graph.js';
import { encodeGraph } from '../import/graph-file.js';
import type { ExternalDataReader } from '../import/tensor-data.js';

/** Reads slices of the external data files next to `modelPath`. */
export function externalDataReader(modelPath: string): ExternalDataReader {
  const dir = dirname(resolve(modelPath));
  return (location, offset, length) => {
    const file = resolve(dir, location);
    const rel = relative(dir, file);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new TesseraError(`${modelPath}: external data '${location}' lies outside the model's folder; refusing to read it`);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      throw new TesseraError(`${modelPath}: its weights are in '${location}' beside it, which cannot be read; keep the data file next to the model`);
    }
    try {
      const size = fstatSync(fd).size;
      const n = length ?? size - offset;
      if (offset < 0 || n < 0 || offset + n > size) throw new TesseraError(`${modelPath}: external data '${location}' is ${size} bytes, too short for ${n} bytes at offset ${offset}`);
      const out = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, out, got, n - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}

/** Parses the ONNX model at `path`, with its external data if it has any. */
export async function readOnnxFile(path: string): Promise<ParsedGraph> {
  return (await readOnnxModel(path)).graph;
}

/** The parsed graph and, for a model file, its structure without weights (`encodeGraph`). */
export async function readOnnxModel(path: string): Promise<{ graph: ParsedGraph; encoded: string }> {
  const bytes = await readFileChecked(path, { what: 'ONNX model' });
  const graph = parseOnnx(bytes, path, externalDataReader(path));
  return { graph, encoded: encodeGraph(bytes) };
}
