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

/** The device cannot hold what was asked for (a buffer over the binding limit, or memory exhausted). */
export class OutOfMemoryError extends DeviceError {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
