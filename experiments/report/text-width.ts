/**
 * Text widths for vega's layout in Node. Without a canvas vega guesses 0.8 em per character, about
 * 1.5x the real width of a sans-serif label, so legends and axis labels got ~50% more room than they
 * use (figures 660 px wide for 540 px of content). Here: Helvetica's advance widths (the AFM metrics,
 * which Arial and Liberation Sans share), scaled up 12% so DejaVu Sans — what Debian's chromium
 * substitutes for Helvetica — still fits.
 */
import * as vega from 'vega';

// Advance widths in 1/1000 em for ASCII 32..126.
const WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space .. /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 .. ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ .. O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P .. _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` .. o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p .. ~
];
const OTHER = 600;
const SAFETY = 1.12;
const BOLD = 1.06;

export function textWidth(text: string, fontSize: number, bold = false): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    w += c >= 32 && c <= 126 ? WIDTHS[c - 32] : OTHER;
  }
  return (w / 1000) * fontSize * SAFETY * (bold ? BOLD : 1);
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

let installed = false;

/** Points vega's text measurement at `textWidth` (vega supports replacing `textMetrics.width`). */
export function installTextWidth(): void {
  if (installed) return;
  installed = true;
  const tm = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  tm.width = (item: TextItem, text: unknown) => {
    const size = item.fontSize != null ? +item.fontSize || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600);
    return textWidth(s, size, bold);
  };
}
