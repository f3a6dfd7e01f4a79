/** ONNX files on disk. */
import { writeAtomic } from '@tessera/tensor/node';
import type { Module, ModelMeta } from '@tessera/nn';
import { exportOnnx } from '../export/export.js';

/** Writes `source` as an ONNX model at `path` (temporary file, then rename: an old file survives a failure). */
export async function saveOnnx(path: string, source: Module | { model: Module }, meta: ModelMeta): Promise<void> {
  const bytes = await exportOnnx(source, meta);
  await writeAtomic(path, [bytes], { sync: true });
}
