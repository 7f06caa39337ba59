/**
 * Legacy group nodes (`extra.groupNodes`, node types `workflow>NAME` or `workflow/NAME`), turned into
 * subgraphs the way the current editor migrates them on load: each instance gets its own subgraph, its
 * inner nodes take the next free node ids, then the instance itself takes the id after them.
 */
import { isObject } from './detect.ts';
import type { NodeDefinitions } from './node-defs.ts';
import { normalizeLink, SUBGRAPH_INPUT_ID, SUBGRAPH_OUTPUT_ID } from './scope.ts';
import type { EditorLinkObject, EditorNode, EditorSlotInput, EditorSlotOutput, EditorWorkflow, LegacyGroupNodeDefinition, SubgraphDefinition } from './types.ts';

const GROUP_NODE_PREFIXES = ['workflow>', 'workflow/'];

export interface GroupNodeExpansion {
  originalId: string;
  hostId: string;
  name: string;
}

export interface MigratedGroupNodes {
  nodes: EditorNode[];
  links: unknown[];
  definitions: SubgraphDefinition[];
  expansions: GroupNodeExpansion[];
}

export function groupNodeName(type: string): string | undefined {
  const prefix = GROUP_NODE_PREFIXES.find((candidate) => type.startsWith(candidate));
  return prefix === undefined ? undefined : type.slice(prefix.length);
}

export function migrateGroupNodes(workflow: EditorWorkflow, defs: NodeDefinitions, loadedLastNodeId = 0): MigratedGroupNodes {
  const groupDefs = isObject(workflow.extra) && isObject(workflow.extra.groupNodes) ? workflow.extra.groupNodes : {};
  const nodes = workflow.nodes;
  const links = Array.isArray(workflow.links) ? workflow.links : [];
  const hasGroupNodes = nodes.some((node) => {
    const name = groupNodeName(node.type);
    return name !== undefined && Object.hasOwn(groupDefs, name);
  });
  if (!hasGroupNodes) return { nodes, links, definitions: [], expansions: [] };

  let lastId = Math.max(loadedLastNodeId, lastNodeId(workflow));
  const renamed = new Map<string, string>();
  const definitions: SubgraphDefinition[] = [];
  const expansions: GroupNodeExpansion[] = [];
  const migratedNodes = nodes.map((node) => {
    const name = groupNodeName(node.type);
    const groupDef = name === undefined ? undefined : (groupDefs as Record<string, LegacyGroupNodeDefinition>)[name];
    if (name === undefined || !isObject(groupDef) || !Array.isArray(groupDef.nodes)) return node;
    const innerIds = groupDef.nodes.map(() => ++lastId);
    const hostId = ++lastId;
    const definition = groupDefinition(`${node.type}#${hostId}`, name, groupDef, innerIds, node, defs);
    definitions.push(definition);
    renamed.set(String(node.id), String(hostId));
    expansions.push({ originalId: String(node.id), hostId: String(hostId), name });
    const host: EditorNode = { ...node, id: hostId, type: definition.id };
    delete host.widgets_values;
    return host;
  });
  const migratedLinks = links.map((raw) => {
    const link = normalizeLink(raw);
    if (!link) return raw;
    return [link.id, renamed.get(link.originId) ?? link.originId, link.originSlot, renamed.get(link.targetId) ?? link.targetId, link.targetSlot, link.type];
  });
  return { nodes: migratedNodes, links: migratedLinks, definitions, expansions };
}

function lastNodeId(workflow: EditorWorkflow): number {
  const recorded = [workflow.last_node_id, workflow.state?.lastNodeId].filter((value): value is number => typeof value === 'number');
  const ids = workflow.nodes.map((node) => Number(node.id)).filter((id) => Number.isFinite(id));
  return Math.max(0, ...recorded, ...ids);
}

function groupDefinition(
  id: string,
  name: string,
  groupDef: LegacyGroupNodeDefinition,
  innerIds: number[],
  instance: EditorNode,
  defs: NodeDefinitions,
): SubgraphDefinition {
  const internal = (groupDef.links ?? []).filter(
    (link): link is [number, number, number, number, ...unknown[]] => Array.isArray(link) && typeof link[0] === 'number' && typeof link[2] === 'number',
  );
  const linkedInput = new Set(internal.map(([, , toIndex, toSlot]) => `${toIndex}:${toSlot}`));
  const linkedOutput = new Set(internal.map(([fromIndex, fromSlot]) => `${fromIndex}:${fromSlot}`));
  const external = new Set((groupDef.external ?? []).map(([index, slot]) => `${index}:${slot}`));

  const links: EditorLinkObject[] = [];
  let nextLinkId = 0;
  const inner: EditorNode[] = groupDef.nodes.map((raw, index) => {
    const { index: _index, ...rest } = raw;
    const rawInputs: EditorSlotInput[] = Array.isArray(raw.inputs) ? raw.inputs : [];
    const rawOutputs: EditorSlotOutput[] = Array.isArray(raw.outputs) ? raw.outputs : [];
    return {
      ...rest,
      id: innerIds[index]!,
      inputs: rawInputs.map((input) => ({ ...input, link: null })),
      outputs: rawOutputs.map((output) => ({ ...output, links: [] })),
    } as unknown as EditorNode;
  });
  for (const [fromIndex, fromSlot, toIndex, toSlot, , type] of internal) {
    const from = inner[fromIndex];
    const to = inner[toIndex];
    if (!from || !to) continue;
    const linkId = ++nextLinkId;
    links.push({ id: linkId, origin_id: from.id, origin_slot: fromSlot, target_id: to.id, target_slot: toSlot, type });
    const input = to.inputs?.[toSlot];
    if (input) input.link = linkId;
    from.outputs?.[fromSlot]?.links?.push(linkId);
  }

  const inputs: SubgraphDefinition['inputs'] = [];
  const convertedWidgets = new Set<string>();
  inner.forEach((node, index) => {
    (node.inputs ?? []).forEach((input, slot) => {
      if (linkedInput.has(`${index}:${slot}`)) return;
      if (input.widget) convertedWidgets.add(`${index}:${input.widget.name}`);
      const linkId = ++nextLinkId;
      links.push({ id: linkId, origin_id: Number(SUBGRAPH_INPUT_ID), origin_slot: inputs.length, target_id: node.id, target_slot: slot, type: input.type });
      input.link = linkId;
      inputs.push({ name: input.name, type: input.type, linkIds: [linkId] });
    });
  });
  const outputs: SubgraphDefinition['outputs'] = [];
  inner.forEach((node, index) => {
    (node.outputs ?? []).forEach((output, slot) => {
      const key = `${index}:${slot}`;
      if (linkedOutput.has(key) && !external.has(key)) return;
      const linkId = ++nextLinkId;
      links.push({ id: linkId, origin_id: node.id, origin_slot: slot, target_id: Number(SUBGRAPH_OUTPUT_ID), target_slot: outputs.length, type: output.type });
      outputs.push({ name: output.name ?? '', type: output.type, linkIds: [linkId] });
    });
  });

  assignGroupWidgetValues(inner, instance, defs, (index, widget) => {
    const node = inner[index]!;
    const input = (node.inputs ?? []).find((candidate) => candidate.widget?.name === widget);
    return convertedWidgets.has(`${index}:${widget}`) || (input !== undefined && input.link !== null && input.link !== undefined && !inputs.some((entry) => entry.linkIds?.includes(input.link as number)));
  });
  return { id, name, inputs, outputs, nodes: inner, links };
}

/** The instance's `widgets_values` list every inner widget that is not fed by a link, node by node. */
function assignGroupWidgetValues(
  inner: EditorNode[],
  instance: EditorNode,
  defs: NodeDefinitions,
  isLinked: (index: number, widget: string) => boolean,
): void {
  const values = Array.isArray(instance.widgets_values) ? instance.widgets_values : undefined;
  if (!values) return;
  let next = 0;
  inner.forEach((node, index) => {
    const layout = defs.layout(node.type);
    if (!layout) return;
    const own = Array.isArray(node.widgets_values) ? [...node.widgets_values] : [];
    let stored = 0;
    let previousLinked = false;
    for (const widget of layout.widgets) {
      if (!widget.stored) continue;
      const position = stored++;
      const linked: boolean = widget.sent ? isLinked(index, widget.name) : previousLinked;
      if (widget.sent) previousLinked = linked;
      if (linked || next >= values.length) continue;
      own[position] = values[next++];
    }
    node.widgets_values = own;
  });
}
