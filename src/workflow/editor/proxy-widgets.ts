/**
 * Legacy promoted widgets (`properties.proxyWidgets` of a subgraph instance: [inner node id,
 * widget name] pairs, valued by the instance's `widgets_values` in the same order), migrated the
 * way the editor migrates them on load:
 *
 * - a widget some instance input already promotes takes the entry's value;
 * - any other widget of an inner node gets a new definition input linked to it (replacing the link
 *   it had) and the instance gives that input the entry's value;
 * - an editor-only primitive node inside is replaced by a new definition input linked to its targets;
 * - entries of the instance itself (`-1`) or of nodes that are gone keep only the value of the
 *   instance input of that name.
 *
 * Definitions are changed in place (this runs on a copy of the workflow), so every instance of a
 * definition sees the inputs added.
 */
import { isObject } from './detect.ts';
import { slots, type HostInput, type Promotions } from './promotion.ts';
import { SUBGRAPH_INPUT_ID } from './scope.ts';
import type { EditorLinkObject, EditorNode, EditorSlotInput, SubgraphDefinition, SubgraphSlot } from './types.ts';

interface Entry {
  index: number;
  sourceId: string;
  widget: string;
  /** Names the inner node of a nested instance that owns the widget (legacy `id: name` prefixes). */
  disambiguator?: string;
  hole: boolean;
  value: unknown;
}

type Plan =
  | { kind: 'linked'; input: string }
  | { kind: 'create' }
  | { kind: 'primitive'; primitive: EditorNode }
  | { kind: 'none' };

const PRIMITIVE = 'PrimitiveNode';
const BYPASS_MARKER = 'proxyBypassedToSubgraphInput';

export function migrateProxyWidgets(host: EditorNode, promotions: Promotions): void {
  const properties = isObject(host.properties) ? host.properties : undefined;
  const definition = promotions.definitionOf(host);
  const tuples = properties ? parseProxyWidgets(properties.proxyWidgets) : [];
  if (!properties || !definition || tuples.length === 0) return;
  const stored = Array.isArray(host.widgets_values) ? host.widgets_values : undefined;
  const entries = tuples.map(([sourceId, name, disambiguator], index) => {
    const value = stored && index < stored.length && Object.hasOwn(stored, index) ? stored[index] : undefined;
    const hole = value === undefined || value === null;
    return { index, hole, value, ...normalize(promotions, host, definition, sourceId, name, disambiguator) };
  });
  const plans = entries.map((entry) => classify(promotions, host, definition, entry, entries));
  const quarantined: Entry[] = [];
  const primitives = new Map<EditorNode, Entry[]>();
  entries.forEach((entry, index) => {
    const plan = plans[index]!;
    if (plan.kind === 'linked' && !setLinked(promotions, host, plan.input, entry)) quarantined.push(entry);
    else if (plan.kind === 'create' && !createInput(promotions, host, definition, entry)) quarantined.push(entry);
    else if (plan.kind === 'primitive') primitives.set(plan.primitive, [...(primitives.get(plan.primitive) ?? []), entry]);
    else if (plan.kind === 'none') quarantined.push(entry);
  });
  for (const [primitive, cohort] of primitives) {
    if (!bypassPrimitive(promotions, host, definition, primitive, cohort)) quarantined.push(...cohort);
  }
  for (const entry of quarantined) {
    if (entry.sourceId !== '-1' || entry.hole) continue;
    const input = promotions.hostInputs(host).find((candidate) => candidate.name === entry.widget);
    if (input?.promoted) setValue(promotions, host, input.name, entry);
  }
  delete properties.proxyWidgets;
}

/** `[id, name]` or `[id, name, id]` string tuples, as a list or as JSON text; anything else voids them all. */
function parseProxyWidgets(raw: unknown): [string, string, string?][] {
  let parsed = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw) as unknown;
    } catch {
      return [];
    }
  }
  if (!Array.isArray(parsed)) return [];
  const valid = parsed.every((entry) => Array.isArray(entry) && (entry.length === 2 || entry.length === 3) && entry.every((part) => typeof part === 'string'));
  return valid ? (parsed as [string, string, string?][]) : [];
}

const LEGACY_PREFIX = /^\s*(\d+)\s*:\s*(.+)$/;

function normalize(promotions: Promotions, host: EditorNode, definition: SubgraphDefinition, sourceId: string, name: string, disambiguator: string | undefined) {
  if (resolvesConcretely(promotions, definition, sourceId, name)) return { sourceId, widget: name, ...(disambiguator ? { disambiguator } : {}) };
  let widget = name;
  let prefix: string | undefined;
  for (let match = LEGACY_PREFIX.exec(widget); match; match = LEGACY_PREFIX.exec(widget)) {
    prefix = match[1]!;
    widget = match[2]!;
  }
  const chosen = prefix ?? disambiguator;
  return { sourceId, widget, ...(chosen ? { disambiguator: chosen } : {}) };
}

/** Follows a promoted widget down nested instances to a widget of a node class. */
function resolvesConcretely(promotions: Promotions, definition: SubgraphDefinition, sourceId: string, name: string): boolean {
  const seen = new Set<string>();
  let current = definition;
  let id = sourceId;
  let widget = name;
  for (;;) {
    const key = `${current.id}\u0000${id}\u0000${widget}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const node = promotions.nodeIn(current, id);
    if (!node) return false;
    const inner = promotions.definitionOf(node);
    if (!inner) return promotions.classValues(node).widgetValues.has(widget);
    const target = inputTarget(promotions, node, widget);
    if (!target) return false;
    current = inner;
    id = target.nodeId;
    widget = target.widget;
  }
}

/** What the definition input of `host` named `name` is linked to (a nested instance's input, or a widget). */
function inputTarget(promotions: Promotions, host: EditorNode, name: string): { nodeId: string; widget: string } | undefined {
  const definition = promotions.definitionOf(host);
  const index = definition ? slots(definition).findIndex((slot) => slot.name === name) : -1;
  return definition && index !== -1 ? promotions.promotionSource(definition, index) : undefined;
}

function classify(promotions: Promotions, host: EditorNode, definition: SubgraphDefinition, entry: Entry, cohort: Entry[]): Plan {
  const inputs = promotions.hostInputs(host);
  const linked = inputs.find((_, index) => {
    const source = promotions.promotionSource(definition, index);
    return source?.nodeId === entry.sourceId && source.widget === entry.widget;
  });
  if (linked) return { kind: 'linked', input: linked.name };
  const source = promotions.nodeIn(definition, entry.sourceId);
  if (!source) return { kind: 'none' };
  if (source.type === PRIMITIVE) {
    const bypassedTo = isObject(source.properties) ? source.properties[BYPASS_MARKER] : undefined;
    if (typeof bypassedTo === 'string' && inputs.some((input) => input.name === bypassedTo)) return { kind: 'linked', input: bypassedTo };
    const duplicated = cohort.filter((other) => other.sourceId === entry.sourceId).length >= 2;
    return primitiveTargets(promotions, definition, source, false).length > 0 || duplicated ? { kind: 'primitive', primitive: source } : { kind: 'none' };
  }
  const widget = sourceWidget(promotions, source, entry);
  if (widget === undefined || entry.widget.startsWith('$$')) return { kind: 'none' };
  return { kind: 'create' };
}

/** The widget an entry names on an inner node: a promoted widget of a nested instance, or a widget of a node class. */
function sourceWidget(promotions: Promotions, source: EditorNode, entry: Entry): { input?: HostInput; name: string } | undefined {
  if (promotions.definitionOf(source)) {
    const input = promotions.hostInputs(source).find((candidate) => {
      const target = inputTarget(promotions, source, candidate.name);
      if (entry.disambiguator) return target?.widget === entry.widget && target.nodeId === entry.disambiguator;
      return candidate.name === entry.widget || target?.widget === entry.widget;
    });
    if (input?.promoted) return { input, name: input.name };
    const own = promotions.hostInputs(source).find((candidate) => candidate.promoted && candidate.name === entry.widget);
    return own ? { input: own, name: own.name } : undefined;
  }
  return promotions.classValues(source).widgetValues.has(entry.widget) ? { name: entry.widget } : undefined;
}

function setLinked(promotions: Promotions, host: EditorNode, name: string, entry: Entry): boolean {
  const matches = promotions.hostInputs(host).filter((input) => input.name === name);
  if (matches.length !== 1 || !matches[0]!.promoted) return false;
  setValue(promotions, host, name, entry);
  return true;
}

function setValue(promotions: Promotions, host: EditorNode, name: string, entry: Entry): void {
  if (entry.hole) return;
  promotions.stored(host).set(name, { value: entry.value, slot: { node: host, key: entry.index } });
}

function createInput(promotions: Promotions, host: EditorNode, definition: SubgraphDefinition, entry: Entry): boolean {
  const source = promotions.nodeIn(definition, entry.sourceId);
  const widget = source && sourceWidget(promotions, source, entry);
  if (!source || !widget) return false;
  const slot = widgetSlot(promotions, source, widget.name);
  if (!slot) return false;
  const name = uniqueName(entry.widget, slots(definition).map((input) => input.name));
  addInput(promotions, definition, name, String(slot.type ?? '*'));
  connect(promotions, definition, slots(definition).length - 1, source, slot);
  setValue(promotions, host, name, entry);
  return true;
}

/** The input a widget belongs to on an inner node (creating the saved entry when the file left it out). */
function widgetSlot(promotions: Promotions, node: EditorNode, widget: string): EditorSlotInput | undefined {
  const saved = Array.isArray(node.inputs) ? node.inputs : (node.inputs = []);
  if (promotions.definitionOf(node)) {
    const input = promotions.hostInputs(node).find((candidate) => candidate.promoted && candidate.name === widget);
    if (!input) return undefined;
    return savedInput(saved, input.name, input.type, widget);
  }
  const found = saved.find((input) => isObject(input) && promotions.classInputWidget(node, input) === widget);
  if (found) return found;
  const name = promotions.classInputName(node, widget);
  return name === undefined ? undefined : savedInput(saved, name.name, name.type, widget);
}

function savedInput(saved: EditorSlotInput[], name: string, type: unknown, widget: string): EditorSlotInput {
  const existing = saved.find((input) => isObject(input) && input.name === name);
  if (existing) return existing;
  const created: EditorSlotInput = { name, type, link: null, widget: { name: widget } };
  saved.push(created);
  return created;
}

function addInput(promotions: Promotions, definition: SubgraphDefinition, name: string, type: string): void {
  const inputs = Array.isArray(definition.inputs) ? definition.inputs : (definition.inputs = []);
  inputs.push({ name, type, linkIds: [] } as SubgraphSlot);
  promotions.changed();
}

/** Links the definition input `index` to an inner node input, replacing the link the input had. */
function connect(promotions: Promotions, definition: SubgraphDefinition, index: number, node: EditorNode, input: EditorSlotInput): void {
  if (typeof input.link === 'number') disconnect(promotions, definition, input.link);
  const links = definition.links as EditorLinkObject[];
  const id = Math.max(0, ...links.map((link) => link.id)) + 1;
  const targetSlot = (Array.isArray(node.inputs) ? node.inputs : []).indexOf(input);
  links.push({ id, origin_id: Number(SUBGRAPH_INPUT_ID), origin_slot: index, target_id: node.id, target_slot: targetSlot, type: input.type });
  slots(definition)[index]!.linkIds = [...(slots(definition)[index]!.linkIds ?? []), id];
  input.link = id;
  promotions.changed();
}

function disconnect(promotions: Promotions, definition: SubgraphDefinition, linkId: number): void {
  promotions.changed();
  const links = definition.links as EditorLinkObject[];
  const at = links.findIndex((link) => link.id === linkId);
  if (at === -1) return;
  const [link] = links.splice(at, 1) as [EditorLinkObject];
  if (String(link.origin_id) === SUBGRAPH_INPUT_ID) {
    const slot = slots(definition)[link.origin_slot];
    if (slot?.linkIds) slot.linkIds = slot.linkIds.filter((id) => id !== linkId);
  } else {
    const origin = (definition.nodes ?? []).find((node) => isObject(node) && String(node.id) === String(link.origin_id));
    const output = origin?.outputs?.[link.origin_slot];
    if (output && Array.isArray(output.links)) output.links = output.links.filter((id) => id !== linkId);
  }
  const target = (definition.nodes ?? []).find((node) => isObject(node) && String(node.id) === String(link.target_id));
  for (const input of target?.inputs ?? []) if (isObject(input) && input.link === linkId) input.link = null;
}

/** The inputs a primitive node inside feeds (`strict`: none of its links may be dangling). */
function primitiveTargets(promotions: Promotions, definition: SubgraphDefinition, primitive: EditorNode, strict: boolean): { node: EditorNode; input: EditorSlotInput }[] | undefined;
function primitiveTargets(promotions: Promotions, definition: SubgraphDefinition, primitive: EditorNode, strict: false): { node: EditorNode; input: EditorSlotInput }[];
function primitiveTargets(promotions: Promotions, definition: SubgraphDefinition, primitive: EditorNode, strict: boolean) {
  const targets: { node: EditorNode; input: EditorSlotInput }[] = [];
  for (const linkId of primitive.outputs?.[0]?.links ?? []) {
    const link = promotions.linkIn(definition, linkId);
    const node = link && String(link.target_id) !== '-1' ? promotions.nodeIn(definition, link.target_id) : undefined;
    const input = node && (node.inputs ?? []).find((candidate) => isObject(candidate) && candidate.link === linkId);
    if (!node || !input) {
      if (strict) return undefined;
      continue;
    }
    targets.push({ node, input });
  }
  return targets;
}

function bypassPrimitive(promotions: Promotions, host: EditorNode, definition: SubgraphDefinition, primitive: EditorNode, cohort: Entry[]): boolean {
  if (cohort.some((entry) => entry.widget !== cohort[0]!.widget)) return false;
  const targets = primitiveTargets(promotions, definition, primitive, true);
  const output = primitive.outputs?.[0];
  if (!targets || targets.length === 0 || !output) return false;
  const type = String(output.type ?? '*');
  for (const { node, input } of targets) {
    const targetType = String(promotions.inputType(node, input) ?? '*');
    if (targetType !== type && targetType !== '*' && type !== '*') return false;
  }
  const title = typeof primitive.title === 'string' && primitive.title !== '' && primitive.title !== PRIMITIVE ? primitive.title : undefined;
  const name = uniqueName(title ?? cohort[0]!.widget, slots(definition).map((input) => input.name));
  addInput(promotions, definition, name, type);
  for (const linkId of [...(output.links ?? [])]) disconnect(promotions, definition, linkId);
  for (const { node, input } of targets) connect(promotions, definition, slots(definition).length - 1, node, input);
  const valued = cohort.find((entry) => !entry.hole);
  if (valued) setValue(promotions, host, name, valued);
  primitive.properties = { ...(isObject(primitive.properties) ? primitive.properties : {}), [BYPASS_MARKER]: name };
  return true;
}

/** `name`, or `name_1`, `name_2` … when taken. */
function uniqueName(name: string, taken: string[]): string {
  let candidate = name;
  for (let i = 1; taken.includes(candidate); i++) candidate = `${name}_${i}`;
  return candidate;
}
