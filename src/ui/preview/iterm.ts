/**
 * iTerm2 inline images (OSC 1337), also understood by WezTerm, mintty and Konsole: the original
 * file bytes in base64, no decoding needed on our side.
 */
import type { CellSize } from './decode.ts';

export function encodeIterm(bytes: Uint8Array, cells: CellSize): string {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const args = `inline=1;size=${bytes.byteLength};width=${cells.cols};height=${cells.rows};preserveAspectRatio=1`;
  return `\x1b]1337;File=${args}:${base64}\x07`;
}
