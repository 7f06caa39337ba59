/**
 * The editor workflow that goes with a prompt into the saved files (`extra_pnginfo.workflow`),
 * showing the values that actually ran: every input the prompt changed (a seed, the prompt text,
 * any other set input) is written back into the widget it came from, wherever that widget is stored (the
 * node itself, a primitive node feeding it, or the subgraph instance that promotes it).
 */
import type { ApiWorkflow } from '../types.ts';
import { isObject } from './detect.ts';
import type { ConversionResult } from './convert.ts';
import type { EditorNode, EditorWorkflow } from './types.ts';

export interface EmbeddedWorkflow {
  workflow: EditorWorkflow;
  /** The inputs written back, as `nodeId.input`. */
  written: string[];
  /** Changed inputs whose widget could not be found (their value stays as saved). */
  missed: string[];
}

export function workflowWithValues(editor: EditorWorkflow, conversion: ConversionResult, ran: ApiWorkflow): EmbeddedWorkflow {
  const paths = nodePaths(editor);
  const workflow = structuredClone(editor);
  const written: string[] = [];
  const missed: string[] = [];
  for (const [id, node] of Object.entries(ran)) {
    const before = conversion.prompt[id]?.inputs ?? {};
    for (const [input, value] of Object.entries(node.inputs)) {
      if (isLink(value) || sameValue(before[input], value)) continue;
      const slot = conversion.sources.get(`${id}\u0000${input}`);
      const path = slot && paths.get(slot.node);
      const target = path && (at(workflow, path) as EditorNode | undefined);
      if (!slot || !target || !isObject(target) || (!Array.isArray(target.widgets_values) && !isObject(target.widgets_values))) {
        missed.push(`${id}.${input}`);
        continue;
      }
      (target.widgets_values as Record<string | number, unknown>)[slot.key] = unwrap(value);
      written.push(`${id}.${input}`);
    }
  }
  return { workflow, written, missed };
}

/** Where every node object of the workflow sits: in `nodes`, or in a (nested) subgraph definition. */
function nodePaths(editor: EditorWorkflow): WeakMap<object, (string | number)[]> {
  const paths = new WeakMap<object, (string | number)[]>();
  const walkNodes = (nodes: unknown, base: (string | number)[]): void => {
    if (!Array.isArray(nodes)) return;
    nodes.forEach((node, index) => {
      if (isObject(node)) paths.set(node, [...base, index]);
    });
  };
  const walkDefinitions = (holder: unknown, base: (string | number)[]): void => {
    const subgraphs = isObject(holder) && isObject(holder.definitions) ? holder.definitions.subgraphs : undefined;
    if (!Array.isArray(subgraphs)) return;
    subgraphs.forEach((definition, index) => {
      const path = [...base, 'definitions', 'subgraphs', index];
      if (!isObject(definition)) return;
      walkNodes(definition.nodes, [...path, 'nodes']);
      walkDefinitions(definition, path);
    });
  };
  walkNodes(editor.nodes, ['nodes']);
  walkDefinitions(editor, []);
  return paths;
}

function at(root: unknown, path: readonly (string | number)[]): unknown {
  let value = root;
  for (const key of path) value = isObject(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[key] : undefined;
  return value;
}

function isLink(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number') && typeof value[1] === 'number';
}

/** The editor stores lists bare; the prompt wraps them as `{"__value__": [...]}`. */
function unwrap(value: unknown): unknown {
  return isObject(value) && Object.keys(value).length === 1 && Array.isArray(value.__value__) ? value.__value__ : value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
