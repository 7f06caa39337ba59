/**
 * Finding the input a caller names: a node by id or title (titles may contain dots and spaces),
 * and one of its inputs, which must hold a value rather than a link.
 */
import { PyrosError, type ErrorFields } from '../errors.ts';
import type { ApiWorkflow } from './types.ts';
import { editDistance } from './edit-distance.ts';
import { describeInput, describeNode, explicitTitle, isLink, type InputRef } from './graph.ts';

/** An input named by a caller: `node` is a node id or title (`#id` and the class type work too). */
export interface InputTarget {
  node: string;
  input: string;
}

const CLOSEST_NODES = 5;

/** Finds the node and input a target names, and checks that the input can be given a value. */
export function resolveTarget(workflow: ApiWorkflow, target: InputTarget): InputRef {
  return resolveTargetFor(workflow, target, {});
}

/** resolveTarget, with `extra` fields (which option of applyPatches asked) on its errors. */
export function resolveTargetFor(workflow: ApiWorkflow, target: InputTarget, extra: ErrorFields): InputRef {
  const requested = { node: target.node, input: target.input };
  const fail = (reason: 'target-no-node' | 'target-ambiguous' | 'target-no-input' | 'target-linked', message: string, fields: ErrorFields = {}): PyrosError =>
    new PyrosError('usage', message, { reason, fields: { ...extra, target: requested, ...fields } });

  const nodeId = findNode(workflow, target.node, fail);
  const node = workflow[nodeId];
  if (!node) throw fail('target-no-node', `No node "${target.node}" in the workflow.`);
  const ref = { nodeId, input: target.input };
  const errorNode = { nodeId, title: explicitTitle(node) ?? node.class_type, classType: node.class_type };

  if (!Object.hasOwn(node.inputs, target.input)) {
    const names = Object.keys(node.inputs);
    const listed = names.map((name) => (isLink(node.inputs[name]) ? `${name} (connected)` : name)).join(', ');
    const close = names.find((name) => name.toLowerCase() === target.input.toLowerCase() || editDistance(name, target.input) <= 2);
    throw fail('target-no-input', `${describeNode(workflow, nodeId)} has no input "${target.input}". ${names.length > 0 ? `Its inputs: ${listed}.` : 'It has no inputs.'}`, {
      node: errorNode,
      input: target.input,
      candidates: close === undefined ? [] : [`${nodeId}.${close}`],
    });
  }

  const value = node.inputs[target.input];
  if (isLink(value)) {
    const [sourceId, output] = value;
    const source = workflow[sourceId];
    const valueInputs = source ? Object.keys(source.inputs).filter((name) => !isLink(source.inputs[name])) : [];
    throw fail('target-linked', `${describeInput(workflow, ref)} is connected to ${describeNode(workflow, sourceId)} (output ${output}), so it cannot be set to a value.`, {
      node: errorNode,
      input: target.input,
      upstream: { nodeId: sourceId, inputs: valueInputs },
    });
  }
  return ref;
}

type Fail = (reason: 'target-no-node' | 'target-ambiguous', message: string, fields?: ErrorFields) => PyrosError;

/** Id first, then exact title, then case-insensitive title, then `#id`, then class type. */
function findNode(workflow: ApiWorkflow, name: string, fail: Fail): string {
  if (Object.hasOwn(workflow, name)) return name;
  const ids = Object.keys(workflow);
  const matchers: ((id: string) => boolean)[] = [
    (id) => explicitTitle(workflow[id]!) === name,
    (id) => explicitTitle(workflow[id]!)?.toLowerCase() === name.toLowerCase(),
    (id) => name.startsWith('#') && id === name.slice(1),
    (id) => workflow[id]!.class_type === name,
  ];
  for (const matches of matchers) {
    const found = ids.filter(matches);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      throw fail('target-ambiguous', `"${name}" matches ${found.length} nodes: ${found.map((id) => describeNode(workflow, id)).join(', ')}.`, { candidates: found });
    }
  }
  const closest = closestNodes(workflow, name);
  const listed = closest.map((id) => describeNode(workflow, id));
  throw fail('target-no-node', `No node "${name}" in the workflow.${listed.length > 0 ? ` Closest: ${listed.join(', ')}.` : ''}`, { candidates: closest });
}

function closestNodes(workflow: ApiWorkflow, name: string): string[] {
  const query = name.toLowerCase().replace(/^#/, '');
  const score = (id: string): number => {
    const node = workflow[id]!;
    const names = [id, explicitTitle(node), node.class_type].filter((text): text is string => text !== undefined).map((text) => text.toLowerCase());
    const distances = names.map((text) => (query.length >= 3 && text.length >= 3 && (text.includes(query) || query.includes(text)) ? 0.5 : editDistance(query, text)));
    return Math.min(...distances);
  };
  return Object.keys(workflow)
    .map((id, order) => ({ id, order, score: score(id) }))
    .sort((a, b) => a.score - b.score || a.order - b.order)
    .slice(0, CLOSEST_NODES)
    .map((entry) => entry.id);
}
