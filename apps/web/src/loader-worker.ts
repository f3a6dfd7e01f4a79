/**
 * A DataLoader worker: decodes and resizes images for the training worker's batches, ahead
 * of the GPU (started by @tessera/vision's webWorkers; one per spare CPU core, up to 4).
 */
import { serveLoaderWorker } from '@tessera/vision';

serveLoaderWorker();
