/**
 * Error classes of @tessera/vision.
 *
 * Every error a user can cause (a bad folder, an undecodable file, an impossible option) is a
 * `TesseraVisionError`, so a CLI can print its message without a stack trace; the message always
 * names the file or folder involved and, where there is one, says what to do about it.
 */

export class TesseraVisionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraVisionError';
  }
}

/** A file that could not be turned into pixels: unknown format, corrupt, truncated, too large. */
export class ImageDecodeError extends TesseraVisionError {
  /** The file (or a caller-chosen label for in-memory bytes) that failed. */
  readonly file: string;
  /** Why, in a few words, without the file name (e.g. "GIF is not supported"). */
  readonly reason: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot decode image ${file}: ${reason}`, options);
    this.name = 'ImageDecodeError';
    this.file = file;
    this.reason = reason;
  }
}
