/**
 * Datasets as plain data, and back: the bridge that lets worker threads build the same dataset
 * the main thread holds. Each kind of dataset adds one case here.
 */

import { CountingDataset, type ResolvedCountingOptions } from './counting.js';
import type { VisionDataset } from './dataset.js';
import { FileDataset, type FileDatasetOptions, type FileItem } from './file-dataset.js';
import { SubsetDataset } from './subset.js';

export type DatasetSpec =
  | { kind: 'files'; items: FileItem[]; classes: string[]; options: FileDatasetOptions }
  | { kind: 'counting'; options: ResolvedCountingOptions }
  | { kind: 'subset'; base: DatasetSpec; indices: number[] };

export function datasetFromSpec(spec: DatasetSpec): VisionDataset {
  switch (spec.kind) {
    case 'files':
      return new FileDataset(spec.items, spec.classes, spec.options);
    case 'counting':
      return new CountingDataset(spec.options);
    case 'subset':
      return new SubsetDataset(datasetFromSpec(spec.base), spec.indices);
  }
}
