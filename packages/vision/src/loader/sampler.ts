/**
 * Which items each batch of an epoch holds: the epoch's order (seeded shuffle, a fresh
 * permutation per epoch from (seed, epoch), so any epoch can be replayed on its own) cut into
 * batches, the last one partial or dropped.
 */

import { mixSeed, permutation } from '../random.js';

export interface SamplerOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  dropLast: boolean;
}

export function epochOrder(length: number, epoch: number, { shuffle, seed }: Pick<SamplerOptions, 'shuffle' | 'seed'>): number[] {
  return shuffle ? permutation(length, mixSeed(seed, epoch)) : Array.from({ length }, (_, i) => i);
}

export function batchCount(length: number, { batchSize, dropLast }: Pick<SamplerOptions, 'batchSize' | 'dropLast'>): number {
  return dropLast ? Math.floor(length / batchSize) : Math.ceil(length / batchSize);
}

export function epochBatches(length: number, epoch: number, options: SamplerOptions): number[][] {
  const order = epochOrder(length, epoch, options);
  return Array.from({ length: batchCount(length, options) }, (_, b) => order.slice(b * options.batchSize, (b + 1) * options.batchSize));
}
