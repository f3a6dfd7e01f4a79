/**
 * Text in the SVG pictures: the font they name, its widths for laying labels out, and escaping.
 *
 * Charts are laid out before any renderer sees them (label columns, legends, cut class names), so
 * widths come from DejaVu Sans's own advance table (the font @tessera/vision/node hands resvg,
 * from the `dejavu-fonts-ttf` package). Browsers without DejaVu fall back to Verdana, whose widths
 * are close (DejaVu descends from Bitstream Vera, drawn to Verdana's metrics).
 */

export const FONT_FAMILY = "'DejaVu Sans', Verdana, sans-serif";

/** DejaVu Sans advance widths of ASCII 32..126, in font units (2048 per em), read from DejaVuSans.ttf. */
const ADVANCES = [
  651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303,
  1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532,
  1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260,
  721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303,
  1716,
];
const UNITS_PER_EM = 2048;
/** Characters outside ASCII (accents, CJK...): a full em, so they are never under-measured. */
const OTHER = 2048;

/** Width of `text` in pixels at `size` px. */
export function textWidth(text: string, size: number): number {
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    units += c >= 32 && c < 127 ? ADVANCES[c - 32]! : OTHER;
  }
  return (units * size) / UNITS_PER_EM;
}

/** `text`, cut with an ellipsis to fit `maxWidth` pixels at `size` px. */
export function fitText(text: string, maxWidth: number, size: number): string {
  if (textWidth(text, size) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(`${chars.join('')}…`, size) > maxWidth) chars.pop();
  return chars.length > 0 ? `${chars.join('')}…` : '';
}

/** Escapes text and attribute values for SVG (XML). */
export function xmlEscape(s: string): string {
  return s
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
    // Control characters are not allowed in XML at all (a folder name may hold one).
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd');
}
