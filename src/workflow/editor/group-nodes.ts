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
import { buildLayout, isWidgetType, type NodeDefinitions, type NodeLayout } from './node-defs.ts';
import { normalizeLink, SUBGRAPH_INPUT_ID, SUBGRAPH_OUTPUT_ID, type Link } from './scope.ts';
import { isValidConnection } from './types-match.ts';
import type { EditorLinkObject, EditorNode, EditorSlotInput, EditorSlotOutput, EditorWorkflow, LegacyGroupNodeDefinition, SubgraphDefinition } from './types.ts';
import { storedPositions } from './units.ts';

const GROUP_NODE_PREFIXES = ['workflow>', 'workflow/'];
const FRONTEND_TYPES = new Set(['PrimitiveNode', 'Reroute', 'Note', 'MarkdownNote']);

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

type Spec = [unknown, Record<string, unknown>];
type GroupLink = [number, number, number, number, ...unknown[]];

/** The node class the editor builds for a group, and how its parts map to the inner nodes. */
interface GroupClass {
  /** The group node's inputs, in definition order: name → spec. */
  inputs: Map<string, Spec>;
  outputs: unknown[];
  /** Per inner node: inner widget name → group widget name (null: the widget was converted to an input). */
  widgetMap: Map<number, Map<string, string | null>>;
  /** Per inner node: inner input name → index among the group's counted inputs. */
  inputMap: Map<number, Map<string, number>>;
  /** Per group output: the inner node and output it shows. */
  outputMap: { node: number; slot: number }[];
}

export function migrateGroupNodes(workflow: EditorWorkflow, defs: NodeDefinitions, loadedLastNodeId = 0): MigratedGroupNodes {
  const groupDefs = isObject(workflow.extra) && isObject(workflow.extra.groupNodes) ? (workflow.extra.groupNodes as Record<string, LegacyGroupNodeDefinition>) : {};
  const nodes = workflow.nodes;
  const links = Array.isArray(workflow.links) ? workflow.links : [];
  const classes = new Map<string, GroupClass | undefined>();
  const classOf = (name: string): GroupClass | undefined => {
    if (!classes.has(name)) {
      const groupDef = groupDefs[name];
      classes.set(name, isObject(groupDef) && Array.isArray(groupDef.nodes) && allKnown(groupDef, defs, groupDefs) ? buildGroupClass(name, groupDef, defs) : undefined);
    }
    return classes.get(name);
  };
  const isGroup = (node: EditorNode): boolean => {
    const name = groupNodeName(node.type);
    return name !== undefined && Object.hasOwn(groupDefs, name) && classOf(name) !== undefined;
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

/** The editor registers a group only when every inner node type is known to it. */
function allKnown(groupDef: LegacyGroupNodeDefinition, defs: NodeDefinitions, groupDefs: Record<string, unknown>): boolean {
  return groupDef.nodes.every((node) => typeof node.type === 'string' && (defs.has(node.type) || FRONTEND_TYPES.has(node.type) || Object.hasOwn(groupDefs, groupNodeName(node.type) ?? '\u0000')));
}

function groupLinks(groupDef: LegacyGroupNodeDefinition): GroupLink[] {
  return (groupDef.links ?? []).filter(
    (link): link is GroupLink => Array.isArray(link) && link.slice(0, 4).every((part) => part !== null && part !== undefined),
  ).map((link) => [Number(link[0]), Number(link[1]), Number(link[2]), Number(link[3]), ...link.slice(4)] as GroupLink);
}

/** The editor's GroupNodeConfig: the group's inputs, widgets and outputs from its inner nodes. */
function buildGroupClass(name: string, groupDef: LegacyGroupNodeDefinition, defs: NodeDefinitions): GroupClass {
  const links = groupLinks(groupDef);
  const linksFrom = new Map<number, Map<number, GroupLink[]>>();
  const linksTo = new Map<number, Map<number, GroupLink>>();
  for (const link of links) {
    const [from, fromSlot, to, toSlot] = link;
    if (!linksFrom.has(from)) linksFrom.set(from, new Map());
    linksFrom.get(from)!.set(fromSlot, [...(linksFrom.get(from)!.get(fromSlot) ?? []), link]);
    if (!linksTo.has(to)) linksTo.set(to, new Map());
    linksTo.get(to)!.set(toSlot, link);
  }
  const externalFrom = new Map<number, Map<number, unknown>>();
  for (const ext of Array.isArray(groupDef.external) ? groupDef.external : []) {
    if (!Array.isArray(ext) || ext[2] === null || ext[2] === undefined) continue;
    const index = Number(ext[0]);
    if (!externalFrom.has(index)) externalFrom.set(index, new Map());
    externalFrom.get(index)!.set(Number(ext[1]), ext[2]);
  }
  const config = isObject(groupDef.config) ? groupDef.config : {};
  const customConfig = (index: number, kind: 'input' | 'output', key: string | number): Record<string, unknown> | undefined => {
    const node = config[index];
    const part = isObject(node) ? node[kind] : undefined;
    const entry = isObject(part) ? part[key] : undefined;
    return isObject(entry) ? entry : undefined;
  };

  const groupClass: GroupClass = { inputs: new Map(), outputs: [], widgetMap: new Map(), inputMap: new Map(), outputMap: [] };
  const seenInputs = new Map<string, number>();
  const primitiveConfigs = new Map<number, Spec>();
  let inputCount = 0;
  const deferred: (() => void)[] = [];

  const inputConfig = (node: GroupNodeData, index: number, inputName: string, spec: Spec, extra?: Record<string, unknown>) => {
    const custom = customConfig(index, 'input', inputName);
    const label = (node.inputs ?? []).find((input) => isObject(input) && input.name === inputName)?.label;
    let groupName = typeof custom?.name === 'string' ? custom.name : typeof label === 'string' ? label : inputName;
    let key = groupName;
    let prefix = '';
    if ((node.type === 'PrimitiveNode' && node.title) || seenInputs.has(groupName)) {
      prefix = `${node.title ?? node.type} `;
      key = groupName = `${prefix}${inputName}`;
      if (seenInputs.has(groupName)) groupName = `${prefix}${seenInputs.get(groupName)} ${inputName}`;
    }
    seenInputs.set(key, (seenInputs.get(key) ?? 1) + 1);
    let options = extra;
    if (inputName === 'seed' || inputName === 'noise_seed') options = { ...(options ?? {}), control_after_generate: `${prefix}control_after_generate` };
    const result: Spec = options ? [spec[0], { ...spec[1], ...options }] : spec;
    return { name: groupName, spec: result, custom };
  };

  const primitiveConnection = (link: GroupLink, targetSpec: Spec | undefined): void => {
    const source = link[0];
    if (groupDef.nodes[source]?.type !== 'PrimitiveNode') return;
    const primitive = primitiveConfigs.get(source);
    if (!primitive) return;
    primitive[1] = targetSpec ? { ...targetSpec[1] } : {};
    if (groupClass.widgetMap.get(source)?.get('value')) primitive[1].control_after_generate = true;
  };

  (groupDef.nodes as GroupNodeData[]).forEach((node, index) => {
    const def = innerDefinition(node, index, groupDef, linksFrom, linksTo, externalFrom, defs, primitiveConfigs);
    if (!def) return;
    const specs = def.inputs;
    const names = [...specs.keys()];
    if (names.length > 0) {
      const widgetMap = new Map<string, string | null>();
      groupClass.widgetMap.set(index, widgetMap);
      const converted = new Map<number, string>();
      const slotNames: string[] = [];
      for (const inputName of names) {
        const spec = specs.get(inputName)!;
        if (typeof spec[0] === 'string' && isWidgetType(spec[0])) {
          const convertedIndex = (node.inputs ?? []).findIndex((input) => isObject(input) && input.name === inputName && input.widget?.name === inputName);
          if (convertedIndex > -1) {
            converted.set(convertedIndex, inputName);
            widgetMap.set(inputName, null);
          } else {
            const { name: groupName, spec: groupSpec } = inputConfig(node, index, inputName, spec);
            groupClass.inputs.set(groupName, groupSpec);
            widgetMap.set(inputName, groupName);
          }
        } else {
          slotNames.push(inputName);
        }
      }
      const to = linksTo.get(index) ?? new Map<number, GroupLink>();
      const inputMap = new Map<string, number>();
      groupClass.inputMap.set(index, inputMap);
      // The editor matches links to these names by position in this list, not by the input they end at.
      slotNames.forEach((inputName, position) => {
        const link = to.get(position);
        if (link) {
          primitiveConnection(link, specs.get(inputName));
          return;
        }
        const { name: groupName, spec, custom } = inputConfig(node, index, inputName, specs.get(inputName)!);
        if (custom?.visible === false) return;
        groupClass.inputs.set(groupName, spec);
        inputMap.set(inputName, inputCount++);
      });
      deferred.push(() => {
        // Sorted as text, as the editor sorts them.
        const convertedNames = [...converted.keys()].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)).map((key) => converted.get(key)!);
        convertedNames.forEach((inputName, position) => {
          const link = to.get(slotNames.length + position);
          if (link) {
            primitiveConnection(link, specs.get(inputName));
            return;
          }
          const { name: groupName, spec } = inputConfig(node, index, inputName, specs.get(inputName)!, { defaultInput: true });
          groupClass.inputs.set(groupName, spec);
          widgetMap.set(inputName, groupName);
          inputMap.set(inputName, inputCount++);
        });
      });
    }
    def.outputs.forEach((type, slot) => {
      const linked = linksFrom.get(index)?.get(slot) !== undefined && externalFrom.get(index)?.get(slot) === undefined;
      const visible = customConfig(index, 'output', slot)?.visible ?? !linked;
      if (!visible) return;
      groupClass.outputMap.push({ node: index, slot });
      groupClass.outputs.push(type);
    });
  });
  for (const run of deferred) run();
  return groupClass;
}

/** An inner node of a group definition (its id is not used). */
type GroupNodeData = EditorNode;

/** An inner node's inputs and outputs as the editor sees them while building the group class. */
function innerDefinition(
  node: GroupNodeData,
  index: number,
  groupDef: LegacyGroupNodeDefinition,
  linksFrom: Map<number, Map<number, GroupLink[]>>,
  linksTo: Map<number, Map<number, GroupLink>>,
  externalFrom: Map<number, Map<number, unknown>>,
  defs: NodeDefinitions,
  primitiveConfigs: Map<number, Spec>,
): { inputs: Map<string, Spec>; outputs: unknown[] } | undefined {
  const entry = typeof node.type === 'string' ? defs.entry(node.type) : undefined;
  if (entry) {
    const input = isObject(entry.input) ? entry.input : {};
    const inputs = new Map<string, Spec>();
    for (const section of ['required', 'optional']) {
      const specs = input[section];
      if (!isObject(specs)) continue;
      for (const [name, spec] of Object.entries(specs)) inputs.set(name, asSpec(spec));
    }
    return { inputs, outputs: Array.isArray(entry.output) ? entry.output : [] };
  }
  const from = linksFrom.get(index);
  if (node.type === 'PrimitiveNode') {
    if (!from) return undefined;
    let type = from.get(0)?.[0]?.[5] ?? null;
    if (type === 'COMBO') {
      const widget = (node.outputs?.[0] as EditorSlotOutput | undefined)?.widget?.name;
      const target = from.get(0)?.[0]?.[2];
      const targetType = target === undefined ? undefined : groupDef.nodes[target]?.type;
      const targetEntry = typeof targetType === 'string' ? defs.entry(targetType) : undefined;
      const targetInputs = targetEntry && isObject(targetEntry.input) ? targetEntry.input : {};
      const spec = widget === undefined ? undefined : ((isObject(targetInputs.required) ? targetInputs.required[widget] : undefined) ?? (isObject(targetInputs.optional) ? targetInputs.optional[widget] : undefined));
      const head = Array.isArray(spec) ? spec[0] : undefined;
      type = typeof head === 'string' || typeof head === 'number' ? head : null;
    }
    const spec: Spec = [type, {}];
    primitiveConfigs.set(index, spec);
    return { inputs: new Map([['value', spec]]), outputs: [type] };
  }
  if (node.type === 'Reroute') {
    const to = linksTo.get(index);
    if (to && from && !externalFrom.get(index)?.get(0)) return undefined;
    let type: unknown = '*';
    if (from) {
      for (const link of from.get(0) ?? []) {
        const input = (groupDef.nodes as GroupNodeData[])[link[2]]?.inputs?.[link[3]];
        if (isObject(input) && input.type && type === '*') type = input.type;
      }
    } else if (to) {
      const link = to.get(0);
      const output = link ? (groupDef.nodes as GroupNodeData[])[link[0]]?.outputs?.[link[1]] : undefined;
      if (isObject(output) && 'type' in output) type = String(output.type ?? '*');
    }
    const name = String(type);
    return { inputs: new Map([[name, [type, { forceInput: true }]]]), outputs: [type] };
  }
  return undefined;
}

function asSpec(raw: unknown): Spec {
  if (!Array.isArray(raw)) return [raw, {}];
  const [head, options] = raw as [unknown, unknown];
  return [head, isObject(options) ? options : {}];
}

/** The group class as a node class entry, so its widgets are laid out like any node's. */
function groupLayout(name: string, groupClass: GroupClass): NodeLayout {
  const required: Record<string, unknown> = {};
  for (const [inputName, spec] of groupClass.inputs) required[inputName] = spec;
  return buildLayout(`workflow>${name}`, { input: { required }, output: groupClass.outputs });
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
