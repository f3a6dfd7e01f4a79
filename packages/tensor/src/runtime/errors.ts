/** Errors a user can cause get one class, so callers (the CLI) can print them without a stack trace. */
export class TesseraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TesseraError';
  }
}

/** No adapter, lost device, failed WGSL compilation or validation: problems with the GPU itself. */
export class DeviceError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
