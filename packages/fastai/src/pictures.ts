/**
 * The pictures the API draws (show_batch, the LR finder's curve, the confusion matrix, top losses):
 * with `file`, written as a PNG by @tessera/vision/node's picture functions (Node); without, rendered
 * by @tessera/vision's in-memory renderers and returned as a Raster (a browser draws or encodes it).
 */
import type { Raster } from '@tessera/vision';
import { requireNode, type NodePlatform } from './platform.js';

export interface PictureOptions {
  /** Write the picture here as a PNG (Node); without it the picture is returned as `raster`. */
  file?: string;
}

export interface Picture {
  width: number;
  height: number;
  /** The PNG written, when `file` was given. */
  file?: string;
  /** The picture itself, when no `file` was given. */
  raster?: Raster;
}

export async function picture(
  what: string,
  file: string | undefined,
  write: (pictures: NodePlatform['pictures'], file: string) => Promise<{ width: number; height: number }>,
  render: () => Raster,
): Promise<Picture> {
  if (file === undefined) {
    const raster = render();
    return { width: raster.width, height: raster.height, raster };
  }
  const node = requireNode(`${what}({ file })`, `leave out file and draw the returned raster`);
  return { ...(await write(node.pictures, file)), file };
}
