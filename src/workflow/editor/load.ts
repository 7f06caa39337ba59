/**
 * What the editor does to a workflow's subgraphs when it loads it, before anything is queued: node
 * ids of subgraph definitions made unique, definitions configured innermost first, each instance's
 * promoted widgets valued, and legacy promoted widgets migrated. Works on a copy; `original` maps
 * each node of the copy back to the node of the workflow given.
 */
import { isObject } from './detect.ts';
import type { NodeDefinitions } from './node-defs.ts';
import { dedupeSubgraphNodeIds } from './node-ids.ts';
import { Promotions } from './promotion.ts';
import { migrateProxyWidgets } from './proxy-widgets.ts';
import { normalizeLink } from './scope.ts';
import type { EditorLinkObject, EditorNode, EditorWorkflow, SubgraphDefinition } from './types.ts';

export interface LoadedWorkflow {
  workflow: EditorWorkflow;
  subgraphs: Map<string, SubgraphDefinition>;
  promotions: Promotions;
  original: WeakMap<object, EditorNode>;
  /** The last node id the editor has handed out after loading. */
  lastNodeId: number;
}

export function loadWorkflow(given: EditorWorkflow, defs: NodeDefinitions): LoadedWorkflow {
  const workflow = structuredClone(given);
  const original = new WeakMap<object, EditorNode>();
  pairNodes(workflow, given, original);

  const topLevel = definitionList(workflow);
  const subgraphs = new Map<string, SubgraphDefinition>();
  collect(topLevel, subgraphs);
  for (const definition of subgraphs.values()) {
    definition.links = (Array.isArray(definition.links) ? definition.links : []).map((link) => asObject(link)).filter((link): link is EditorLinkObject => link !== undefined);
    if (!Array.isArray(definition.inputs)) definition.inputs = [];
    if (!Array.isArray(definition.nodes)) definition.nodes = [];
  }

  const state = { lastNodeId: initialLastNodeId(workflow) };
  dedupeSubgraphNodeIds(topLevel, workflow.nodes, state);

  const promotions = new Promotions(subgraphs, defs);
  const nested = [...subgraphs.values()].filter((definition) => !topLevel.includes(definition));
  for (const definition of [...nested, ...configureOrder(topLevel)]) configureGraph(definition.nodes ?? [], promotions);
  configureGraph(workflow.nodes, promotions);
  const lastNodeId = Math.max(state.lastNodeId, ...workflow.nodes.map((node) => Number(node.id)).filter(Number.isFinite));
  return { workflow, subgraphs, promotions, original, lastNodeId };
}

/** All instances of a graph are configured before any of them migrates its legacy promotions. */
function configureGraph(nodes: EditorNode[], promotions: Promotions): void {
  const hosts = nodes.filter((node) => isObject(node) && promotions.definitionOf(node) !== undefined);
  for (const host of hosts) promotions.configure(host);
  for (const host of hosts) migrateProxyWidgets(host, promotions);
}

function definitionList(holder: unknown): SubgraphDefinition[] {
  const list = isObject(holder) && isObject(holder.definitions) ? holder.definitions.subgraphs : undefined;
  return Array.isArray(list) ? list.filter((definition): definition is SubgraphDefinition => isObject(definition) && typeof definition.id === 'string') : [];
}

function collect(definitions: SubgraphDefinition[], into: Map<string, SubgraphDefinition>): void {
  for (const definition of definitions) {
    if (!into.has(definition.id)) into.set(definition.id, definition);
    collect(definitionList(definition), into);
  }
}

function asObject(raw: unknown): EditorLinkObject | undefined {
  const link = normalizeLink(raw);
  return link && { id: link.id, origin_id: link.originId, origin_slot: link.originSlot, target_id: link.targetId, target_slot: link.targetSlot, type: link.type };
}

function initialLastNodeId(workflow: EditorWorkflow): number {
  if (workflow.version === 0.4) return typeof workflow.last_node_id === 'number' ? workflow.last_node_id : 0;
  const fromState = workflow.state?.lastNodeId;
  return typeof fromState === 'number' ? Math.max(0, fromState) : 0;
}

/**
 * Definitions that contain no other definition first (the editor's order; when its count of
 * dependencies does not settle, it keeps the order of the file).
 */
function configureOrder(definitions: SubgraphDefinition[]): SubgraphDefinition[] {
  const ids = new Set(definitions.map((definition) => definition.id));
  const byId = new Map(definitions.map((definition) => [definition.id, definition]));
  const dependents = new Map<string, Set<string>>([...ids].map((id) => [id, new Set<string>()]));
  const inDegree = new Map<string, number>([...ids].map((id) => [id, 0]));
  for (const definition of definitions) {
    for (const node of definition.nodes ?? []) {
      if (!isObject(node) || !ids.has(node.type)) continue;
      dependents.get(node.type)!.add(definition.id);
      inDegree.set(definition.id, (inDegree.get(definition.id) ?? 0) + 1);
    }
  }
  const queue = [...inDegree].filter(([, degree]) => degree === 0).map(([id]) => id);
  const sorted: SubgraphDefinition[] = [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    sorted.push(byId.get(id)!);
    for (const dependent of dependents.get(id) ?? []) {
      const degree = (inDegree.get(dependent) ?? 1) - 1;
      inDegree.set(dependent, degree);
      if (degree === 0) queue.push(dependent);
    }
  }
  return sorted.length === definitions.length ? sorted : definitions;
}

/** Walks the copy and the workflow given side by side, remembering each node's original. */
function pairNodes(copy: unknown, given: unknown, original: WeakMap<object, EditorNode>): void {
  if (!isObject(copy) || !isObject(given)) return;
  const copyNodes = copy.nodes;
  const givenNodes = given.nodes;
  if (Array.isArray(copyNodes) && Array.isArray(givenNodes)) {
    copyNodes.forEach((node, index) => {
      if (isObject(node) && isObject(givenNodes[index])) original.set(node, givenNodes[index] as EditorNode);
    });
  }
  const copyDefinitions = isObject(copy.definitions) ? copy.definitions.subgraphs : undefined;
  const givenDefinitions = isObject(given.definitions) ? given.definitions.subgraphs : undefined;
  if (Array.isArray(copyDefinitions) && Array.isArray(givenDefinitions)) {
    copyDefinitions.forEach((definition, index) => pairNodes(definition, givenDefinitions[index], original));
  }
}
