/** Aligned columns for human output; widths measured with string-width (wide characters, colours). */
import { sanitize, textWidth } from '../ui/text.ts';

export type Align = 'left' | 'right';

/**
 * Pads every cell but the last of each row to its column's width. Cells may hold colour codes
 * (they take no width); control characters from servers are neutralised by `cell`.
 */
export function formatTable(rows: readonly (readonly string[])[], options: { align?: readonly Align[]; gap?: number; indent?: string } = {}): string[] {
  const gap = ' '.repeat(options.gap ?? 2);
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, textWidth(cell))));
  return rows.map((row) => {
    const cells = row.map((cell, index) => {
      const pad = ' '.repeat(Math.max(0, (widths[index] ?? 0) - textWidth(cell)));
      if (options.align?.[index] === 'right') return pad + cell;
      return index === row.length - 1 ? cell : cell + pad;
    });
    return `${options.indent ?? ''}${cells.join(gap)}`.trimEnd();
  });
}

/** Text from a server or a workflow, safe to print in a cell. */
export function cell(value: unknown): string {
  return value === undefined || value === null ? '' : sanitize(String(value));
}

/** `label:  value` lines with the values aligned. */
export function formatFields(fields: readonly (readonly [string, string | undefined])[], indent = ''): string[] {
  return formatTable(
    fields.filter(([, value]) => value !== undefined && value !== '').map(([label, value]) => [`${label}:`, value ?? '']),
    { indent },
  );
}
