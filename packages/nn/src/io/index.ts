// Public surface of the weight-file readers and writers.

export type { DType, RawTensor, StateDict, TensorData } from './types.js';
export { DTYPE_BYTES, numel, toFloat32, toNumbers } from './types.js';
export { WeightFileError } from './errors.js';
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
export { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, type Safetensors } from './safetensors.js';
export { looksLikeZip, readZip, type ZipArchive, type ZipEntry } from './zip.js';
export { PickleCallable, StorageType, TensorRef, unpickle, type PickleValue, type UnpickleOptions } from './pickle.js';
export { parseTorch, readTorch, type TorchReadOptions } from './torch.js';
export { readTfjsModel, type KerasLayer, type TfjsModel } from './tfjs.js';
export { depthwiseToOihw, hwioToOihw, inOutToOutIn, kerasToTorch, permute } from './keras-layout.js';
export { detectWeightFormat, readStateDict, type WeightFormat } from './read-weights.js';
