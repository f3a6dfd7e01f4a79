// ONNX's protobuf, device-free (the fast tier): a model with weights survives encode → bytes →
// parse exactly, a model that does not fit ONNX's schema is refused before any byte is
// written, and bytes that are not a model are named in one line.
import { describe, expect, it } from 'vitest';
import { parseOnnx } from '../import/graph.js';
import { DataType, decodeModel, encodeModel, floatTensor, int64Tensor, type ModelProto } from './onnx.js';

const weights = Float32Array.from([0.5, -1.25, 3e-8, -0, 65504, 1 / 3]);

function model(): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      input: [{ name: 'x' }],
      output: [{ name: 'y' }],
      initializer: [floatTensor('w', [2, 3], weights), int64Tensor('shape', [2], [-1, 2 ** 40])],
      node: [
        { opType: 'MatMul', name: 'mm', input: ['x', 'w'], output: ['h'] },
        { opType: 'Reshape', name: 'flat', input: ['h', 'shape'], output: ['y'] },
      ],
    },
  };
}

describe('ONNX protobuf', () => {
  it('keeps nodes, f32 weights and int64 values exactly through encode and parse', () => {
    const g = parseOnnx(encodeModel(model()), 'tiny.onnx');
    expect(g.opset).toBe(17);
    expect(g.nodes.map((n) => [n.op, n.name, n.inputs, n.outputs])).toEqual([
      ['MatMul', 'mm', ['x', 'w'], ['h']],
      ['Reshape', 'flat', ['h', 'shape'], ['y']],
    ]);
    const w = g.constants.get('w')!;
    expect({ dims: w.dims, kind: w.kind }).toEqual({ dims: [2, 3], kind: 'float' });
    expect(Array.from(w.data)).toEqual(Array.from(weights));
    expect(Object.is(w.data[3], -0)).toBe(true);
    const shape = g.constants.get('shape')!;
    expect({ dims: shape.dims, kind: shape.kind, data: Array.from(shape.data) }).toEqual({ dims: [2], kind: 'int', data: [-1, 2 ** 40] });
  });

  it('decodes what it encoded field for field', () => {
    const back = decodeModel(encodeModel(model()));
    expect(back.graph!.initializer!.map((t) => [t.name, t.dataType])).toEqual([['w', DataType.FLOAT], ['shape', DataType.INT64]]);
    expect(back.graph!.input!.map((v) => v.name)).toEqual(['x']);
  });

  it('refuses a model that does not fit the schema, before writing bytes', () => {
    const bad = { ...model(), irVersion: 'eight' } as unknown as ModelProto;
    expect(() => encodeModel(bad)).toThrow(/^ONNX model does not fit ONNX's schema: irVersion: integer\|Long expected$/);
  });

  it('names a file that is not an ONNX model', () => {
    expect(() => parseOnnx(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 'cat.jpg')).toThrow(/^cat\.jpg is not an ONNX model \(/);
    expect(() => parseOnnx(new Uint8Array(0), 'empty.onnx')).toThrow('empty.onnx is not an ONNX model (no graph nodes)');
  });
});
