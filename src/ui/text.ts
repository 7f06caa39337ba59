/**
 * Terminal text: measuring, truncating to a width, colouring. Everything that reaches a terminal
 * row goes through `fitToWidth`, so a row never wraps (a wrapped row breaks in-place redraw).
 */
import { createRequire } from 'node:module';
import { styleText } from 'node:util';

export type Style = Parameters<typeof styleText>[0];

/** A piece of one terminal row: text and the style it is painted with. */
export interface Segment {
  text: string;
  style?: Style;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const ELLIPSIS = '…';
/** Printable ASCII (and the few symbols pyros prints) is one column per character: no need for the Unicode tables. */
const PRINTABLE_ASCII = /^[\x20-\x7e×·…→✔✖⚠↻]*$/;
// Both are loaded on first use: they cost milliseconds at start-up that plain output never needs.
let graphemes: Intl.Segmenter | undefined;
let unicodeWidth: ((text: string) => number) | undefined;

function stringWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  unicodeWidth ??= (createRequire(import.meta.url)('string-width') as { default: (text: string) => number }).default;
  return unicodeWidth(text);
}

/** Node titles and file names come from workflows and servers: keep their control bytes out of the terminal. */
export function sanitize(text: string): string {
  return text.replace(CONTROL_CHARACTERS, ' ');
}

/**
 * Paints text. Node ≥ 22 checks the colour support of process.stdout unless told otherwise, but the
 * display may write to another stream and decides about colour itself.
 */
export function paint(style: Style | undefined, text: string, color: boolean): string {
  if (!color || style === undefined || text === '') return text;
  return styleText(style, text, { validateStream: false });
}

export function textWidth(text: string): number {
  return stringWidth(text);
}

/** Cuts plain text to at most `width` columns, ending with `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  let used = 0;
  let out = '';
  graphemes ??= new Intl.Segmenter();
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return out + ELLIPSIS;
}

/** Joins segments into one row of at most `width` columns; the cut segment keeps its style. */
export function fitToWidth(segments: readonly Segment[], width: number, color: boolean): string {
  const total = segments.reduce((sum, s) => sum + stringWidth(s.text), 0);
  if (total <= width) return segments.map((s) => paint(s.style, s.text, color)).join('');
  let remaining = width;
  let out = '';
  for (const segment of segments) {
    const w = stringWidth(segment.text);
    if (w < remaining) {
      out += paint(segment.style, segment.text, color);
      remaining -= w;
      continue;
    }
    // This segment reaches the edge and more follows: the ellipsis takes the last column.
    const cut = truncate(w === remaining ? segment.text + ELLIPSIS : segment.text, remaining);
    out += paint(segment.style, cut, color);
    break;
  }
  return out;
}
