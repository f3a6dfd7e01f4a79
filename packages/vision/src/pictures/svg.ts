/**
 * The few SVG elements the pictures are made of, as strings. Numbers are rounded to 0.01 px so
 * the documents stay small and identical from run to run.
 */
import { FONT_FAMILY, xmlEscape } from './text.js';

export type Rgb = readonly [number, number, number];

const n = (v: number): string => String(Math.round(v * 100) / 100);

export const rgb = (c: Rgb): string => `rgb(${c[0]},${c[1]},${c[2]})`;

/** A whole document of `width` x `height` px on a white background. */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${xmlEscape(FONT_FAMILY)}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export function rect(x: number, y: number, w: number, h: number, fill: Rgb | 'none', stroke?: Rgb): string {
  const s = stroke ? ` stroke="${rgb(stroke)}" stroke-width="1"` : '';
  return `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="${fill === 'none' ? 'none' : rgb(fill)}"${s}/>`;
}

export function line(x0: number, y0: number, x1: number, y1: number, stroke: Rgb, width = 1): string {
  return `<line x1="${n(x0)}" y1="${n(y0)}" x2="${n(x1)}" y2="${n(y1)}" stroke="${rgb(stroke)}" stroke-width="${n(width)}"/>`;
}

export function polyline(points: readonly (readonly [number, number])[], stroke: Rgb, width: number): string {
  const pts = points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ');
  return `<polyline points="${pts}" fill="none" stroke="${rgb(stroke)}" stroke-width="${n(width)}" stroke-linejoin="round" stroke-linecap="round"/>`;
}

export function circle(cx: number, cy: number, r: number, fill: Rgb): string {
  return `<circle cx="${n(cx)}" cy="${n(cy)}" r="${n(r)}" fill="${rgb(fill)}"/>`;
}

export interface TextOptions {
  size: number;
  fill: Rgb;
  /** Horizontal alignment on x (SVG's text-anchor). */
  anchor?: 'start' | 'middle' | 'end';
  /** Turned 90° counter-clockwise about (x, y), reading bottom to top (a y-axis label). */
  vertical?: boolean;
}

/** One line of text whose vertical centre is at y (so callers place text by its middle, as in a cell). */
export function text(x: number, y: number, content: string, o: TextOptions): string {
  const anchor = o.anchor && o.anchor !== 'start' ? ` text-anchor="${o.anchor}"` : '';
  const turn = o.vertical ? ` transform="rotate(-90 ${n(x)} ${n(y)})"` : '';
  // dy 0.35em puts the middle of digits and capitals on y (dominant-baseline is not rendered alike everywhere).
  return `<text x="${n(x)}" y="${n(y)}" dy="0.35em" font-size="${n(o.size)}" fill="${rgb(o.fill)}"${anchor}${turn}>${xmlEscape(content)}</text>`;
}

/** A picture of `w` x `h` px at (x, y), from a data: URL, drawn pixel for pixel (no smoothing). */
export function image(x: number, y: number, w: number, h: number, href: string): string {
  return `<image x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="${href}" xlink:href="${href}"/>`;
}
