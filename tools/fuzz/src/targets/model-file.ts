/**
 * The model file (safetensors + Tessera metadata), through its public reader
 * `modelFromBytes`, which rebuilds the network on the GPU device and loads the weights.
 * Seed: a Tiny Darknet classifier (the smallest architecture), made on the device. Edits
 * land in the header 90% of the time: the megabytes after it are float data, where any
 * bytes are valid. Its errors are TesseraErrors (WeightFileError from the safetensors layer)
 * naming the file. Budget: the weights' copies (16 bytes per input byte) plus the largest
 * network the metadata may name (ResNet-50, 25.6 M parameters, as float32 twice). After
 * every case the GPU memory in use must be back where it was.
 */

import { initDevice, memoryStats, TesseraError } from '@tessera/tensor';
import { ARCHS, createNetwork, io, modelFromBytes, modelToBytes, type ModelMeta } from '@tessera/nn';
import { inputSize, MiB, type Seed, type Target } from '../target.js';
import { safetensorsBoundaries } from '../seeds/weights.js';

const RESNET50_PARAMS = 25_600_000;

/** GPU memory in use when the current case began: a case must give back what it took. */
let liveBefore = 0;

async function modelSeeds(): Promise<Seed[]> {
  const meta: ModelMeta = { arch: 'darknet-tiny', kind: 'classifier', classes: ['ants', 'bees'], preprocess: { size: 224, normalize: 'none', resize: 'align-corners' } };
  const net = createNetwork('darknet-tiny', 2);
  const bytes = await modelToBytes(net, meta);
  net.dispose();
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  // Every quote of the metadata object: the text edits that land there rewrite its values.
  const header = new TextDecoder().decode(bytes.subarray(0, headerEnd));
  const from = header.indexOf('"__metadata__"');
  const to = header.indexOf('}', from);
  const quotes = [...header.slice(from, to)].flatMap((c, i) => (c === '"' ? [from + i] : []));
  const boundaries = [...safetensorsBoundaries(bytes).filter((b) => b <= headerEnd), ...quotes];
  return [{ name: 'darknet-tiny classifier, 2 classes', parts: [bytes], boundaries: [boundaries], focus: [[0, headerEnd]] }];
}

export const modelFileTarget: Target = {
  name: 'model-file',
  description: 'modelFromBytes: safetensors, tessera-model-1 metadata (arch, kind, classes, preprocess), strict weight load',
  partNames: ['model.safetensors'],
  setup: async () => { await initDevice(); },
  // One WebGPU device for the whole run crashed the process (SIGSEGV) after about 20 000
  // cases: loads that are never followed by a submit pile up GPU writes (see docs/fuzzing.md).
  // A fresh worker and device every 5 000 cases keeps the run going.
  casesPerWorker: 5000,
  seeds: modelSeeds,
  run: (parts, label) => {
    liveBefore = memoryStats().bytesLive;
    const { model, meta } = modelFromBytes(parts[0]!, label);
    model.dispose();
    return meta;
  },
  isOwnError: (err) => err instanceof TesseraError || err instanceof io.WeightFileError,
  afterCase: () => {
    const held = memoryStats().bytesLive - liveBefore;
    return held > 0 ? `${held} bytes of GPU memory still in use after the case (a model not disposed)` : null;
  },
  checkResult: (result) => {
    // What predict and the web app rely on: a known architecture and kind, class names,
    // and a preprocessing they can carry out.
    const m = result as ModelMeta;
    // 'graph' (an imported ONNX network) loads only with @tessera/onnx, which this target does not load.
    if (!(ARCHS as readonly string[]).includes(m.arch)) return `arch ${JSON.stringify(m.arch)}`;
    if (m.kind !== 'classifier' && m.kind !== 'vision') return `kind ${JSON.stringify(m.kind)}`;
    if (!Array.isArray(m.classes) || m.classes.length === 0 || !m.classes.every((c) => typeof c === 'string')) return `classes ${JSON.stringify(m.classes)}`;
    const p = m.preprocess as Partial<ModelMeta['preprocess']> | null;
    if (typeof p !== 'object' || p === null || !Number.isSafeInteger(p.size) || p.size! < 1 ||
        (p.normalize !== 'imagenet' && p.normalize !== 'none') || (p.resize !== 'crop' && p.resize !== 'align-corners')) {
      return `preprocess ${JSON.stringify(p)}`;
    }
    return null;
  },
  budget: (parts) => 16 * inputSize(parts) + 8 * RESNET50_PARAMS + MiB,
};
