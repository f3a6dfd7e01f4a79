/**
 * fastai's ProgressCallback in a console: the epoch table, formatted exactly like
 * fastprogress's ConsoleMasterBar (names padded to 8, two spaces between columns,
 * floats with 6 decimals), and a live bar per pass (`Epoch 1/4 : |███---| 40.00%
 * [4/10 00:02<00:03 0.6931]`) drawn only when the output is a TTY, so logs and pipes
 * never receive carriage returns or other control characters.
 */
import { Callback } from './callback.js';
import { type EpochLogger, type EpochRow, formatTime } from './recorder.js';

/** Where the table goes: process.stdout by default (in a browser, console.log line by line). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  out?: ProgressOutput;
  /** Draw the live bar when `out` is a TTY (default true). */
  bar?: boolean;
}

/** fastprogress's header: each name padded to 8 characters, joined by two spaces. */
export function formatTableHeader(names: readonly string[]): string {
  return names.map((n) => (n.length < 8 ? n.padEnd(8) : n)).join('  ');
}

/** One value as fastai prints it: floats with 6 decimals, Python's 'nan'/'None'. */
export function formatTableValue(v: number | string | null): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  // A diverging loss (1771519063525.601563) would be wider than its column: exponent notation keeps it short.
  if (Math.abs(v) >= 1e6) return v.toExponential(4);
  return v.toFixed(6);
}

/**
 * A table row under `header` cells: each value padded to its column's width + 2, and never
 * fewer than two spaces after a cell, so a value wider than its column cannot run into the next.
 */
export function formatTableRow(cells: readonly string[], paddedNames: readonly string[]): string {
  return cells.map((t, i) => t + ' '.repeat(Math.max(2, 2 + paddedNames[i]!.length - t.length))).join('');
}

/** Node's stdout when there is one; otherwise whole lines to console.log (a browser's console). */
function defaultOutput(): ProgressOutput {
  const stdout = (globalThis as { process?: { stdout?: ProgressOutput } }).process?.stdout;
  if (stdout) return stdout;
  let pending = '';
  return {
    write(text: string) {
      const lines = (pending + text).split('\n');
      pending = lines.pop()!;
      for (const line of lines) console.log(line);
    },
  };
}

const MAX_COLS = 160;
const TEXT_LEN = 60;
const REDRAW_MS = 100;

export class ProgressCallback extends Callback {
  override order = 60;
  /** Set by learn.noLogging(): nothing is printed. */
  silent = false;
  private readonly out: ProgressOutput;
  private readonly drawBar: boolean;
  private paddedNames: string[] = [];
  private savedLogger: EpochLogger | null = null;
  private installed = false;
  private barStart = 0;
  private lastDraw = 0;
  private barWidth = 0;

  constructor(opts: ProgressOptions = {}) {
    super();
    this.out = opts.out ?? defaultOutput();
    this.drawBar = opts.bar ?? true;
  }

  private get tty(): boolean {
    return this.drawBar && !this.silent && this.out.isTTY === true;
  }

  override beforeFit(): void {
    if (this.silent) return;
    if (!this.installed) this.savedLogger = this.learn.logger;
    this.learn.logger = (row) => this.writeRow(row);
    this.installed = true;
    const names = this.learn.recorder.metricNames;
    this.paddedNames = names.map((n) => (n.length < 8 ? n.padEnd(8) : n));
    this.line(formatTableHeader(names));
  }

  override beforeTrain(): void {
    this.startBar();
  }

  override beforeValidate(): void {
    this.startBar();
  }

  override afterBatch(): void {
    if (!this.tty) return;
    const now = performance.now();
    const done = this.learn.iter + 1;
    if (done < this.learn.nIter && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const comment = this.learn.training ? ` ${this.learn.smoothLoss.toFixed(4)}` : '';
    this.drawProgress(done, this.learn.nIter, comment);
  }

  override afterTrain(): void {
    this.clearBar();
  }

  override afterValidate(): void {
    this.clearBar();
  }

  override afterFit(): void {
    this.abort();
  }

  /** Clears the bar and gives the logger back; the learner calls it when a fit fails. */
  abort(): void {
    this.clearBar();
    if (this.installed) this.learn.logger = this.savedLogger;
    this.installed = false;
  }

  /** A free-form line (tracker messages), between table rows. */
  print(text: string): void {
    this.clearBar();
    this.line(text);
  }

  private writeRow(row: EpochRow): void {
    const cells = [String(row.epoch), ...row.values.map(formatTableValue), row.time];
    this.clearBar();
    this.line(formatTableRow(cells, this.paddedNames));
    this.savedLogger?.(row);
  }

  private line(text: string): void {
    if (!this.silent) this.out.write(`${text}\n`);
  }

  private startBar(): void {
    this.barStart = performance.now();
    this.lastDraw = 0;
    if (this.tty) this.drawProgress(0, this.learn.nIter, '');
  }

  /** fastprogress's ConsoleProgressBar line, redrawn in place with a carriage return. */
  private drawProgress(val: number, total: number, comment: string): void {
    const elapsed = (performance.now() - this.barStart) / 1000;
    const remaining = val > 0 ? (elapsed / val) * (total - val) : 0;
    const text = `${total ? ((100 * val) / total).toFixed(2) : '100.00'}% [${val}/${total} ${formatTime(elapsed)}<${formatTime(remaining)}${comment}]`;
    const prefix = `Epoch ${this.learn.epoch + 1}/${this.learn.nEpoch} :`;
    const cols = Math.min(this.out.columns ?? 100, MAX_COLS);
    const length = Math.max(10, Math.min(cols - TEXT_LEN, cols - text.length - prefix.length - 4));
    const filled = total ? Math.floor((length * val) / total) : 0;
    const s = `\r${prefix} |${'█'.repeat(filled)}${'-'.repeat(length - filled)}| ${text}`;
    this.barWidth = Math.max(this.barWidth, s.length);
    this.out.write(s);
  }

  private clearBar(): void {
    if (!this.tty || this.barWidth === 0) return;
    this.out.write(`\r${' '.repeat(this.barWidth)}\r`);
    this.barWidth = 0;
  }
}
