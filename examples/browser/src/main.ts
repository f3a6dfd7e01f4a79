/**
 * @tessera/fastai in a browser page: the same calls as the Node lesson, from `File`s. Settings come
 * from the address (?perClass=40&size=32&epochs=1&bs=8) so a test can run it tiny; the page's
 * <pre id="log"> ends with "done: error_rate X" (data-state="done") or "error: …" (data-state="error").
 */
import { ImageDataLoaders, errorRate, visionLearner } from '@tessera/fastai';

const q = new URLSearchParams(location.search);
const num = (name: string, d: number) => Number(q.get(name) ?? d);
const settings = { perClass: num('perClass', 100), size: num('size', 32), epochs: num('epochs', 2), bs: num('bs', 16), lr: num('lr', 3e-3) };
const log = document.querySelector<HTMLPreElement>('#log')!;
const say = (line: string) => (log.textContent += `${line}\n`);

async function train(dls: ImageDataLoaders): Promise<void> {
  say(dls.description);
  const shown = await dls.showBatch();
  document.querySelector<HTMLImageElement>('#batch')!.src = URL.createObjectURL(new Blob([shown.svg], { type: 'image/svg+xml' }));
  // No weights lookup in a browser: from scratch here (pass `pretrained: stateDict` to fine-tune).
  const learn = await visionLearner(dls, 'darknet-tiny', { pretrained: false, metrics: [errorRate], progress: { out: { write: (text: string) => (log.textContent += text) } } });
  await learn.fitOneCycle(settings.epochs, settings.lr);
  const [, error] = await learn.validate();
  say(`done: error_rate ${error!.toFixed(4)} (chance ${(1 - 1 / dls.classes.length).toFixed(4)})`);
  log.dataset.state = 'done';
  await dls.close();
}

function run(make: () => Promise<ImageDataLoaders>): void {
  log.textContent = '';
  log.dataset.state = 'running';
  make().then(train).catch((e: Error) => {
    say(`error: ${e.message}`);
    log.dataset.state = 'error';
  });
}

document.querySelector('#counting')!.addEventListener('click', () =>
  run(() => ImageDataLoaders.counting({ range: [1, 2], perClass: settings.perClass, size: settings.size, bs: settings.bs })));
document.querySelector<HTMLInputElement>('#folder')!.addEventListener('change', (e) => {
  const files = (e.target as HTMLInputElement).files;
  if (files?.length) run(() => ImageDataLoaders.fromFiles(files, { itemTfms: { size: settings.size, method: 'crop' }, bs: settings.bs }));
});
