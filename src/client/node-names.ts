/**
 * Names a node for people: the display node's title, else the workflow's `_meta.title`, else the
 * class_type, else the id. Event node ids can be expanded ids (`406.0.0.428`) of nodes inside a
 * group or subgraph, which are not workflow keys: their first segment is.
 */
import type { ApiWorkflow, NodeRef } from './types.ts';

function lookup(workflow: ApiWorkflow, id: string | null | undefined): { id: string; node: ApiWorkflow[string] } | undefined {
  if (!id) return undefined;
  const node = workflow[id] ?? workflow[id.split('.')[0] ?? ''];
  return node ? { id, node } : undefined;
}

export function nodeRef(workflow: ApiWorkflow, nodeId: string, displayNodeId?: string | null, classType?: string | null): NodeRef {
  const found = lookup(workflow, displayNodeId) ?? lookup(workflow, nodeId);
  const cls = (workflow[nodeId]?.class_type ?? classType ?? found?.node.class_type) || undefined;
  const title = found?.node._meta?.title || found?.node.class_type || cls || `#${nodeId}`;
  return { nodeId, displayNodeId: displayNodeId ?? nodeId, title, classType: cls };
}
