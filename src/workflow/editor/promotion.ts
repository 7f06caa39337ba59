/**
 * Subgraph instances as the editor builds them on load: an instance has the inputs of its
 * definition (in the definition's order, each with the link saved under its name), and an input
 * shows a widget (a promoted widget) when one of its links inside the definition ends at a widget
 * input, or at a promoted widget of a nested instance. Promoted widgets take the instance's
 * `widgets_values` in order; one without a stored value shows the value of the widget it promotes.
 */
import { isObject } from './detect.ts';
import type { NodeDefinitions } from './node-defs.ts';
import type { EditorLinkObject, EditorNode, EditorSlotInput, SubgraphDefinition, SubgraphSlot } from './types.ts';
import { classWidgetValues, FRONTEND_ONLY_TYPES, type WidgetSlot, type WidgetValues } from './units.ts';

export interface PromotedValue {
  value: unknown;
  /** Where the value is stored in the workflow, when it is stored rather than computed. */
  slot?: WidgetSlot;
}

export interface HostInput {
  name: string;
  type: unknown;
  link: number | null;
  /** Shows a promoted widget. */
  promoted: boolean;
}

/** A node input that a link inside a definition ends at. */
export interface LinkTarget {
  node: EditorNode;
  input: EditorSlotInput;
}

/** Lookups that stay valid until a definition changes. */
class Lookups {
  readonly nodes = new WeakMap<SubgraphDefinition, Map<string, EditorNode>>();
  readonly links = new WeakMap<SubgraphDefinition, Map<number, EditorLinkObject>>();
  readonly hostInputs = new WeakMap<EditorNode, HostInput[]>();
}

export class Promotions {
  readonly #subgraphs: Map<string, SubgraphDefinition>;
  readonly #defs: NodeDefinitions;
  readonly #values = new WeakMap<EditorNode, Map<string, PromotedValue>>();
  readonly #classValues = new WeakMap<EditorNode, WidgetValues>();
  #lookups = new Lookups();

  constructor(subgraphs: Map<string, SubgraphDefinition>, defs: NodeDefinitions) {
    this.#subgraphs = subgraphs;
    this.#defs = defs;
  }

  definitionOf(node: EditorNode): SubgraphDefinition | undefined {
    return isObject(node) && typeof node.type === 'string' ? this.#subgraphs.get(node.type) : undefined;
  }

  /** Call after changing a definition's inputs, links or nodes. */
  changed(): void {
    this.#lookups = new Lookups();
  }

  nodeIn(definition: SubgraphDefinition, id: unknown): EditorNode | undefined {
    let nodes = this.#lookups.nodes.get(definition);
    if (!nodes) {
      nodes = new Map();
      for (const node of Array.isArray(definition.nodes) ? definition.nodes : []) if (isObject(node) && !nodes.has(String(node.id))) nodes.set(String(node.id), node);
      this.#lookups.nodes.set(definition, nodes);
    }
    return nodes.get(String(id));
  }

  linkIn(definition: SubgraphDefinition, id: number): EditorLinkObject | undefined {
    let links = this.#lookups.links.get(definition);
    if (!links) {
      links = new Map();
      for (const link of (definition.links as EditorLinkObject[] | undefined) ?? []) if (isObject(link) && !links.has(link.id)) links.set(link.id, link);
      this.#lookups.links.set(definition, links);
    }
    return links.get(id);
  }

  /** The inputs an instance has: its definition's, each with the link saved under the same name. */
  hostInputs(host: EditorNode, open: readonly string[] = []): HostInput[] {
    // Only the outermost answer is kept: one given inside a cycle is partial.
    const cached = open.length === 0 ? this.#lookups.hostInputs.get(host) : undefined;
    if (cached) return cached;
    const inputs = this.#hostInputs(host, open);
    if (open.length === 0) this.#lookups.hostInputs.set(host, inputs);
    return inputs;
  }

  #hostInputs(host: EditorNode, open: readonly string[]): HostInput[] {
    const definition = this.definitionOf(host);
    if (!definition) return [];
    // A definition that contains itself promotes nothing through itself (it cannot be expanded anyway).
    const inner = open.includes(definition.id) ? undefined : [...open, definition.id];
    const saved = new Map((Array.isArray(host.inputs) ? host.inputs : []).filter(isObject).map((input) => [input.name, input]));
    return slots(definition).map((slot, index) => {
      const link = saved.get(slot.name)?.link;
      return { name: slot.name, type: slot.type, link: typeof link === 'number' ? link : null, promoted: inner !== undefined && this.promotedTarget(definition, index, inner) !== undefined };
    });
  }

  /** The node input each link of the definition input `index` ends at, in link order. */
  targets(definition: SubgraphDefinition, index: number): LinkTarget[] {
    const slot = slots(definition)[index];
    const result: LinkTarget[] = [];
    for (const linkId of slot?.linkIds ?? []) {
      const link = this.linkIn(definition, linkId);
      const node = link && this.nodeIn(definition, link.target_id);
      const input = node && (Array.isArray(node.inputs) ? node.inputs : []).find((candidate) => isObject(candidate) && candidate.link === linkId);
      if (node && input) result.push({ node, input });
    }
    return result;
  }

  /** The widget a link target shows: a widget input of a node class, or a promoted widget of a nested instance. */
  widgetAt(target: LinkTarget, open: readonly string[] = []): string | undefined {
    const { node, input } = target;
    if (this.definitionOf(node)) return this.hostInputs(node, open).find((candidate) => candidate.name === input.name)?.promoted ? input.name : undefined;
    return this.classInputWidget(node, input);
  }

  /** The widget a node class input feeds: from the definition when the input is defined, else as saved. */
  classInputWidget(node: EditorNode, input: EditorSlotInput): string | undefined {
    if (FRONTEND_ONLY_TYPES.has(node.type)) return undefined;
    const layout = this.#defs.layout(node.type);
    if (!layout) return undefined;
    const defined = layout.inputs.find((candidate) => candidate.name === input.name);
    if (defined) return defined.widget;
    const name = input.widget?.name;
    return name !== undefined && layout.widgets.some((widget) => widget.name === name) ? name : undefined;
  }

  /** The defined input of a node class that feeds `widget` (every widget that takes a link has one). */
  classInputName(node: EditorNode, widget: string): { name: string; type: string } | undefined {
    const input = this.#defs.layout(node.type)?.inputs.find((candidate) => candidate.widget === widget);
    return input && { name: input.name, type: input.type };
  }

  /** An input's type: from the node class when defined there, else as saved. */
  inputType(node: EditorNode, input: EditorSlotInput): unknown {
    if (this.definitionOf(node)) return this.hostInputs(node).find((candidate) => candidate.name === input.name)?.type ?? input.type;
    return this.#defs.layout(node.type)?.inputs.find((candidate) => candidate.name === input.name)?.type ?? input.type;
  }

  /** The widget a definition input promotes: the first of its link targets that shows one. */
  promotedTarget(definition: SubgraphDefinition, index: number, open: readonly string[] = []): (LinkTarget & { widget: string }) | undefined {
    for (const target of this.targets(definition, index)) {
      const widget = this.widgetAt(target, open);
      if (widget !== undefined) return { ...target, widget };
    }
    return undefined;
  }

  /**
   * What a definition input promotes, naming nested instances by the input they are linked at
   * even when that input shows no widget (the editor's key for legacy promoted widgets).
   */
  promotionSource(definition: SubgraphDefinition, index: number): { nodeId: string; widget: string } | undefined {
    for (const target of this.targets(definition, index)) {
      if (this.definitionOf(target.node)) return { nodeId: String(target.node.id), widget: target.input.name };
      const widget = this.classInputWidget(target.node, target.input);
      if (widget !== undefined) return { nodeId: String(target.node.id), widget };
    }
    return undefined;
  }

  classValues(node: EditorNode): WidgetValues {
    let values = this.#classValues.get(node);
    if (!values) {
      const layout = this.#defs.layout(node.type);
      values = layout ? classWidgetValues(node, layout) : { widgetValues: new Map(), widgetSlots: new Map() };
      this.#classValues.set(node, values);
    }
    return values;
  }

  /** A widget's current value on a node class node or a subgraph instance. */
  widgetValue(node: EditorNode, widget: string, open: readonly string[] = []): PromotedValue | undefined {
    if (this.definitionOf(node)) return this.value(node, widget, open);
    const values = this.classValues(node);
    if (!values.widgetValues.has(widget)) return undefined;
    const slot = values.widgetSlots.get(widget);
    return { value: values.widgetValues.get(widget), ...(slot ? { slot } : {}) };
  }

  /** The values set on an instance's promoted widgets, by input name. */
  stored(host: EditorNode): Map<string, PromotedValue> {
    let values = this.#values.get(host);
    if (!values) {
      values = new Map();
      this.#values.set(host, values);
    }
    return values;
  }

  /** A promoted widget's value: set on the instance, or else the value of the widget it promotes. */
  value(host: EditorNode, name: string, open: readonly string[] = []): PromotedValue | undefined {
    const set = this.#values.get(host)?.get(name);
    if (set) return set;
    const definition = this.definitionOf(host);
    if (!definition || open.includes(definition.id)) return undefined;
    const inner = [...open, definition.id];
    const index = slots(definition).findIndex((slot) => slot.name === name);
    const target = index === -1 ? undefined : this.promotedTarget(definition, index, inner);
    return target && this.widgetValue(target.node, target.widget, inner);
  }

  /** On load, an instance's `widgets_values` go to its promoted widgets in order. */
  configure(host: EditorNode): void {
    const values = this.stored(host);
    const stored = Array.isArray(host.widgets_values) ? host.widgets_values : [];
    const quarantined = quarantinedValues(host);
    let index = 0;
    for (const input of this.hostInputs(host)) {
      if (!input.promoted) continue;
      if (quarantined.has(input.name)) values.set(input.name, { value: quarantined.get(input.name) });
      else if (index < stored.length && stored[index] !== undefined) values.set(input.name, { value: stored[index], slot: { node: host, key: index } });
      index += 1;
    }
  }
}

export function slots(definition: SubgraphDefinition): SubgraphSlot[] {
  return Array.isArray(definition.inputs) ? definition.inputs.filter(isObject) as SubgraphSlot[] : [];
}

/** Values kept for promoted widgets a newer editor could not migrate (`properties.proxyWidgetErrorQuarantine`). */
function quarantinedValues(host: EditorNode): Map<string, unknown> {
  const raw = isObject(host.properties) ? host.properties.proxyWidgetErrorQuarantine : undefined;
  const values = new Map<string, unknown>();
  if (!Array.isArray(raw)) return values;
  for (const entry of [...raw].reverse()) {
    if (!isObject(entry) || !Array.isArray(entry.originalEntry)) continue;
    const [source, name] = entry.originalEntry as unknown[];
    if (source === '-1' && typeof name === 'string' && entry.hostValue !== undefined && entry.hostValue !== null) values.set(name, entry.hostValue);
  }
  return values;
}

