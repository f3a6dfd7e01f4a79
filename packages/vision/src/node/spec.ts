/** Datasets from their specs in Node: file datasets too. */
import { datasetFromSpec, type DatasetSpec } from '../datasets/spec.js';
import type { VisionDataset } from '../datasets/dataset.js';
import { FileDataset } from './file-dataset.js';

export function nodeDatasetFromSpec(spec: DatasetSpec): VisionDataset {
  return datasetFromSpec(spec, (s) => (s.kind === 'files' ? new FileDataset(s.items, s.classes, s.options) : undefined));
}
