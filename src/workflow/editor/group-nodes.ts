/**
 * Legacy group nodes (`extra.groupNodes`, node types `workflow>NAME` or `workflow/NAME`), turned into
 * subgraphs the way the current editor migrates them on load. The editor first builds a node class
 * for the group from its inner nodes (which inputs become widgets of the group node, which become
 * sockets, how they are named), loads the instance's `widgets_values` into that class's widgets,
 * then unpacks the instance: it pastes the inner nodes (taking the next free node ids), copies the
 * group node's widget values into them by name, reconnects the group node's links, and packs the
 * inner nodes into a subgraph whose instance takes the id after them.
 *
 * The editor counts as widgets of the group only inputs whose definition names their type as text
 * (`["INT", {…}]`); list-style combos (`[["a", "b"], {…}]`), which most node classes still send,
 * become group inputs instead. The stored values then land on other widgets than the ones that
 * saved them, exactly as in the editor.
 */
import { isObject } from './detect.ts';
import { buildGroupClass, groupLayout, groupLinks, type GroupClass, type GroupNodeData } from './group-class.ts';
import type { NodeDefinitions, NodeLayout } from './node-defs.ts';
import { normalizeLink, SUBGRAPH_INPUT_ID, SUBGRAPH_OUTPUT_ID, type Link } from './scope.ts';
import { isValidConnection } from './types-match.ts';
import type { EditorLinkObject, EditorNode, EditorSlotInput, EditorSlotOutput, EditorWorkflow, LegacyGroupNodeDefinition, SubgraphDefinition } from './types.ts';
import { storedPositions } from './units.ts';

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
  const groupDefs = isObject(workflow.extra) && isObject(workflow.extra.groupNodes) ? (workflow.extra.groupNodes as Record<string, LegacyGroupNodeDefinition>) : {};
  const nodes = workflow.nodes;
  const links = Array.isArray(workflow.links) ? workflow.links : [];
  const classes = new Map<string, GroupClass>();
  const classOf = (name: string): GroupClass => {
    if (!classes.has(name)) classes.set(name, buildGroupClass(groupDefs[name]!, defs));
    return classes.get(name)!;
  };
  // The editor leaves a group whose inner classes it lacks unconverted; unpacking it anyway lets the
  // missing classes be reported by name, with the packages the inner nodes name.
  const isGroup = (node: EditorNode): boolean => {
    const name = groupNodeName(node.type);
    const groupDef = name === undefined ? undefined : groupDefs[name];
    return name !== undefined && Object.hasOwn(groupDefs, name) && isObject(groupDef) && Array.isArray(groupDef.nodes);
  };
  if (!nodes.some(isGroup)) return { nodes, links, definitions: [], expansions: [] };

  const rootLinks = new Map<number, Link>();
  for (const raw of links) {
    const link = normalizeLink(raw);
    if (link) rootLinks.set(link.id, link);
  }
  const byId = new Map(nodes.map((node) => [String(node.id), node]));
  let lastId = Math.max(loadedLastNodeId, lastNodeId(workflow));
  const definitions: SubgraphDefinition[] = [];
  const expansions: GroupNodeExpansion[] = [];
  const replaced = new Map<EditorNode, EditorNode>();

  for (const node of nodes) {
    if (!isGroup(node)) continue;
    const name = groupNodeName(node.type)!;
    const groupClass = classOf(name)!;
    const groupDef = groupDefs[name]!;
    const innerIds = groupDef.nodes.map(() => ++lastId);
    const hostId = ++lastId;
    const unpacked = unpack(node, groupDef, groupClass, innerIds, hostId, defs, rootLinks, byId);
    const definition: SubgraphDefinition = { id: `${node.type}#${hostId}`, name, inputs: unpacked.inputs, outputs: unpacked.outputs, nodes: unpacked.nodes, links: unpacked.links };
    definitions.push(definition);
    const host: EditorNode = { id: hostId, type: definition.id, mode: 0, inputs: unpacked.hostInputs, outputs: unpacked.hostOutputs, properties: {} };
    replaced.set(node, host);
    byId.set(String(hostId), host);
    for (const link of unpacked.retargeted) rootLinks.set(link.id, link);
    for (const id of unpacked.dropped) rootLinks.delete(id);
    expansions.push({ originalId: String(node.id), hostId: String(hostId), name });
  }
  return {
    nodes: nodes.map((node) => replaced.get(node) ?? node),
    links: [...rootLinks.values()].map((link) => [link.id, link.originId, link.originSlot, link.targetId, link.targetSlot, link.type]),
    definitions,
    expansions,
  };
}

function lastNodeId(workflow: EditorWorkflow): number {
  const recorded = [workflow.last_node_id, workflow.state?.lastNodeId].filter((value): value is number => typeof value === 'number');
  const ids = workflow.nodes.map((node) => Number(node.id)).filter((id) => Number.isFinite(id));
  return Math.max(0, ...recorded, ...ids);
}

interface Unpacked {
  nodes: EditorNode[];
  links: EditorLinkObject[];
  inputs: NonNullable<SubgraphDefinition['inputs']>;
  outputs: NonNullable<SubgraphDefinition['outputs']>;
  hostInputs: EditorSlotInput[];
  hostOutputs: EditorSlotOutput[];
  /** Root links that now end at, or start from, the subgraph instance. */
  retargeted: Link[];
  /** Root links of the group node that the editor did not reconnect. */
  dropped: number[];
}

function unpack(
  instance: EditorNode,
  groupDef: LegacyGroupNodeDefinition,
  groupClass: GroupClass,
  innerIds: number[],
  hostId: number,
  defs: NodeDefinitions,
  rootLinks: Map<number, Link>,
  byId: Map<string, EditorNode>,
): Unpacked {
  const name = groupNodeName(instance.type)!;
  const layout = groupLayout(name, groupClass);
  const groupValues = positionalValues(instance, layout);
  const inner = (groupDef.nodes as GroupNodeData[]).map((raw, index) => pasted(raw, innerIds[index]!));
  const innerLayouts = inner.map((node) => defs.layout(node.type));
  const links: EditorLinkObject[] = [];
  let nextLinkId = 0;

  // Internal links, made by connecting output slot to input slot, as pasting does.
  for (const [from, fromSlot, to, toSlot] of groupLinks(groupDef)) {
    const source = inner[from];
    const target = inner[to];
    if (!source || !target) continue;
    const input = inputAt(target, innerLayouts[to], toSlot);
    const outputType = outputTypeOf(source, innerLayouts[from], fromSlot);
    if (!input || !isValidConnection(outputType, input.type)) continue;
    const id = ++nextLinkId;
    disconnectInput(links, input.saved);
    input.saved.link = id;
    links.push({ id, origin_id: source.id, origin_slot: fromSlot, target_id: target.id, target_slot: toSlot, type: outputType });
  }

  // The group node's widget values go to the inner widgets they were built from.
  inner.forEach((node, index) => {
    const map = groupClass.widgetMap.get(index);
    if (!map) return;
    const innerLayout = innerLayouts[index];
    for (const [innerWidget, groupWidget] of map) {
      if (groupWidget === null) continue;
      const at = layout.widgets.findIndex((widget) => widget.name === groupWidget);
      if (at === -1) continue;
      if (node.type === 'PrimitiveNode') {
        const values = Array.isArray(node.widgets_values) ? node.widgets_values : [];
        node.widgets_values = values.map((value, j) => (at + j < groupValues.length ? groupValues[at + j] : value));
      } else if (innerLayout && innerLayout.widgets.length > 0) {
        setWidgetValue(node, innerLayout, innerWidget, groupValues[at]);
      }
    }
  });

  // Inputs the group node had linked, reconnected by the editor's index into the group node's inputs.
  const hostInputs: EditorSlotInput[] = [];
  const inputs: NonNullable<SubgraphDefinition['inputs']> = [];
  const retargeted: Link[] = [];
  const used = new Set<number>();
  const groupInputs = instanceInputs(instance, layout);
  for (const [index, map] of [...groupClass.inputMap].sort(([a], [b]) => a - b)) {
    const node = inner[index]!;
    for (const [inputName, groupSlot] of map) {
      const linkId = groupInputs[groupSlot]?.link;
      const link = typeof linkId === 'number' ? rootLinks.get(linkId) : undefined;
      if (!link) continue;
      const origin = byId.get(link.originId);
      const input = inputNamed(node, innerLayouts[index], inputName);
      if (!origin || !input || !isValidConnection(rootOutputType(origin, link.originSlot, defs), input.type)) continue;
      disconnectInput(links, input.saved);
      const slot = inputs.length;
      const id = ++nextLinkId;
      input.saved.link = id;
      links.push({ id, origin_id: Number(SUBGRAPH_INPUT_ID), origin_slot: slot, target_id: node.id, target_slot: 0, type: input.type });
      inputs.push({ name: `input ${slot}`, type: input.type, linkIds: [id] });
      used.add(link.id);
      hostInputs.push({ name: `input ${slot}`, type: input.type, link: link.id });
      retargeted.push({ ...link, targetId: String(hostId), targetSlot: slot });
    }
  }

  // Links from the group node's outputs now leave the inner node that shows each output.
  const hostOutputs: EditorSlotOutput[] = [];
  const outputs: NonNullable<SubgraphDefinition['outputs']> = [];
  const savedOutputs = Array.isArray(instance.outputs) ? instance.outputs : [];
  groupClass.outputMap.forEach(({ node: index, slot }, groupOutput) => {
    for (const linkId of savedOutputs[groupOutput]?.links ?? []) {
      const link = rootLinks.get(linkId);
      const source = inner[index]!;
      const target = link && byId.get(link.targetId);
      const targetInput = target && rootInputType(target, linkId, link.targetSlot, defs);
      const outputType = outputTypeOf(source, innerLayouts[index], slot);
      if (!link || !target || targetInput === undefined || !isValidConnection(outputType, targetInput)) continue;
      const out = outputs.length;
      const id = ++nextLinkId;
      links.push({ id, origin_id: source.id, origin_slot: slot, target_id: Number(SUBGRAPH_OUTPUT_ID), target_slot: out, type: outputType });
      outputs.push({ name: `output ${out}`, type: outputType, linkIds: [id] });
      hostOutputs.push({ name: `output ${out}`, type: outputType, links: [linkId] });
      used.add(linkId);
      retargeted.push({ ...link, originId: String(hostId), originSlot: out });
    }
  });

  const dropped = [...rootLinks.values()].filter((link) => (link.targetId === String(instance.id) || link.originId === String(instance.id)) && !used.has(link.id)).map((link) => link.id);
  return { nodes: inner, links, inputs, outputs, hostInputs, hostOutputs, retargeted, dropped };
}

/** An inner node as pasted: a fresh id, its own values, no links yet. */
function pasted(raw: GroupNodeData, id: number): EditorNode {
  const { index: _index, ...rest } = raw;
  const inputs = (Array.isArray(raw.inputs) ? raw.inputs.filter(isObject) : []).map((input): EditorSlotInput => ({ ...input, link: null }));
  const outputs = (Array.isArray(raw.outputs) ? raw.outputs.filter(isObject) : []).map((output): EditorSlotOutput => ({ ...output, links: [] }));
  const values = Array.isArray(raw.widgets_values) ? [...raw.widgets_values] : raw.widgets_values;
  return { ...rest, id, type: raw.type, inputs, outputs, ...(values !== undefined ? { widgets_values: values } : {}) };
}

interface InputRef {
  saved: EditorSlotInput;
  type: unknown;
}

/** The inputs of a node as the editor orders them: its class's (sockets, then widget inputs), then any others saved. */
function orderedInputs(node: EditorNode, layout: NodeLayout | undefined): { name: string; type: unknown }[] {
  const saved = (node.inputs ?? []).filter(isObject) as EditorSlotInput[];
  if (!layout) return saved.map((input) => ({ name: input.name, type: input.type }));
  const defined = new Set(layout.inputs.map((input) => input.name));
  return [...layout.inputs.map((input) => ({ name: input.name, type: input.type as unknown })), ...saved.filter((input) => !defined.has(input.name)).map((input) => ({ name: input.name, type: input.type }))];
}

function inputAt(node: EditorNode, layout: NodeLayout | undefined, slot: number): InputRef | undefined {
  const input = orderedInputs(node, layout)[slot];
  return input && inputNamed(node, layout, input.name);
}

function inputNamed(node: EditorNode, layout: NodeLayout | undefined, name: string): InputRef | undefined {
  const input = orderedInputs(node, layout).find((candidate) => candidate.name === name);
  if (!input) return undefined;
  const saved = node.inputs ?? (node.inputs = []);
  let entry = saved.find((candidate) => isObject(candidate) && candidate.name === name);
  if (!entry) {
    const widget = layout?.inputs.find((candidate) => candidate.name === name)?.widget;
    entry = { name, type: input.type, link: null, ...(widget ? { widget: { name: widget } } : {}) };
    saved.push(entry);
  }
  return { saved: entry, type: input.type };
}

function outputTypeOf(node: EditorNode, layout: NodeLayout | undefined, slot: number): unknown {
  return layout ? layout.outputs[slot] : node.outputs?.[slot]?.type;
}

/** An input can take one link: connecting replaces the link it had. */
function disconnectInput(links: EditorLinkObject[], input: EditorSlotInput): void {
  if (typeof input.link !== 'number') return;
  const at = links.findIndex((link) => link.id === input.link);
  if (at !== -1) links.splice(at, 1);
  input.link = null;
}

function rootOutputType(node: EditorNode, slot: number, defs: NodeDefinitions): unknown {
  return defs.layout(node.type)?.outputs[slot] ?? node.outputs?.[slot]?.type;
}

function rootInputType(node: EditorNode, linkId: number, slot: number, defs: NodeDefinitions): unknown {
  const saved = (node.inputs ?? []).find((input) => isObject(input) && input.link === linkId) ?? node.inputs?.[slot];
  if (!isObject(saved)) return undefined;
  return defs.layout(node.type)?.inputs.find((input) => input.name === saved.name)?.type ?? saved.type;
}

/** The group node's inputs in the editor's order, with the links saved under each name. */
function instanceInputs(instance: EditorNode, layout: NodeLayout): { name: string; link: number | null }[] {
  const saved = (instance.inputs ?? []).filter(isObject) as EditorSlotInput[];
  const byName = new Map(saved.map((input) => [input.name, input]));
  const defined = new Set(layout.inputs.map((input) => input.name));
  const linkOf = (input: EditorSlotInput | undefined) => (typeof input?.link === 'number' ? input.link : null);
  return [
    ...layout.inputs.map((input) => ({ name: input.name, link: linkOf(byName.get(input.name)) })),
    ...saved.filter((input) => !defined.has(input.name)).map((input) => ({ name: input.name, link: linkOf(input) })),
  ];
}

/** The group node's widget values by widget position, loaded from the instance's `widgets_values`. */
function positionalValues(instance: EditorNode, layout: NodeLayout): unknown[] {
  const stored = Array.isArray(instance.widgets_values) ? instance.widgets_values : [];
  const positions = storedPositions(stored, layout);
  let next = 0;
  return layout.widgets.map((widget) => {
    if (!widget.stored || next >= positions.length) return widget.defaultValue;
    return stored[positions[next++]!];
  });
}

/** Writes one widget's value into a node's `widgets_values`, laid out as its class lays them out. */
function setWidgetValue(node: EditorNode, layout: NodeLayout, widget: string, value: unknown): void {
  const stored = Array.isArray(node.widgets_values) ? node.widgets_values : [];
  const positions = storedPositions(stored, layout);
  const target = layout.widgets.filter((spec) => spec.stored).findIndex((spec) => spec.name === widget);
  if (target === -1) return;
  if (target < positions.length) {
    const values = [...stored];
    values[positions[target]!] = value;
    node.widgets_values = values;
    return;
  }
  // Values the file left out are the widgets' defaults.
  const values = layout.widgets.filter((spec) => spec.stored).map((spec, index) => (index < positions.length ? stored[positions[index]!] : spec.defaultValue));
  values[target] = value;
  node.widgets_values = values;
}
