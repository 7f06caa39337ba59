/** Primitive value nodes and PreviewAny. */
import { pyJsonDumps, pyStr } from '../python.ts';
import type { NodeBehaviour } from './types.ts';

const passValue: NodeBehaviour = { run: ({ value }) => ({ outputs: [value] }) };

/** PreviewAny's text: strings as they are, numbers via str(), anything else as JSON. */
function previewText(source: unknown): string {
  if (source === undefined || source === null) return 'None';
  if (typeof source === 'string') return source;
  if (typeof source === 'number' || typeof source === 'boolean') return pyStr(source);
  if (typeof source === 'object' && 'kind' in source) return `<${String((source as { kind: unknown }).kind)}>`;
  return pyJsonDumps(source);
}

export const UTILITY_NODES: Record<string, NodeBehaviour> = {
  PrimitiveString: passValue,
  PrimitiveStringMultiline: passValue,
  PrimitiveInt: passValue,
  PrimitiveFloat: passValue,
  PrimitiveBoolean: passValue,
  PreviewAny: {
    run: ({ source }) => ({ ui: { text: [previewText(source)] } }),
  },
};
