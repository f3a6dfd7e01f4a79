/**
 * Datasets as plain data, and back: the bridge that lets worker threads (Node's or a browser's
 * Web Workers) build the same dataset the main thread holds. Each kind of dataset adds one case
 * here; file-backed datasets are built by @tessera/vision/node, which passes them in as `extra`.
 */

import type { FileDecodeOptions } from '../decode/options.js';
import type { FileDatasetOptions, FileItem } from '../node/file-dataset.js';
import { CountingDataset, type ResolvedCountingOptions } from './counting.js';
import type { VisionDataset } from './dataset.js';
import { ImageBytesDataset, type BytesItem } from './memory-folder.js';
import { SubsetDataset } from './subset.js';

export type DatasetSpec =
  | { kind: 'files'; items: FileItem[]; classes: string[]; options: FileDatasetOptions }
  | { kind: 'bytes'; items: BytesItem[]; classes: string[]; options: { decode?: FileDecodeOptions; memoryBytes?: number } }
  | { kind: 'counting'; options: ResolvedCountingOptions }
  | { kind: 'subset'; base: DatasetSpec; indices: number[] };

/** Builds kinds this entry does not know (files, in Node), or returns undefined. */
export type SpecBuilder = (spec: DatasetSpec) => VisionDataset | undefined;

export function datasetFromSpec(spec: DatasetSpec, extra?: SpecBuilder): VisionDataset {
  const built = extra?.(spec);
  if (built) return built;
  switch (spec.kind) {
    case 'bytes':
      return new ImageBytesDataset(spec.items, spec.classes, spec.options);
    case 'counting':
      return new CountingDataset(spec.options);
    case 'subset':
      return new SubsetDataset(datasetFromSpec(spec.base, extra), spec.indices);
    case 'files':
      throw new TypeError("a file dataset can only be rebuilt in Node: use datasetFromSpec from '@tessera/vision/node'");
  }
}
