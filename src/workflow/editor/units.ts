/**
 * The flattened graph the conversion walks: one unit per node, subgraph instances expanded into
 * their inner nodes with `outer:inner` ids, each with the sockets and widget values the editor
 * would give it after loading the workflow.
 */
import { isObject } from './detect.ts';
import type { NodeDefinitions, NodeLayout, WidgetSpec } from './node-defs.ts';
import type { Promotions } from './promotion.ts';
import type { GraphScope } from './scope.ts';
import type { EditorNode, EditorSlotInput } from './types.ts';

export const FRONTEND_ONLY_TYPES = new Set(['PrimitiveNode', 'Reroute', 'Note', 'MarkdownNote']);
export const MODE_NEVER = 2;
export const MODE_BYPASS = 4;

export interface Socket {
  name: string;
  type: unknown;
  link: number | null;
  /** The widget this input feeds (a widget input), if any. */
  widget?: string;
}

export type UnitKind = 'class' | 'subgraph' | 'frontend' | 'unknown';

/** Where a widget's value is stored in the editor workflow: `node.widgets_values[key]`. */
export interface WidgetSlot {
  node: EditorNode;
  key: number | string;
}

export interface Unit {
  id: string;
  node: EditorNode;
  scope: GraphScope;
  /** Ids of the subgraph instances that contain this node, outermost first. */
  path: string[];
  /** The subgraph instance that contains this node. */
  host?: Unit;
  kind: UnitKind;
  layout?: NodeLayout;
  mode: number;
  inputs: Socket[];
  outputTypes: unknown[];
  /** Widget values by widget name (class nodes), or promoted widget values by input name (subgraph instances). */
  widgetValues: Map<string, unknown>;
  /** Where each of those values is stored, when it is stored rather than a default. */
  widgetSlots: Map<string, WidgetSlot>;
}

export function unitKind(node: EditorNode, defs: NodeDefinitions, subgraphs: ReadonlyMap<string, unknown>): UnitKind {
  if (subgraphs.has(node.type)) return 'subgraph';
  if (FRONTEND_ONLY_TYPES.has(node.type)) return 'frontend';
  return defs.has(node.type) ? 'class' : 'unknown';
}

export function makeUnit(
  node: EditorNode,
  scope: GraphScope,
  path: string[],
  host: Unit | undefined,
  kind: UnitKind,
  defs: NodeDefinitions,
  promotions: Promotions,
): Unit {
  const id = [...path, String(node.id)].join(':');
  const mode = typeof node.mode === 'number' ? node.mode : 0;
  const saved = Array.isArray(node.inputs) ? node.inputs.filter(isSlot) : [];
  const layout = kind === 'class' ? defs.layout(node.type) : undefined;
  const outputs = Array.isArray(node.outputs) ? node.outputs : [];
  if (kind === 'subgraph') return { id, node, scope, path, host, kind, mode, outputTypes: outputs.map((output) => output?.type), ...instanceSockets(node, promotions) };
  if (!layout) {
    return {
      id, node, scope, path, host, kind, mode,
      inputs: saved.map((input) => ({ name: input.name, type: input.type, link: linkOf(input), ...(input.widget ? { widget: input.widget.name } : {}) })),
      outputTypes: outputs.map((output) => output?.type),
      widgetValues: new Map(),
      widgetSlots: new Map(),
    };
  }
  const byName = new Map(saved.map((input) => [input.name, input]));
  const defined = new Set(layout.inputs.map((input) => input.name));
  const inputs: Socket[] = layout.inputs.map((input) => ({
    name: input.name,
    type: input.type,
    link: linkOf(byName.get(input.name)),
    ...(input.widget ? { widget: input.widget } : {}),
  }));
  for (const input of saved) {
    if (!defined.has(input.name)) inputs.push({ name: input.name, type: input.type, link: linkOf(input), ...(input.widget ? { widget: input.widget.name } : {}) });
  }
    // Copies: primitives write into a unit's values, and one definition can have many instances.
  const values = promotions.classValues(node);
  return { id, node, scope, path, host, kind, layout, mode, inputs, outputTypes: layout.outputs, widgetValues: new Map(values.widgetValues), widgetSlots: new Map(values.widgetSlots) };
}

/** A subgraph instance: its definition's inputs, and the values of the widgets it promotes. */
function instanceSockets(node: EditorNode, promotions: Promotions): Pick<Unit, 'inputs' | 'widgetValues' | 'widgetSlots'> {
  const widgetValues = new Map<string, unknown>();
  const widgetSlots = new Map<string, WidgetSlot>();
  const inputs = promotions.hostInputs(node).map((input): Socket => {
    if (input.promoted) {
      const promoted = promotions.value(node, input.name);
      if (promoted) {
        widgetValues.set(input.name, promoted.value);
        if (promoted.slot) widgetSlots.set(input.name, promoted.slot);
      }
    }
    return { name: input.name, type: input.type, link: input.link, ...(input.promoted ? { widget: input.name } : {}) };
  });
  return { inputs, widgetValues, widgetSlots };
}

function isSlot(value: unknown): value is EditorSlotInput {
  return isObject(value) && typeof value.name === 'string';
}

function linkOf(input: EditorSlotInput | undefined): number | null {
  return typeof input?.link === 'number' ? input.link : null;
}

/** Assigns `widgets_values` to the widgets that store a value, in order, as the editor does on load. */
export type WidgetValues = Pick<Unit, 'widgetValues' | 'widgetSlots'>;

export function classWidgetValues(node: EditorNode, layout: NodeLayout): WidgetValues {
  // Keyed by name: when an editor widget shares the name of a sent one, the sent one keeps the name.
  const values = new Map<string, unknown>();
  const slots = new Map<string, WidgetSlot>();
  const owns = (widget: WidgetSpec) => widget.sent || !layout.widgets.some((other) => other.sent && other.name === widget.name);
  for (const widget of layout.widgets) if (owns(widget)) values.set(widget.name, widget.defaultValue);
  const stored = node.widgets_values;
  if (isObject(stored)) {
    for (const widget of layout.widgets) {
      if (!owns(widget) || !Object.hasOwn(stored, widget.name)) continue;
      values.set(widget.name, stored[widget.name]);
      slots.set(widget.name, { node, key: widget.name });
    }
    return { widgetValues: values, widgetSlots: slots };
  }
  if (!Array.isArray(stored)) return { widgetValues: values, widgetSlots: slots };
  const positions = storedPositions(stored, layout);
  let index = 0;
  for (const widget of layout.widgets) {
    if (!widget.stored) continue;
    if (index >= positions.length) break;
    const position = positions[index++] as number;
    if (!owns(widget)) continue;
    values.set(widget.name, stored[position]);
    slots.set(widget.name, { node, key: position });
  }
  return { widgetValues: values, widgetSlots: slots };
}

/**
 * The positions in `widgets_values` that hold widget values. Editors before 1.16 stored a value for
 * inputs marked forceInput; those are skipped when the count says so.
 */
export function storedPositions(values: unknown[], layout: NodeLayout): number[] {
  const all = values.map((_, index) => index);
  if (!layout.forceInputSlots.includes(true) || layout.forceInputSlots.length !== values.length) return all;
  return all.filter((index) => !layout.forceInputSlots[index]);
}
