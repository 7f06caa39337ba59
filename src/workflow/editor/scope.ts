/** One graph level of an editor workflow (the root, or a subgraph definition): its nodes and links by id. */
import { isObject } from './detect.ts';
import type { EditorLinkArray, EditorLinkObject, EditorNode, SubgraphDefinition } from './types.ts';

export interface Link {
  id: number;
  originId: string;
  originSlot: number;
  targetId: string;
  targetSlot: number;
  type: unknown;
}

/** Node ids the editor gives the input and output boxes inside a subgraph. */
export const SUBGRAPH_INPUT_ID = '-10';
export const SUBGRAPH_OUTPUT_ID = '-20';

export class GraphScope {
  readonly nodes = new Map<string, EditorNode>();
  readonly links = new Map<number, Link>();

  /** `root`, or the subgraph definition id. */
  readonly id: string;
  readonly definition: SubgraphDefinition | undefined;

  constructor(id: string, nodes: readonly EditorNode[], links: readonly unknown[], definition?: SubgraphDefinition) {
    this.id = id;
    this.definition = definition;
    for (const node of nodes) this.nodes.set(String(node.id), node);
    for (const raw of links) {
      const link = normalizeLink(raw);
      if (link) this.links.set(link.id, link);
    }
  }
}

export function normalizeLink(raw: unknown): Link | undefined {
  if (Array.isArray(raw)) {
    const [id, originId, originSlot, targetId, targetSlot, type] = raw as EditorLinkArray;
    if (typeof id !== 'number') return undefined;
    return { id, originId: String(originId), originSlot: Number(originSlot), targetId: String(targetId), targetSlot: Number(targetSlot), type };
  }
  if (isObject(raw) && typeof raw.id === 'number') {
    const link = raw as unknown as EditorLinkObject;
    return {
      id: link.id,
      originId: String(link.origin_id),
      originSlot: Number(link.origin_slot),
      targetId: String(link.target_id),
      targetSlot: Number(link.target_slot),
      type: link.type,
    };
  }
  return undefined;
}
