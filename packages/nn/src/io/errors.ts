// One error type for every malformed or refused weight file, so callers (the CLI's
// `convert`, a model loader) can tell "bad file" apart from programming errors, and
// every message names the file it is about.

export class WeightFileError extends Error {
  /** The file (or `<buffer>` label) the problem is in. */
  readonly file: string;

  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'WeightFileError';
    this.file = file;
  }
}
