/**
 * `train --pretrained` with an imported network: an ONNX classifier (model.onnx) or a model
 * file that `convert` made from one (arch 'graph'). The body is the graph up to its classifier
 * (@tessera/onnx's cut), the head is fastai's; the run's model file keeps the graph.
 */
import { exportStateDict, loadStateDict, type Module, type Preprocess, type VisionModel } from '@tessera/nn';
import { loadModel } from '@tessera/nn/node';
import { decodeGraph, graphModel, onnxVisionModel } from '@tessera/onnx';
import { onnxClassifierMeta, readOnnxModel } from '@tessera/onnx/node';
import { TesseraError } from '@tessera/tensor';
import { UsageError } from './args.js';
import { modelFileMeta } from './weights.js';

export interface GraphPretrained {
  /** The structure, as a model file keeps it. */
  encoded: string;
  preprocess: Preprocess;
  describe: string;
  visionModel(nClasses: number, size: number): Promise<VisionModel>;
}

/** Null when `path` is not an imported network (then the usual weight files apply). */
export async function graphPretrained(path: string): Promise<GraphPretrained | null> {
  if (path.endsWith('.onnx')) {
    const { graph, encoded } = await readOnnxModel(path);
    return {
      encoded,
      preprocess: graph.metadata.has('tessera.preprocess') ? JSON.parse(graph.metadata.get('tessera.preprocess')!) as Preprocess : { size: 224, normalize: 'imagenet', resize: 'crop' },
      describe: `ONNX network from ${path} (body up to its classifier)`,
      visionModel: async (n, size) => onnxVisionModel(graph, n, { source: path, size }),
    };
  }
  const meta = await modelFileMeta(path);
  if (meta?.arch !== 'graph') return null;
  return {
    encoded: meta.graph!,
    preprocess: meta.preprocess,
    describe: `imported network from ${path} (body up to its classifier)`,
    async visionModel(n, size) {
      const { model: loaded } = await loadModel(path);
      const sd = await exportStateDict(loaded);
      loaded.dispose();
      // The file's weights under the new model's names: a converted classifier's layers are the
      // body's (0.0.<layer>), a trained vision model's body keeps its keys; its head is made anew.
      const body = new Map([...sd].filter(([k]) => !k.startsWith('1.')).map(([k, t]) => [meta.kind === 'vision' ? k : `0.0.${k}`, t]));
      decodeGraph(meta.graph!, path);
      const model = graphModel({ ...meta, kind: 'vision', classes: Array.from({ length: n }, String), preprocess: { ...meta.preprocess, size } }, path) as VisionModel;
      const report = loadStateDict(model as Module, body, { strict: false, source: path });
      const missing = report.missing.filter((k) => k.startsWith('0.'));
      if (missing.length || report.wrongShape.length) {
        model.dispose();
        throw new UsageError(`train: ${path} does not fit its own graph (${missing.length} body weights missing, ${report.wrongShape.length} of the wrong shape)`);
      }
      return model;
    },
  };
}

/** `convert model.onnx out.safetensors [--labels FILE]`: an ONNX classifier as a Tessera model file (arch 'graph'). */
export async function convertOnnx(input: string, labels: string[] | null): Promise<{ module: Module; encoded: string; meta: ReturnType<typeof onnxClassifierMeta> }> {
  const { graph, encoded } = await readOnnxModel(input);
  const { OnnxGraphModule } = await import('@tessera/onnx');
  const module = new OnnxGraphModule(graph, { source: input });
  try {
    return { module, encoded, meta: onnxClassifierMeta(graph, module, labels) };
  } catch (e) {
    module.dispose();
    if (e instanceof TesseraError) throw new UsageError(`convert: ${input}: ${e.message}`);
    throw e;
  }
}
