/**
 * Asking the terminal what it can draw, for when the environment does not say. One write sends
 * three queries; every terminal answers the last one (primary device attributes), so its reply
 * marks the end and an unanswered kitty or cell-size query costs nothing extra.
 */
import type { PixelSize } from './sixel.ts';

/** kitty: "would you accept this 1×1 RGB image?" (a=q: query only, nothing is stored). */
export const KITTY_QUERY = '\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\';
/** XTWINOPS 16: cell size in pixels, answered as CSI 6 ; height ; width t. */
export const CELL_SIZE_QUERY = '\x1b[16t';
/** Primary device attributes: CSI ? 6x ; … c, where 4 in the list means sixel graphics. */
export const DEVICE_ATTRIBUTES_QUERY = '\x1b[c';

export const TERMINAL_PROBE = KITTY_QUERY + CELL_SIZE_QUERY + DEVICE_ATTRIBUTES_QUERY;

export interface TerminalReplies {
  kitty: boolean;
  sixel: boolean;
  cellPixels: PixelSize | undefined;
  /** The device attributes reply arrived: nothing more is coming. */
  complete: boolean;
}

export function parseTerminalReplies(text: string): TerminalReplies {
  const kitty = /\x1b_Gi=31;OK\x1b\\/.test(text);
  const attributes = /\x1b\[\?([\d;]*)c/.exec(text);
  const params = attributes?.[1]?.split(';') ?? [];
  const cell = /\x1b\[6;(\d+);(\d+)t/.exec(text);
  const height = Number(cell?.[1]);
  const width = Number(cell?.[2]);
  return {
    kitty,
    sixel: params.slice(1).includes('4'),
    cellPixels: width > 0 && height > 0 ? { width, height } : undefined,
    complete: attributes !== null,
  };
}

export interface QueryInput {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Sends the probe and collects replies for at most `timeoutMs`; stdin is left as it was found. */
export function queryTerminal(input: QueryInput, output: { write(text: string): unknown }, timeoutMs = 150): Promise<TerminalReplies> {
  return new Promise((resolve) => {
    const wasRaw = input.isRaw === true;
    let received = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.off('data', onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      resolve(parseTerminalReplies(received));
    };
    const onData = (chunk: Buffer | string): void => {
      received += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
      if (parseTerminalReplies(received).complete) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
    output.write(TERMINAL_PROBE);
  });
}
