/**
 * `exportOnnx`: a Tessera model (or a learner's) as the bytes of a standard ONNX model —
 * opset 17, input `input` [batch, 3, size, size] float32 NCHW already normalised, output
 * `logits` [batch, classes] — with what a consumer needs to feed it in metadata_props
 * (see `onnxMetadata`).
 */
import { exportStateDict, type Module, type ModelMeta } from '@tessera/nn';
import { DataType, encodeModel, type ModelProto, type ValueInfoProto } from '../proto/onnx.js';
import { GraphBuilder } from './graph-builder.js';
import { emitModule } from './emit-modules.js';
import { onnxMetadata } from '../metadata.js';

export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

function tensorValue(name: string, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Exports `source` (a model, or anything with one, like a Learner) for inference. */
export async function exportOnnx(source: Module | { model: Module }, meta: ModelMeta): Promise<Uint8Array> {
  const model = 'model' in source ? source.model : source;
  // The weights as PyTorch lays them out (OIHW convolutions), which is ONNX's layout.
  const sd = await exportStateDict(model);
  const g = new GraphBuilder();
  const logits = emitModule({ g, sd }, model, '', 'input');
  // Name the graph's output `logits` without an extra node: rename the last node's output.
  const last = g.nodes[g.nodes.length - 1]!;
  last.output = [logits === last.output![0] ? 'logits' : logits];
  const size = meta.preprocess.size;
  const proto: ModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tessera',
    producerVersion: '0.1.0',
    docString: `Tessera ${meta.arch} (${meta.kind}) with ${meta.classes.length} classes`,
    graph: {
      name: `tessera-${meta.arch}`,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorValue('input', ['batch', 3, size, size])],
      output: [tensorValue('logits', ['batch', meta.classes.length])],
    },
    metadataProps: Object.entries(onnxMetadata(meta)).map(([key, value]) => ({ key, value })),
  };
  return encodeModel(proto);
}
