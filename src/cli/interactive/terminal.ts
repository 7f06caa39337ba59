/**
 * One terminal shared by the live display and the readline prompt.
 *
 * The display owns a block of rows (its live area) and keeps the cursor on the area's last
 * row; the prompt always sits on the line just below it (or on the display's line when the
 * display has nothing on screen). Every write of the display, and every message printed by the
 * session, goes through here and becomes one synchronized write:
 *
 *   erase the prompt (back to its first row) → back to the display's row → the display's own
 *   output → the prompt drawn again below, with the cursor where readline expects it.
 *
 * Readline keeps the prompt's geometry itself (`getCursorPos`); the prompt is drawn exactly as
 * readline draws it (prompt, line, cursor placed back), so readline's bookkeeping stays right.
 * Readline writes straight through, except the newline it writes when Enter is pressed: that
 * one erases the prompt instead, and the session prints the submitted line above the live area.
 */
import type { Interface } from 'node:readline';
import type { TerminalStream } from '../../ui/index.ts';

export interface TtyLike {
  write(chunk: string): boolean;
  readonly columns?: number;
  readonly rows?: number;
  readonly isTTY?: boolean;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
  removeListener?(event: 'resize', listener: () => void): unknown;
}

const CSI = '\x1b[';
const SYNC_BEGIN = `${CSI}?2026h`;
const SYNC_END = `${CSI}?2026l`;
const ERASE_DOWN = `${CSI}J`;
const SHOW_CURSOR = `${CSI}?25h`;
const HIDE_CURSOR = `${CSI}?25l`;
const WRAP_ON = `${CSI}?7h`;
const WRAP_OFF = `${CSI}?7l`;
/** What readline writes for Ctrl-L before clearing the screen. */
const HOME = `${CSI}1;1H`;
/** Mode changes and erasing: none of them moves the cursor. */
const TRAILING_MODES = /(?:\x1b\[\??[0-9;]*[hlmJK])+$/;

const up = (rows: number): string => (rows > 0 ? `${CSI}${rows}A` : '');

type Where = 'display' | 'slot' | 'prompt';

export class SharedTerminal {
  private readonly tty: TtyLike;
  private rl: Interface | undefined;
  /**
   * `display`: the cursor is where the display left it. `slot`: at the start of the prompt's
   * line, nothing drawn there. `prompt`: inside the drawn prompt, where readline put it.
   */
  private where: Where = 'display';
  /** The display left the cursor at the start of an empty line (nothing live on screen). */
  private atLineStart = true;
  private promptActive = false;
  private displayWrapOff = false;
  private displayCursorHidden = false;
  /** Prints text above the live area while the display is live (the display's own `log`). */
  private above: ((text: string) => void) | undefined;

  /** The stream readline writes to. */
  readonly readlineOutput: TtyLike;
  /** The stream the live display writes to: the terminal less the prompt's rows. */
  readonly displayStream: TerminalStream;

  constructor(tty: TtyLike) {
    this.tty = tty;
    const self = this;
    this.readlineOutput = {
      write: (chunk: string) => this.fromReadline(chunk),
      get columns() {
        return tty.columns;
      },
      get rows() {
        return tty.rows;
      },
      isTTY: true,
      on: (event, listener) => tty.on(event, listener),
      off: (event, listener) => tty.off(event, listener),
      removeListener: (event, listener) => tty.off(event, listener),
    };
    this.displayStream = {
      write: (chunk: string) => this.fromDisplay(chunk),
      get columns() {
        return tty.columns;
      },
      get rows() {
        // One spare row: a prompt that grows by a row while typing does not push the area's top off screen.
        return Math.max(1, (tty.rows ?? 24) - self.promptRows() - 1);
      },
      isTTY: tty.isTTY,
      on: (event, listener) => tty.on(event, listener),
      off: (event, listener) => tty.off(event, listener),
    };
  }

  /** The readline interface whose prompt is drawn below the display. */
  attach(rl: Interface, above: (text: string) => void): void {
    this.rl = rl;
    this.above = above;
  }

  /** True while the display has a live area on screen. */
  get displayLive(): boolean {
    return !this.atLineStart;
  }

  /** Draws the prompt (again) and keeps it drawn after every write from now on. */
  showPrompt(): void {
    this.promptActive = true;
    if (this.where === 'prompt') return;
    this.tty.write(SYNC_BEGIN + this.toPrompt() + SYNC_END);
  }

  /** Redraws the prompt, e.g. after changing readline's prompt text. */
  refreshPrompt(): void {
    if (!this.promptActive) return;
    this.tty.write(SYNC_BEGIN + this.toDisplay() + this.toPrompt() + SYNC_END);
  }

  /** Takes the prompt off the screen for good (leaving); later output goes where the display is. */
  hidePrompt(): void {
    this.promptActive = false;
    if (this.where === 'display') return;
    this.tty.write(this.toDisplay());
  }

  /**
   * Prints text for the person: above the live area while a job is shown, otherwise on the
   * prompt's line, with the prompt drawn again below it.
   */
  print(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`;
    if (this.displayLive && this.above) {
      this.above(body);
      return;
    }
    let output = SYNC_BEGIN + this.toDisplay();
    // The display has nothing live: its cursor is at the start of a line, where the text goes.
    output += body.replace(/\r?\n/g, '\r\n');
    if (this.promptActive) output += this.toPrompt();
    this.tty.write(output + SYNC_END);
  }

  private promptRows(): number {
    if (!this.promptActive || !this.rl) return 0;
    return this.endOfLine().rows + 1;
  }

  private fromReadline(chunk: string): boolean {
    const rl = this.rl;
    if (rl && this.where === 'prompt') {
      if (chunk === '\r\n') {
        // Enter: readline has put the cursor at the end of the line. Erase the whole prompt;
        // the session prints the line again where it belongs.
        const rows = rl.getCursorPos().rows;
        this.where = 'slot';
        return this.tty.write(`${up(rows)}\r${ERASE_DOWN}`);
      }
      // Ctrl-L would clear the screen under a live area: keep the area, redraw only the prompt.
      if (chunk === HOME && this.displayLive) return true;
    }
    return this.tty.write(chunk);
  }

  private fromDisplay(chunk: string): boolean {
    const body = chunk.split(SYNC_BEGIN).join('').split(SYNC_END).join('');
    this.trackModes(body);
    let output = SYNC_BEGIN + this.toDisplay() + body;
    const rest = body.replace(TRAILING_MODES, '');
    if (rest !== '') this.atLineStart = rest.endsWith('\n');
    if (this.promptActive) output += this.toPrompt();
    return this.tty.write(output + SYNC_END);
  }

  private trackModes(body: string): void {
    const wrapOff = body.lastIndexOf(WRAP_OFF);
    const wrapOn = body.lastIndexOf(WRAP_ON);
    if (wrapOff !== wrapOn) this.displayWrapOff = wrapOff > wrapOn;
    const hidden = body.lastIndexOf(HIDE_CURSOR);
    const shown = body.lastIndexOf(SHOW_CURSOR);
    if (hidden !== shown) this.displayCursorHidden = hidden > shown;
  }

  /** From wherever the cursor is to where the display left it, in the display's modes. */
  private toDisplay(): string {
    let output = '';
    if (this.where === 'prompt' && this.rl) {
      output += `${up(this.rl.getCursorPos().rows)}\r${ERASE_DOWN}`;
      this.where = 'slot';
    }
    if (this.where === 'slot') {
      if (!this.atLineStart) output += `${CSI}A`;
      this.where = 'display';
      if (this.displayCursorHidden) output += HIDE_CURSOR;
      if (this.displayWrapOff) output += WRAP_OFF;
    }
    return output;
  }

  /** From the display's position to the prompt, drawn as readline draws it. */
  private toPrompt(): string {
    let output = '';
    if (this.where === 'display') {
      if (!this.atLineStart) output += '\r\n';
      this.where = 'slot';
    }
    if (this.where === 'slot' && this.rl && this.promptActive) {
      output += WRAP_ON + this.drawPrompt(this.rl) + SHOW_CURSOR;
      this.where = 'prompt';
    }
    return output;
  }

  /** Readline's own refresh, from the prompt's first row: prompt, line, cursor back in place. */
  private drawPrompt(rl: Interface): string {
    const cursor = rl.getCursorPos();
    const end = this.endOfLine();
    let output = `\r${ERASE_DOWN}${rl.getPrompt()}${rl.line}`;
    // At an exact multiple of the width, make the terminal move to the next row as readline does.
    if (end.cols === 0) output += ' ';
    output += `${CSI}${cursor.cols + 1}G${up(end.rows - cursor.rows)}`;
    return output;
  }

  /** Where the end of the prompt and line falls (rows below the first, column). */
  private endOfLine(): { rows: number; cols: number } {
    const rl = this.rl as Interface & { cursor: number };
    const saved = rl.cursor;
    rl.cursor = rl.line.length;
    const end = rl.getCursorPos();
    rl.cursor = saved;
    return end;
  }
}
