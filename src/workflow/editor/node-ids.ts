/**
 * Node ids the editor gives the nodes of subgraph definitions on load: an id already used by a root
 * node or by a definition earlier in the list takes the next free id (counting on from the
 * workflow's last node id), and the links and legacy `proxyWidgets` entries that name it follow.
 * Execution ids of nodes inside subgraphs (`host:inner`) use these ids.
 */
import { isObject } from './detect.ts';
import type { EditorNode, SubgraphDefinition } from './types.ts';

export interface NodeIdState {
  lastNodeId: number;
}

/** Mutates the (cloned) definitions and root nodes; returns the remapped ids by definition id. */
export function dedupeSubgraphNodeIds(definitions: SubgraphDefinition[], rootNodes: EditorNode[], state: NodeIdState): Map<string, Map<string, number>> {
  // Only numeric root ids are reserved, as in the editor.
  const usedNumbers = new Set(rootNodes.map((node) => node.id).filter((id): id is number => typeof id === 'number'));
  const used = new Set([...usedNumbers].map(String));
  const remapped = new Map<string, Map<string, number>>();
  for (const definition of definitions) {
    const nodes = Array.isArray(definition.nodes) ? definition.nodes : [];
    const remap = new Map<string, number>();
    for (const node of nodes) {
      if (!isObject(node)) continue;
      const key = String(node.id);
      if (used.has(key)) {
        let next = state.lastNodeId;
        do next += 1;
        while (usedNumbers.has(next));
        state.lastNodeId = next;
        remap.set(key, next);
        node.id = next;
        used.add(String(next));
        usedNumbers.add(next);
        continue;
      }
      used.add(key);
      const id = numericId(node.id);
      if (id !== undefined) {
        usedNumbers.add(id);
        if (id > state.lastNodeId) state.lastNodeId = id;
      }
    }
    if (remap.size === 0) continue;
    remapped.set(definition.id, remap);
    for (const link of Array.isArray(definition.links) ? definition.links : []) patchLink(link, remap);
  }
  const definitionIds = new Set(definitions.map((definition) => definition.id));
  for (const definition of definitions) patchProxyWidgets(Array.isArray(definition.nodes) ? definition.nodes : [], definitionIds, remapped);
  patchProxyWidgets(rootNodes, definitionIds, remapped);
  return remapped;
}

function numericId(id: unknown): number | undefined {
  const value = Number(id);
  return Number.isInteger(value) && String(value) === String(id) ? value : undefined;
}

function patchLink(link: unknown, remap: Map<string, number>): void {
  if (Array.isArray(link)) {
    const origin = remap.get(String(link[1]));
    if (origin !== undefined) link[1] = origin;
    const target = remap.get(String(link[3]));
    if (target !== undefined) link[3] = target;
    return;
  }
  if (!isObject(link)) return;
  const origin = remap.get(String(link.origin_id));
  if (origin !== undefined) link.origin_id = origin;
  const target = remap.get(String(link.target_id));
  if (target !== undefined) link.target_id = target;
}

/** Legacy promoted widgets name inner nodes by id: they follow the ids of the subgraph they show. */
function patchProxyWidgets(nodes: EditorNode[], definitionIds: Set<string>, remapped: Map<string, Map<string, number>>): void {
  for (const node of nodes) {
    if (!isObject(node) || !definitionIds.has(node.type)) continue;
    const remap = remapped.get(node.type);
    const entries = isObject(node.properties) ? node.properties.proxyWidgets : undefined;
    if (!remap || !Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (!Array.isArray(entry)) continue;
      const id = remap.get(String(entry[0]));
      if (id !== undefined) entry[0] = String(id);
    }
  }
}
