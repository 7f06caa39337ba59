/**
 * Naming an input on the command line: `NODE.INPUT` and `NODE.INPUT=VALUE`, where NODE is a node
 * id or a title. Titles may contain dots and spaces, so the input is what follows the last dot.
 */
import { PyrosError } from '../errors.ts';
import type { ApiWorkflow } from '../client/types.ts';
import { editDistance } from './edit-distance.ts';
import { describeInput, describeNode, explicitTitle, isLink, type InputRef } from './graph.ts';

export interface TargetSpec {
  /** A node id or title, as typed. */
  node: string;
  input: string;
  /** The whole `NODE.INPUT`, for messages. */
  text: string;
}

/** `NODE.INPUT=VALUE`; `NODE.INPUT=@path` names a file to upload, which is not read here. */
export type SetArg =
  | { kind: 'value'; target: TargetSpec; value: unknown; text: string }
  | { kind: 'file'; target: TargetSpec; path: string; text: string };

const TARGET_EXAMPLE = 'e.g. 6.text or "Positive Prompt.text"';
const CLOSEST_NODES = 5;

export function parseTarget(text: string): TargetSpec {
  const trimmed = text.trim();
  const dot = trimmed.lastIndexOf('.');
  const node = trimmed.slice(0, Math.max(dot, 0)).trim();
  const input = trimmed.slice(dot + 1).trim();
  if (dot < 0 || node === '' || input === '') {
    throw new PyrosError('usage', `"${text}" does not name an input: expected NODE.INPUT, where NODE is a node id or title (${TARGET_EXAMPLE}).`);
  }
  return { node, input, text: trimmed };
}

export function parseSetArg(text: string): SetArg {
  const equals = text.indexOf('=');
  if (equals < 0) {
    throw new PyrosError('usage', `--set "${text}" has no value: expected NODE.INPUT=VALUE (e.g. 3.steps=30 or "Positive Prompt.text=a cat").`);
  }
  const target = parseTarget(text.slice(0, equals));
  const raw = text.slice(equals + 1);
  if (raw.startsWith('@')) {
    const path = raw.slice(1);
    if (path === '') throw new PyrosError('usage', `--set "${text}": "@" must be followed by the path of a file to upload.`);
    return { kind: 'file', target, path, text };
  }
  return { kind: 'value', target, value: parseSetValue(raw, text), text };
}

/** JSON where it parses (numbers, true, [1,2], "quoted"), otherwise the text itself. */
function parseSetValue(raw: string, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof value === 'number' && /^\s*-?\d+\s*$/.test(raw) && !Number.isSafeInteger(value)) {
    throw new PyrosError('usage', `--set "${text}": ${raw.trim()} is too large to send exactly as a JSON number (the limit is ${Number.MAX_SAFE_INTEGER}).`);
  }
  return value;
}

/** Finds the node and input a target names, and checks that the input can be given a value. */
export function resolveTarget(workflow: ApiWorkflow, target: TargetSpec | string, context?: string): InputRef {
  const spec = typeof target === 'string' ? parseTarget(target) : target;
  const fail = (message: string, hint?: string): PyrosError =>
    new PyrosError('usage', context ? `${context} "${spec.text}": ${message}` : capitalize(message), hint === undefined ? {} : { hint });

  const nodeId = findNode(workflow, spec.node, fail);
  const node = workflow[nodeId];
  if (!node) throw fail(`no node "${spec.node}" in the workflow.`);
  const ref = { nodeId, input: spec.input };

  if (!Object.hasOwn(node.inputs, spec.input)) {
    const names = Object.keys(node.inputs);
    const listed = names.map((name) => (isLink(node.inputs[name]) ? `${name} (connected)` : name)).join(', ');
    const close = names.find((name) => name.toLowerCase() === spec.input.toLowerCase() || editDistance(name, spec.input) <= 2);
    throw fail(
      `${describeNode(workflow, nodeId)} has no input "${spec.input}". ${names.length > 0 ? `Its inputs: ${listed}.` : 'It has no inputs.'}`,
      close === undefined ? undefined : `Did you mean ${nodeId}.${close}?`,
    );
  }

  const value = node.inputs[spec.input];
  if (isLink(value)) {
    const [sourceId, output] = value;
    throw fail(
      `${describeInput(workflow, ref)} is connected to ${describeNode(workflow, sourceId)} (output ${output}), so it cannot be set to a value.`,
      upstreamHint(workflow, sourceId),
    );
  }
  return ref;
}

function upstreamHint(workflow: ApiWorkflow, sourceId: string): string {
  const source = workflow[sourceId];
  const valueInputs = source ? Object.keys(source.inputs).filter((name) => !isLink(source.inputs[name])) : [];
  const only = valueInputs.length === 1 ? valueInputs[0] : undefined;
  if (only !== undefined) return `Set the value on the node it comes from instead: --set ${sourceId}.${only}=…`;
  const inputs = valueInputs.length > 0 ? ` (its inputs: ${valueInputs.join(', ')})` : '';
  return `Set an input of node ${sourceId} instead${inputs}, or remove the link in ComfyUI and export the workflow again.`;
}

/** Id first, then exact title, then case-insensitive title, then `#id`, then class type. */
function findNode(workflow: ApiWorkflow, name: string, fail: (message: string, hint?: string) => PyrosError): string {
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
      throw fail(
        `"${name}" matches ${found.length} nodes: ${found.map((id) => describeNode(workflow, id)).join(', ')}.`,
        `Use the node id instead, e.g. ${found[0]}.<input>.`,
      );
    }
  }
  const closest = closestNodes(workflow, name).map((id) => describeNode(workflow, id));
  throw fail(
    `no node "${name}" in the workflow.${closest.length > 0 ? ` Closest: ${closest.join(', ')}.` : ''}`,
    'Name a node by its id or by its title as shown in ComfyUI.',
  );
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

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
