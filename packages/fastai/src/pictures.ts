/**
 * The pictures the API draws (show_batch, the LR finder's curve, the confusion matrix, top losses)
 * as SVG documents from @tessera/vision's renderers; with `file`, also written as a PNG by
 * @tessera/vision/node (resvg, Node only). A browser shows the SVG as it is.
 */
import { requireNode, type NodePlatform } from './platform.js';

export interface PictureOptions {
  /** Also write the picture here as a PNG (Node). */
  file?: string;
}

export interface Picture {
  width: number;
  height: number;
  /** The picture as an SVG document (crisp at any zoom; an <img> or inline in a page). */
  svg: string;
  /** The PNG written, when `file` was given. */
  file?: string;
}

type Drawn = { width: number; height: number; svg: string };

export async function picture(
  what: string,
  file: string | undefined,
  write: (pictures: NodePlatform['pictures'], file: string) => Promise<Drawn>,
  render: () => Drawn,
): Promise<Picture> {
  if (file === undefined) {
    const { width, height, svg } = render();
    return { width, height, svg };
  }
  const node = requireNode(`${what}({ file })`, 'leave out file and show the returned svg');
  const { width, height, svg } = await write(node.pictures, file);
  return { width, height, svg, file };
}
