/**
 * The page: controls, the epoch table, the pictures. All the work — data, GPU,
 * training, prediction, model files — happens in the worker (worker.ts), so the page
 * stays responsive while a model trains.
 */
import type { Arch, DataSource, EpochEvent, ModelFormat, ModelInfo, ModelRequest, Picture, Replies, Reply, Request, TopClass, WorkerEvent } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id} in the page`);
  return el as T;
};
const input = (id: string) => $<HTMLInputElement>(id);

// ---- the worker, as promises ------------------------------------------------------

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'tessera' });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

type Payload<K extends Request['type']> = Omit<Extract<Request, { type: K }>, 'id' | 'type'>;

function call<K extends Request['type'] & keyof Replies>(type: K, payload: Payload<K>, transfer: Transferable[] = []): Promise<Replies[K]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, type, ...payload }, transfer);
  });
}

worker.onmessage = (ev: MessageEvent<Reply | WorkerEvent>) => {
  const msg = ev.data;
  if ('id' in msg) {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.type === 'ok') p?.resolve(msg.value);
    else {
      const e = new Error(msg.message);
      e.name = msg.name;
      p?.reject(e);
    }
    return;
  }
  onEvent(msg);
};
worker.onerror = (ev) => {
  const text = `the worker failed: ${ev.message || 'unknown error (see the console)'}`;
  $('device').textContent = text;
  $('device').classList.add('error');
  for (const p of pending.values()) p.reject(new Error(text));
  pending.clear();
};

// ---- small helpers ----------------------------------------------------------------

function setStatus(id: string, text: string, error = false): void {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', error);
}

function fail(id: string, e: unknown): void {
  setStatus(id, e instanceof Error ? e.message : String(e), true);
}

/** Shows an SVG picture in an <img> (an image: nothing in it can run), freeing the previous one. */
function draw(img: HTMLImageElement, pic: Picture): void {
  const old = img.src;
  img.width = pic.width;
  img.height = pic.height;
  img.src = URL.createObjectURL(new Blob([pic.svg], { type: 'image/svg+xml' }));
  if (old.startsWith('blob:')) URL.revokeObjectURL(old);
}

/** A value as the CLI's table prints it: 6 decimals, Python's nan / None. */
function cell(v: number | null): string {
  if (v === null) return 'None';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(6);
}

const IMAGE_FILE = /\.(jpe?g|png)$/i;

// ---- data ------------------------------------------------------------------------

/** Files of a dropped folder, with their paths inside it (class = parent folder). */
let folderFiles: { path: string; file: File }[] = [];

async function entryFiles(entry: FileSystemEntry, out: { path: string; file: File }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    if (IMAGE_FILE.test(file.name)) out.push({ path: entry.fullPath.replace(/^\//, ''), file });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) await entryFiles(e, out);
  }
}

function useFolder(files: { path: string; file: File }[]): void {
  folderFiles = files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const classes = new Set(files.map((f) => f.path.split('/').slice(-2, -1)[0] ?? ''));
  $('folder-summary').textContent = files.length
    ? `${files.length} images in ${classes.size} folders (${[...classes].slice(0, 8).join(', ')}${classes.size > 8 ? ', …' : ''})`
    : 'no .jpg or .png images found in that folder';
  input('source-files').checked = true;
}

function dropZone(el: HTMLElement, onDrop: (dt: DataTransfer) => void): void {
  el.addEventListener('dragover', (e) => {
    e.preventDefault();
    el.classList.add('over');
  });
  el.addEventListener('dragleave', () => el.classList.remove('over'));
  el.addEventListener('drop', (e) => {
    e.preventDefault();
    el.classList.remove('over');
    if (e.dataTransfer) onDrop(e.dataTransfer);
  });
}

dropZone($('folder-drop'), (dt) => {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => !!e);
  void (async () => {
    const out: { path: string; file: File }[] = [];
    for (const e of entries) await entryFiles(e, out);
    useFolder(out);
  })();
});
input('folder-input').addEventListener('change', () => {
  const files = [...(input('folder-input').files ?? [])].filter((f) => IMAGE_FILE.test(f.name));
  useFolder(files.map((file) => ({ path: file.webkitRelativePath || file.name, file })));
});

let dataReady = false;

async function loadData(): Promise<void> {
  const size = Number(input('size').value);
  const source: DataSource = input('source-files').checked
    ? { kind: 'files', files: folderFiles }
    : { kind: 'counting', range: [Number(input('count-lo').value), Number(input('count-hi').value)], perClass: Number(input('per-class').value) };
  if (source.kind === 'files' && source.files.length === 0) throw new Error('drop a folder of images first (one sub-folder per class)');
  setStatus('data-status', 'loading…');
  $('load-data').setAttribute('disabled', '');
  try {
    const r = await call('data', {
      req: { source, size, bs: Number(input('bs').value), validPct: Number(input('valid-pct').value), seed: Number(input('seed').value) },
    });
    draw($<HTMLImageElement>('show-batch'), r.showBatch);
    $('show-batch-figure').hidden = false;
    setStatus('data-status', `${r.describe}; classes ${r.classes.join(', ')}`);
    dataReady = true;
    $('train').removeAttribute('disabled');
    $('lr-find').removeAttribute('disabled');
    // TTA is for the model trained on the data just replaced.
    $('tta').setAttribute('disabled', '');
    $('interpretation').hidden = true;
  } finally {
    $('load-data').removeAttribute('disabled');
  }
}

$('load-data').addEventListener('click', () => void loadData().catch((e) => fail('data-status', e)));

// ---- training --------------------------------------------------------------------

let lastStage: EpochEvent['stage'] | null = null;

function addEpochRow(ev: EpochEvent): void {
  const body = $('epochs-table').querySelector('tbody')!;
  if (ev.stage !== 'train' && ev.stage !== lastStage) {
    const tr = body.insertRow();
    tr.className = 'stage';
    const th = document.createElement('th');
    th.colSpan = 5;
    th.textContent = ev.stage === 'frozen' ? 'body frozen (the new head only)' : 'unfrozen (discriminative learning rates)';
    tr.append(th);
  }
  lastStage = ev.stage;
  const tr = body.insertRow();
  tr.className = 'epoch';
  for (const text of [String(ev.epoch), cell(ev.train_loss), cell(ev.valid_loss), cell(ev.error_rate), ev.time]) tr.insertCell().textContent = text;
}

function onEvent(ev: WorkerEvent): void {
  switch (ev.type) {
    case 'epoch':
      addEpochRow(ev);
      break;
    case 'progress': {
      const what = ev.phase === 'train' ? `training batch ${ev.iter}/${ev.nIter} · loss ${ev.smoothLoss.toFixed(4)}` : `validating ${ev.iter}/${ev.nIter}`;
      setStatus('progress', `epoch ${ev.epoch + 1}/${ev.nEpoch} · ${what}`);
      break;
    }
    case 'chart':
      draw($<HTMLImageElement>('loss-chart'), ev.chart);
      $('loss-chart').hidden = false;
      break;
    case 'log':
      setStatus('train-status', ev.text);
      break;
  }
}

function showModel(m: ModelInfo): void {
  setStatus('model-status', `model: ${m.arch}, ${m.size}px, classes ${m.classes.join(', ')} (${m.origin})`);
  $('download').removeAttribute('disabled');
  $('download-onnx').removeAttribute('disabled');
}

/** The architecture and weights chosen in the page. */
function modelRequest(): ModelRequest {
  if (!dataReady) throw new Error('load the data first');
  const pretrained = input('weights-pretrained').checked;
  const weightFiles = [...(input('weights-input').files ?? [])];
  if (pretrained && weightFiles.length === 0) throw new Error('select the ImageNet weight files, or train from scratch');
  return {
    arch: $<HTMLSelectElement>('arch').value as Arch,
    weights: pretrained ? weightFiles.map((file) => ({ name: file.name, file })) : undefined,
  };
}

/** Buttons that start GPU work, disabled while one runs. */
const JOB_BUTTONS = ['train', 'lr-find', 'load-data', 'tta'];

async function job<T>(state: string, run: () => Promise<T>): Promise<T> {
  const enabled = JOB_BUTTONS.filter((id) => !$(id).hasAttribute('disabled'));
  for (const id of JOB_BUTTONS) $(id).setAttribute('disabled', '');
  $('stop').removeAttribute('disabled');
  document.body.dataset.state = state;
  try {
    return await run();
  } finally {
    setStatus('progress', '');
    for (const id of enabled) $(id).removeAttribute('disabled');
    $('stop').setAttribute('disabled', '');
  }
}

/** fastai's lr_find: the curve, and its valley as the learning rate to train with. */
async function findLr(): Promise<void> {
  const req = modelRequest();
  const numIt = Number(input('lr-iters').value);
  if (!(Number.isInteger(numIt) && numIt >= 5)) throw new Error(`the LR finder needs a whole number of at least 5 batches, got '${input('lr-iters').value}'`);
  setStatus('lr-status', 'finding a learning rate…');
  try {
    const r = await job('lr-finding', () => call('lrFind', { req, numIt }));
    draw($<HTMLImageElement>('lr-chart'), r.chart);
    $('lr-chart').hidden = false;
    input('lr').value = r.valley.toExponential(1);
    setStatus('lr-status', `valley ${r.valley.toExponential(2)}: the learning rate is set to ${input('lr').value}`);
    document.body.dataset.state = 'ready';
  } catch (e) {
    document.body.dataset.state = 'failed';
    throw e;
  }
}

$('lr-find').addEventListener('click', () => void findLr().catch((e) => fail('lr-status', e)));

async function trainModel(): Promise<void> {
  const lr = Number(input('lr').value);
  if (!(lr > 0)) throw new Error(`the learning rate must be a positive number, got '${input('lr').value}'`);
  const model = modelRequest();
  $('epochs-table').querySelector('tbody')!.replaceChildren();
  lastStage = null;
  $('interpretation').hidden = true;
  setStatus('tta-status', '');
  setStatus('train-status', 'starting…');
  try {
    const r = await job('training', () => call('train', {
      req: {
        ...model, epochs: Number(input('epochs').value), lr, freezeEpochs: Number(input('freeze-epochs').value),
        warmup: new URLSearchParams(location.search).get('warmup') !== '0',
      },
    }));
    setStatus('train-status', r.stopped ? 'stopped; the model as it was is ready below' : 'done; the model is ready below');
    showModel(r.model);
    if (r.confusion) {
      draw($<HTMLImageElement>('confusion'), r.confusion);
      $('most-confused').textContent = r.mostConfused.length
        ? `most confused (actual → predicted, images): ${r.mostConfused.map(([a, p, n]) => `${a} → ${p} (${n})`).join(', ')}`
        : 'no validation image was misclassified';
      $('interpretation').hidden = false;
      $('tta').removeAttribute('disabled');
    }
    document.body.dataset.state = 'trained';
  } catch (e) {
    document.body.dataset.state = 'failed';
    throw e;
  }
}

/** fastai's tta: the validation error with test-time augmentation, beside the epoch table's. */
async function runTta(): Promise<void> {
  setStatus('tta-status', 'TTA: predicting the validation set with augmentation…');
  const r = await job('tta', () => call('tta', {}));
  document.body.dataset.state = 'trained';
  setStatus('tta-status', `TTA error rate: ${cell(r.errorRate)}`);
}

$('tta').addEventListener('click', () => void runTta().catch((e) => fail('tta-status', e)));

$('train').addEventListener('click', () => void trainModel().catch((e) => fail('train-status', e)));
$('stop').addEventListener('click', () => void call('stop', {}));

// ---- predict, download, load -----------------------------------------------------

function showPrediction(top: TopClass[]): void {
  const body = $('prediction-table').querySelector('tbody')!;
  body.replaceChildren();
  for (const t of top) {
    const tr = body.insertRow();
    tr.insertCell().textContent = t.label;
    const td = tr.insertCell();
    td.textContent = `${(t.prob * 100).toFixed(2)}%`;
    td.style.setProperty('--p', String(t.prob));
  }
}

let imageUrl: string | null = null;

async function predictImage(file: File): Promise<void> {
  $('prediction').hidden = false;
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(file);
  $<HTMLImageElement>('predicted-image').src = imageUrl;
  $('prediction-table').querySelector('tbody')!.replaceChildren();
  $('prediction').dataset.state = 'predicting';
  const { top } = await call('predict', { file, topk: 5 });
  showPrediction(top);
  $('prediction').dataset.state = 'done';
  $('prediction').dataset.label = top[0]?.label ?? '';
}

function predictError(e: unknown): void {
  $('prediction').dataset.state = 'error';
  fail('model-status', e);
}

dropZone($('image-drop'), (dt) => {
  const file = [...dt.files].find((f) => IMAGE_FILE.test(f.name) || f.type.startsWith('image/'));
  if (file) void predictImage(file).catch(predictError);
});
input('image-input').addEventListener('change', () => {
  const file = input('image-input').files?.[0];
  input('image-input').value = '';
  if (file) void predictImage(file).catch(predictError);
});

/** Downloads the current model as Tessera's model file or as ONNX (with classes and preprocessing in its metadata). */
function download(format: ModelFormat): void {
  void call('export', { format })
    .then(({ bytes, fileName }) => {
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    })
    .catch((e) => fail('model-status', e));
}

$('download').addEventListener('click', () => download('safetensors'));
$('download-onnx').addEventListener('click', () => download('onnx'));

input('model-input').addEventListener('change', () => {
  const file = input('model-input').files?.[0];
  input('model-input').value = '';
  if (!file) return;
  setStatus('model-status', `loading ${file.name}…`);
  void call('load', { file, name: file.name })
    .then(({ model }) => showModel(model))
    .catch((e) => fail('model-status', e));
});

// ---- start -----------------------------------------------------------------------

call('init', {})
  .then(({ device }) => {
    setStatus('device', `WebGPU: ${device}`);
    document.body.dataset.state = 'ready';
  })
  .catch((e) => {
    fail('device', e);
    document.body.dataset.state = 'no-gpu';
  });
