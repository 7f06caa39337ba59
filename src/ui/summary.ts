/**
 * What is printed after a job: the saved files (size, dimensions, path), typed errors as a
 * compact block, and the display's own statistics for --verbose.
 */
import { formatBytes } from './format.ts';
import { imageSize } from './image-size.ts';
import type { DisplayStats } from './index.ts';
import { paint, sanitize, textWidth } from './text.ts';

export interface SavedFile {
  path: string;
  /** Size in bytes. */
  size: number;
  /** The first bytes of the file (a few hundred are enough) to read the image dimensions from. */
  head?: Uint8Array;
  width?: number;
  height?: number;
}

/** One aligned line per file: `✔ 512×512   37.1 KiB  images/pyros_00001_.png`. */
export function savedFileLines(files: readonly SavedFile[], options: { color: boolean }): string[] {
  const rows = files.map((file) => {
    const size = file.width && file.height ? { width: file.width, height: file.height } : file.head ? imageSize(file.head) : undefined;
    return { dims: size ? `${size.width}×${size.height}` : '', bytes: formatBytes(file.size), path: sanitize(file.path) };
  });
  const dimsWidth = Math.max(0, ...rows.map((row) => textWidth(row.dims)));
  const bytesWidth = Math.max(0, ...rows.map((row) => row.bytes.length));
  return rows.map((row) => {
    const dims = dimsWidth > 0 ? `${row.dims.padEnd(dimsWidth)}  ` : '';
    return `${paint('green', '✔', options.color)} ${paint('dim', dims + row.bytes.padStart(bytesWidth), options.color)}  ${row.path}`;
  });
}

export interface ErrorBlock {
  title: string;
  details?: readonly string[];
  hint?: string;
}

/**
 * ```
 * ✖ The workflow failed in node #4 "KSampler": RuntimeError: …
 *     detail line
 *   hint: what to do about it
 * ```
 */
export function formatErrorBlock(block: ErrorBlock, options: { color: boolean }): string[] {
  const { color } = options;
  const lines = [`${paint('red', '✖', color)} ${paint('bold', sanitizeLines(block.title), color)}`];
  for (const detail of block.details ?? []) {
    for (const line of detail.split('\n')) if (line.trim()) lines.push(`    ${sanitize(line.trimEnd())}`);
  }
  if (block.hint) lines.push(`  ${paint('cyan', 'hint:', color)} ${sanitizeLines(block.hint)}`);
  return lines;
}

function sanitizeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => sanitize(line))
    .join('\n    ');
}

/** `previews: 512 received, 9 drawn, 503 dropped · decode 10.4 ms, encode 1.2 ms (mean)`. */
export function describeStats(stats: DisplayStats): string {
  const p = stats.preview;
  if (p.received === 0) return `display: ${stats.mode}, no previews`;
  const failed = p.failed > 0 ? `, ${p.failed} failed` : '';
  const timing = p.decode.count > 0 ? ` · decode ${p.decode.meanMs} ms, encode ${p.encode.meanMs} ms (mean)` : p.encode.count > 0 ? ` · encode ${p.encode.meanMs} ms (mean)` : '';
  return `previews (${p.protocol}): ${p.received} received, ${p.drawn} drawn, ${p.dropped} dropped${failed}${timing}`;
}
