/**
 * ImageNet weights from the files a person selected in the page: a TF.js layers model
 * (model.json and its shards, matched by file name) or one safetensors / torch.save file,
 * read into the state dict that visionLearner's `pretrained` takes.
 */
import { io } from '@tessera/fastai';

export async function readWeights(files: { name: string; file: Blob }[]): Promise<{ weights: io.StateDict; source: string }> {
  const json = files.find((f) => f.name.endsWith('.json'));
  if (json) {
    const shards = new Map<string, Uint8Array>();
    for (const f of files) if (f !== json) shards.set(f.name, new Uint8Array(await f.file.arrayBuffer()));
    const text = await json.file.text();
    // The manifest names shards by path relative to model.json; the picker gives bare names.
    const model = io.parseTfjsModel(text, (path) => shards.get(path.split('/').pop() ?? path), json.name);
    return { weights: io.kerasToTorch(model), source: json.name };
  }
  if (files.length !== 1) throw new Error(`select one weights file (.safetensors or .pth), or a TF.js model.json with its shards; got ${files.length} files`);
  const f = files[0]!;
  return { weights: io.parseStateDict(new Uint8Array(await f.file.arrayBuffer()), f.name), source: f.name };
}
