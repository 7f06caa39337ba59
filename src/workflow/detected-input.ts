import type { ApiWorkflow } from './types.ts';
import { nodeTitle, type InputRef } from './graph.ts';

/** An input found by looking at the graph, and why it was chosen. */
export interface DetectedInput extends InputRef {
  title: string;
  classType: string;
  /** How it was found, e.g. "positive conditioning of #3 (KSampler)". */
  how: string;
}

export function detectedInput(workflow: ApiWorkflow, ref: InputRef, how: string): DetectedInput {
  const node = workflow[ref.nodeId];
  return { nodeId: ref.nodeId, input: ref.input, title: node ? nodeTitle(node) : ref.nodeId, classType: node?.class_type ?? '', how };
}
