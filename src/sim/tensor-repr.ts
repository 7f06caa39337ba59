/**
 * str(tensor) as PyTorch prints it (default print options: 4 decimals, summarised with 3 edge
 * items once a tensor has more than 1000 elements, 80 columns). execution_error reports the
 * failing node's inputs in this form.
 */
const EDGE_ITEMS = 3;
const THRESHOLD = 1000;
const LINE_WIDTH = 80;

export interface TensorView {
  shape: number[];
  /** Value at a flat row-major index. */
  at(index: number): number;
}

function strides(shape: number[]): number[] {
  const result = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) result[d] = (result[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return result;
}

/** The indices along one dimension that are printed. */
function shownIndices(size: number, summarize: boolean): (number | 'gap')[] {
  if (!summarize || size <= 2 * EDGE_ITEMS) return Array.from({ length: size }, (_, i) => i);
  return [...Array.from({ length: EDGE_ITEMS }, (_, i) => i), 'gap', ...Array.from({ length: EDGE_ITEMS }, (_, i) => size - EDGE_ITEMS + i)];
}

function collectShown(view: TensorView, summarize: boolean): number[] {
  const stride = strides(view.shape);
  const values: number[] = [];
  const walk = (dim: number, offset: number): void => {
    if (dim === view.shape.length) {
      values.push(view.at(offset));
      return;
    }
    for (const index of shownIndices(view.shape[dim] ?? 0, summarize)) {
      if (index !== 'gap') walk(dim + 1, offset + index * (stride[dim] ?? 0));
    }
  };
  walk(0, 0);
  return values;
}

function makeFormatter(values: number[]): (value: number) => string {
  const finite = values.filter(Number.isFinite);
  const intMode = finite.every(Number.isInteger);
  const format = intMode ? (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)}.` : String(v)) : (v: number): string => v.toFixed(4);
  const width = Math.max(1, ...values.map((v) => format(v).length));
  return (value) => format(value).padStart(width);
}

export function tensorRepr(view: TensorView): string {
  const total = view.shape.reduce((a, b) => a * b, 1);
  const summarize = total > THRESHOLD;
  const shown = collectShown(view, summarize);
  const format = makeFormatter(shown);
  const width = shown.length > 0 ? format(shown[0] ?? 0).length : 1;
  const stride = strides(view.shape);

  const render = (dim: number, offset: number, indent: number): string => {
    const size = view.shape[dim] ?? 0;
    const indices = shownIndices(size, summarize);
    if (dim === view.shape.length - 1) {
      const items = indices.map((index) => (index === 'gap' ? ' ...' : format(view.at(offset + index))));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const remaining = view.shape.length - dim;
    const slices = indices.map((index) => (index === 'gap' ? '...' : render(dim + 1, offset + index * (stride[dim] ?? 0), indent + 1)));
    return `[${slices.join(`,${'\n'.repeat(remaining - 1)}${' '.repeat(indent + 1)}`)}]`;
  };

  if (view.shape.length === 0) return `tensor(${format(view.at(0)).trim()})`;
  return `tensor(${render(0, 0, 'tensor('.length)})`;
}
