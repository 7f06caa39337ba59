/**
 * The node class the editor builds for a legacy group node from its inner nodes (its
 * GroupNodeConfig): which inner inputs become widgets of the group and which become group inputs,
 * what they are called, which outputs show, and how each part maps back to the inner nodes.
 *
 * Only inputs whose definition names their type as text (`["INT", {…}]`) count as widgets;
 * list-style combos (`[["a", "b"], {…}]`) become group inputs. Links are matched to group inputs by
 * position in the editor's list of non-widget inputs, not by the input they end at.
 */
import { isObject } from './detect.ts';
import { buildLayout, isWidgetType, type NodeDefinitions, type NodeLayout } from './node-defs.ts';
import type { EditorNode, EditorSlotOutput, LegacyGroupNodeDefinition } from './types.ts';

export type Spec = [unknown, Record<string, unknown>];
export type GroupLink = [number, number, number, number, ...unknown[]];

/** The node class the editor builds for a group, and how its parts map to the inner nodes. */
export interface GroupClass {
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

export function groupLinks(groupDef: LegacyGroupNodeDefinition): GroupLink[] {
  return (groupDef.links ?? []).filter(
    (link): link is GroupLink => Array.isArray(link) && link.slice(0, 4).every((part) => part !== null && part !== undefined),
  ).map((link) => [Number(link[0]), Number(link[1]), Number(link[2]), Number(link[3]), ...link.slice(4)] as GroupLink);
}

/** The editor's GroupNodeConfig: the group's inputs, widgets and outputs from its inner nodes. */
export function buildGroupClass(groupDef: LegacyGroupNodeDefinition, defs: NodeDefinitions): GroupClass {
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
export type GroupNodeData = EditorNode;

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
export function groupLayout(name: string, groupClass: GroupClass): NodeLayout {
  const required: Record<string, unknown> = {};
  for (const [inputName, spec] of groupClass.inputs) required[inputName] = spec;
  return buildLayout(`workflow>${name}`, { input: { required }, output: groupClass.outputs });
}
