/** Reading an API-format workflow: links, titles, and how to name a node or input for people. */
import type { ApiNode, ApiWorkflow } from './types.ts';

/** An input connected to another node's output: `[sourceNodeId, outputIndex]`. */
export type Link = readonly [string, number];

/** A resolved input: the node's key in the workflow and the input's name. */
export interface InputRef {
  nodeId: string;
  input: string;
}

export function isLink(value: unknown): value is Link {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1]);
}

/** The `_meta.title` the editor shows, when the file has one. */
export function explicitTitle(node: ApiNode): string | undefined {
  const title = node._meta?.title;
  return typeof title === 'string' && title.trim() !== '' ? title : undefined;
}

/** What people call the node: its title, else its class. */
export function nodeTitle(node: ApiNode): string {
  return explicitTitle(node) ?? node.class_type;
}

/** `#6 "Positive Prompt" (CLIPTextEncode)`, or `#3 (KSampler)` when the title adds nothing. */
export function describeNode(workflow: ApiWorkflow, nodeId: string): string {
  const node = workflow[nodeId];
  if (!node) return `#${nodeId}`;
  const title = explicitTitle(node);
  return title !== undefined && title !== node.class_type ? `#${nodeId} "${title}" (${node.class_type})` : `#${nodeId} (${node.class_type})`;
}

/** `#6 "Positive Prompt" (CLIPTextEncode).text` */
export function describeInput(workflow: ApiWorkflow, ref: InputRef): string {
  return `${describeNode(workflow, ref.nodeId)}.${ref.input}`;
}

export function sameInput(a: InputRef, b: InputRef): boolean {
  return a.nodeId === b.nodeId && a.input === b.input;
}

/** Short, quoted rendering of an input value for messages. */
export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** "a string", "a number", "a link", … for messages about a value's kind. */
export function kindOf(value: unknown): string {
  if (isLink(value)) return 'a link';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
