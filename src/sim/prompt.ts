/** An API-format prompt as the server holds it: node id → { class_type, inputs }. */
import { orderedKeys } from './prompt-order.ts';

export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  [key: string]: unknown;
}

export type Prompt = Record<string, PromptNode>;

/** A link to another node's output: [node id, output slot]. */
export type Link = [string, number];

export function isLink(value: unknown): value is Link {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

export function nodeIds(prompt: Prompt): string[] {
  return orderedKeys(prompt);
}

export function nodeInputs(node: PromptNode): Record<string, unknown> {
  const inputs = node.inputs as unknown;
  return typeof inputs === 'object' && inputs !== null && !Array.isArray(inputs) ? (inputs as Record<string, unknown>) : {};
}
