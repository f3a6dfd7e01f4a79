// Public surface of the weight-file readers and writers: everything here works on bytes in
// memory and runs in a browser. The Node entry (@tessera/nn/node) adds the file readers and
// writers on top (see ../node/weight-files.ts).

export type { DType, RawTensor, StateDict, TensorData } from './types.js';
export { DTYPE_BYTES, numel, toFloat32, toNumbers } from './types.js';
export { WeightFileError } from './errors.js';
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
export { crc32 } from './crc32.js';
export { parseSafetensors, safetensorsChunks, serializeSafetensors, type Safetensors } from './safetensors.js';
export { looksLikeZip, readZip, type ZipArchive, type ZipEntry } from './zip.js';
export { PickleCallable, StorageType, TensorRef, unpickle, type PickleValue, type UnpickleOptions } from './pickle.js';
export { parseTorch, type TorchReadOptions } from './torch.js';
export { parseTfjsModel, tfjsShardPaths, type KerasLayer, type TfjsModel, type TfjsShardRef, type TfjsShards } from './tfjs.js';
export { depthwiseToOihw, hwioToOihw, inOutToOutIn, kerasToTorch, permute } from './keras-layout.js';
export { detectWeightFormatOf, parseStateDict, type WeightFormat } from './read-weights.js';
