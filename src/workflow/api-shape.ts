/** What an API-format workflow (the graph POST /prompt takes) looks like, with an explained error for each way it is not. */
import type { ApiWorkflow } from './types.ts';
import { PyrosError } from '../errors.ts';
import { kindOf } from './graph.ts';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `source` names what is checked in messages: a path, "stdin", or a path and the part of it. */
export function checkApiWorkflow(data: unknown, source: string): ApiWorkflow {
  if (!isObject(data)) {
    throw new PyrosError('usage', `${source} is not a workflow: expected a JSON object of nodes, found ${kindOf(data)}.`, { reason: 'workflow-not-object', fields: { file: source } });
  }
  const ids = Object.keys(data);
  if (ids.length === 0) throw new PyrosError('usage', `${source} contains no nodes.`, { reason: 'workflow-no-nodes', fields: { file: source } });

  for (const id of ids) {
    const problem = nodeProblem(data[id]);
    if (problem !== undefined) {
      throw new PyrosError('usage', `${source} is not an API-format workflow: node "${id}" ${problem}.`, { reason: 'workflow-bad-node', fields: { file: source, node: { nodeId: id } } });
    }
  }
  return data as ApiWorkflow;
}

function nodeProblem(node: unknown): string | undefined {
  if (!isObject(node)) return `is ${kindOf(node)}, not an object`;
  const classType = node['class_type'];
  if (classType === undefined) return 'has no "class_type"';
  if (typeof classType !== 'string') return `has a "class_type" that is ${kindOf(classType)}, not a class name`;
  if (classType.trim() === '') return 'has an empty "class_type"';
  if (!isObject(node['inputs'])) {
    return node['inputs'] === undefined ? 'has no "inputs"' : `has "inputs" that are ${kindOf(node['inputs'])}, not an object`;
  }
  return undefined;
}

/** True for an editor-format workflow (what ComfyUI's Save writes, and embeds as "workflow"). */
export function isEditorWorkflow(data: unknown): data is Record<string, unknown> & { nodes: unknown[] } {
  return isObject(data) && Array.isArray(data['nodes']) && 'links' in data;
}

/** Node ids in API workflows are numbers, or numbers joined by ':' inside subgraphs. */
const PLAUSIBLE_NODE_ID = /^\d+(:\d+)*$/;

/** True for a JSON object that nothing marks as a workflow: no node-like value, and keys that are not node ids. */
export function isUnrelatedObject(data: Record<string, unknown>): boolean {
  const values = Object.values(data);
  const nodeLike = values.some((value) => isObject(value) && ('class_type' in value || 'inputs' in value));
  return values.length > 0 && !nodeLike && Object.keys(data).some((key) => !PLAUSIBLE_NODE_ID.test(key));
}
