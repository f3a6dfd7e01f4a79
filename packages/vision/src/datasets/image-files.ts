/**
 * Which files in a folder count as images: by extension (like fastai's get_image_files), walked
 * recursively, hidden files and folders ignored, in sorted order so that item order - and with
 * it every seeded split - is the same on every machine. (The walk over a real folder is
 * ../node/list-files.ts; this part is shared with in-memory folders.)
 *
 * Extensions of formats we cannot decode (GIF, WebP...) are included on purpose: such a file is
 * an image the user put there, so it is reported as skipped rather than silently ignored.
 */

export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.gif', '.webp', '.bmp', '.tif', '.tiff', '.heic', '.heif', '.avif',
];

/** The extension of a file name (from its last dot, '' for none or a leading-dot name), like Node's extname. */
function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extensionOf(name).toLowerCase());
}

/** Code-point order (what Python's sorted() and fastai use), independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
