/**
 * The rows at the bottom of the terminal that the live display owns, and the escape sequences
 * that update them in place. The cursor always rests on the area's last row; every update is
 * returned as one string, so it reaches the terminal in one write.
 *
 * Rows are redrawn only when their content changed. A row is never longer than the terminal is
 * wide (callers fit the text; preview rows are cropped here), so counting rows is exact, which is
 * what lets an inline image and text share the area.
 */
import type { RenderedPreview } from './preview/render.ts';

export interface PreviewSlot {
  /** Changes whenever the image changes. */
  version: number;
  rendered: RenderedPreview;
}

export interface AreaFrame {
  preview?: PreviewSlot | undefined;
  /** Text rows, each already fitting the width. */
  lines: readonly string[];
  /** The width of each text row (for reflow after a resize). */
  widths: readonly number[];
}

export interface AreaUpdate {
  output: string;
  /** Preview rows on screen after this update (0 when the preview did not fit). */
  previewRows: number;
  /** Rows the full preview has. */
  previewFullRows: number;
}

const CSI = '\x1b[';
export const SYNC_BEGIN = `${CSI}?2026h`;
export const SYNC_END = `${CSI}?2026l`;
const ERASE_LINE = `${CSI}2K`;
const ERASE_TO_END_OF_LINE = `${CSI}K`;
const ERASE_DOWN = `${CSI}J`;
const SAVE_CURSOR = '\x1b7';
const RESTORE_CURSOR = '\x1b8';

interface Row {
  /** Identifies what the row shows, to skip rows that did not change. */
  key: string;
  /** Text to write; undefined for the rows an inline image covers. */
  text: string | undefined;
  width: number;
}

interface ShownPreview {
  version: number;
  rows: number;
  clear: string | undefined;
}

export class LiveArea {
  private readonly synchronized: boolean;
  private height = 0;
  private cursorRow = 0;
  private keys: (string | undefined)[] = [];
  private widths: number[] = [];
  private shown: ShownPreview | undefined;
  /** The graphic last sent to the terminal: after the area moves, kitty only re-places it. */
  private transmittedVersion = -1;
  /** Erasing left over from a resize, sent with the next update so both go out as one frame. */
  private pendingErase = '';

  constructor(options: { synchronized?: boolean } = {}) {
    this.synchronized = options.synchronized ?? true;
  }

  get rows(): number {
    return this.height;
  }

  /** Updates the area to show `frame` within a terminal of the given size. */
  update(frame: AreaFrame, columns: number, terminalRows: number): AreaUpdate {
    const erase = this.takePendingErase();
    const body = this.render(frame, columns, terminalRows);
    return { ...body, output: this.wrap(erase + body.output) };
  }

  /**
   * Prints text above the area (it scrolls away with the terminal's history), then the area again.
   * `text` ends with a newline.
   */
  print(text: string, frame: AreaFrame, columns: number, terminalRows: number): AreaUpdate {
    const output = this.takePendingErase() + this.erase() + text;
    const body = this.render(frame, columns, terminalRows);
    return { ...body, output: this.wrap(output + body.output) };
  }

  /**
   * After a resize: the area is erased as the terminal now shows it, with the next update.
   * Shrinking the width rewraps rows that no longer fit, so the old rows may take more lines.
   */
  reflow(columns: number): void {
    if (this.height === 0) return;
    let above = 0;
    for (let i = 0; i < this.height; i++) {
      const lines = Math.max(1, Math.ceil((this.widths[i] ?? 0) / Math.max(1, columns)));
      above += i < this.height - 1 ? lines : lines - 1;
    }
    this.pendingErase += `\r${above > 0 ? `${CSI}${above}A` : ''}${ERASE_DOWN}${this.shown?.clear ?? ''}`;
    this.forget();
  }

  /** Leaves the area: either erased, or kept on screen with the cursor on the line below it. */
  end(options: { clear: boolean }): string {
    const erase = this.takePendingErase();
    if (this.height === 0) return this.wrap(erase);
    const output = options.clear ? this.erase() : `${this.moveTo(this.height - 1)}\n`;
    this.forget();
    return this.wrap(erase + output);
  }

  private takePendingErase(): string {
    const erase = this.pendingErase;
    this.pendingErase = '';
    return erase;
  }

  private wrap(output: string): string {
    if (!output) return '';
    return this.synchronized ? SYNC_BEGIN + output + SYNC_END : output;
  }

  private forget(): void {
    this.height = 0;
    this.cursorRow = 0;
    this.keys = [];
    this.widths = [];
    this.shown = undefined;
  }

  /** Moves to the first row, erases everything below, removes an image; the area is then empty. */
  private erase(): string {
    if (this.height === 0) return '';
    const output = `${this.moveTo(0)}${ERASE_DOWN}${this.shown?.clear ?? ''}`;
    this.forget();
    return output;
  }

  private moveTo(row: number): string {
    const delta = row - this.cursorRow;
    this.cursorRow = row;
    return `\r${delta < 0 ? `${CSI}${-delta}A` : delta > 0 ? `${CSI}${delta}B` : ''}`;
  }

  private previewRows(slot: PreviewSlot | undefined, columns: number, available: number): Row[] {
    if (!slot || available <= 0) return [];
    const { rendered, version } = slot;
    if (rendered.lines) {
      // Too tall: crop from the top, so the status rows below stay visible.
      const start = Math.max(0, rendered.lines.length - available);
      const cols = Math.min(rendered.cols, columns);
      return rendered.lines.slice(start).map((line, i) => ({
        key: `p${version}:${start + i}:${cols}`,
        text: cols < rendered.cols ? cropBlockLine(line, cols) : line,
        width: cols,
      }));
    }
    // An inline image cannot be cut: it is left out until it is rendered again at a size that fits.
    if (rendered.rows > available || rendered.cols > columns) return [];
    return Array.from({ length: rendered.rows }, () => ({ key: `g${version}`, text: undefined, width: rendered.cols }));
  }

  private render(frame: AreaFrame, columns: number, terminalRows: number): AreaUpdate {
    const limit = Math.max(1, terminalRows);
    const text = frame.lines.slice(-limit).map((line, i, all) => ({
      key: `t${line}`,
      text: line,
      width: frame.widths[frame.lines.length - all.length + i] ?? columns,
    }));
    const preview = this.previewRows(frame.preview, columns, limit - text.length);
    const rows: Row[] = [...preview, ...text];
    const graphic = preview.length > 0 && frame.preview?.rendered.lines === undefined ? frame.preview : undefined;
    let output = '';

    // Make room first: new rows scroll the terminal now, so nothing drawn below moves later.
    if (rows.length > this.height) {
      const from = this.height === 0 ? 0 : this.height - 1;
      if (this.height > 0) output += this.moveTo(this.height - 1);
      output += '\n'.repeat(rows.length - 1 - from);
      this.cursorRow = rows.length - 1;
      for (let i = this.height; i < rows.length; i++) this.keys[i] = undefined;
    }

    // A new, resized or removed image: take the old one off and wipe the rows either covers.
    const previous = this.shown;
    const graphicRows = graphic ? preview.length : 0;
    const graphicChanged =
      previous?.version !== graphic?.version || (previous?.rows ?? 0) !== graphicRows || (graphic !== undefined && this.keys[0] !== `g${graphic.version}`);
    if (graphicChanged) {
      output += previous?.clear ?? '';
      const wipe = Math.min(rows.length, Math.max(previous?.rows ?? 0, graphicRows));
      for (let i = 0; i < wipe; i++) {
        output += this.moveTo(i) + ERASE_LINE;
        this.keys[i] = undefined;
      }
      if (graphic) {
        const { rendered, version } = graphic;
        // Already sent once (the area only moved): kitty places the stored image again.
        const sequence = version === this.transmittedVersion ? rendered.redraw : rendered.draw;
        output += this.moveTo(0) + SAVE_CURSOR + (sequence ?? '') + RESTORE_CURSOR;
        this.transmittedVersion = version;
      }
    }
    this.shown = graphic ? { version: graphic.version, rows: graphicRows, clear: graphic.rendered.clear } : undefined;

    rows.forEach((row, i) => {
      if (this.keys[i] === row.key) return;
      this.keys[i] = row.key;
      if (row.text === undefined) return;
      output += this.moveTo(i) + row.text + (row.width < columns ? ERASE_TO_END_OF_LINE : '');
    });

    if (rows.length < this.height) {
      output += this.moveTo(rows.length) + ERASE_DOWN;
      this.keys.length = rows.length;
    }
    if (rows.length > 0 && this.cursorRow !== rows.length - 1) output += this.moveTo(rows.length - 1);
    this.height = rows.length;
    this.widths = rows.map((row) => row.width);
    return {
      output,
      previewRows: preview.length,
      previewFullRows: frame.preview ? (frame.preview.rendered.lines?.length ?? frame.preview.rendered.rows) : 0,
    };
  }
}

/** The first `cols` cells of a half-block row, keeping its colour codes. */
export function cropBlockLine(line: string, cols: number): string {
  let cells = 0;
  let at = 0;
  while (at < line.length && cells < cols) {
    if (line[at] === '\x1b') {
      const end = line.indexOf('m', at);
      at = end === -1 ? line.length : end + 1;
      continue;
    }
    cells += 1;
    at += 1;
  }
  return `${line.slice(0, at)}\x1b[0m`;
}
