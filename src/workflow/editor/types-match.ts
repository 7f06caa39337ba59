/** The editor's rule for whether an output type may feed an input type ("*" and "" match anything; "A,B" lists). */
export function isValidConnection(a: unknown, b: unknown): boolean {
  const left = a === '' || a === '*' ? 0 : a;
  const right = b === '' || b === '*' ? 0 : b;
  if (!left || !right || left === right) return true;
  const first = String(left).toLowerCase();
  const second = String(right).toLowerCase();
  if (!first.includes(',') && !second.includes(',')) return first === second;
  const firstTypes = first.split(',');
  const secondTypes = second.split(',');
  return firstTypes.some((x) => secondTypes.some((y) => isValidConnection(x, y)));
}
