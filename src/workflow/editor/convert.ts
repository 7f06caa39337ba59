/**
 * Editor workflow → API prompt, as ComfyUI's editor builds it when it queues a workflow
 * (`graphToPrompt`): subgraphs and legacy group nodes expanded, primitives applied to the widgets
 * they feed, reroutes and bypassed nodes followed, muted and editor-only nodes left out.
 */
import type { ApiWorkflow } from '../types.ts';
import { isEditorWorkflow, isObject } from './detect.ts';
import { processDynamicPrompt } from './dynamic-prompt.ts';
import { MissingNodeClassesError, usageError, type MissingNodeClass } from './errors.ts';
import { migrateGroupNodes } from './group-nodes.ts';
import { loadWorkflow } from './load.ts';
import { NodeDefinitions, type ObjectInfo } from './node-defs.ts';
import { emptyReport, type ConversionReport, type DroppedInput } from './report.ts';
import { GraphScope, SUBGRAPH_INPUT_ID, SUBGRAPH_OUTPUT_ID } from './scope.ts';
import { applyTextReplacements, SAVE_NODE_TYPES, type ReplacementNode } from './text-replacements.ts';
import type { EditorNode, EditorWorkflow, SubgraphDefinition } from './types.ts';
import type { Promotions } from './promotion.ts';
import { makeUnit, MODE_BYPASS, MODE_NEVER, unitKind, type Unit, type WidgetSlot } from './units.ts';
import { isValidConnection } from './types-match.ts';

export interface ConvertOptions {
  /**
   * Titles for nodes that have none of their own, by class. The editor uses its own English names,
   * which can differ from the server's `display_name` (the default) when the two versions differ.
   */
  displayNames?: Record<string, string>;
  /** Picks among `{a|b}` choices of dynamic prompts; the editor uses Math.random. */
  random?: () => number;
  /** The time used for `%date:…%` in filename prefixes. */
  now?: Date;
}

export interface ConversionResult {
  prompt: ApiWorkflow;
  report: ConversionReport;
  /** Where each input of the prompt that holds a value was stored in the editor workflow (see `sourceKey`). */
  sources: ReadonlyMap<string, WidgetSlot>;
}

/** The key of an input in `ConversionResult.sources`. */
export function sourceKey(nodeId: string, input: string): string {
  return `${nodeId}\u0000${input}`;
}

type Resolved = { originId: string; slot: number } | { value: unknown; from?: WidgetSlot };

const CUSTOM_WIDGET_TYPES = new Set(['WEBCAM', 'AUDIO_RECORD', 'LOAD_3D', 'LOAD_3D_ANIMATION']);

export function convertEditorWorkflow(editor: unknown, objectInfo: unknown, options: ConvertOptions = {}): ConversionResult {
  if (!isEditorWorkflow(editor)) {
    const api = isObject(editor) && Object.values(editor).some((node) => isObject(node) && typeof node.class_type === 'string');
    throw usageError(
      api ? 'This workflow is already in API format; it needs no conversion.' : 'This is neither an editor workflow nor an API workflow.',
      api ? 'workflow-already-api' : 'workflow-not-editor',
    );
  }
  if (!isObject(objectInfo)) throw usageError('The node definitions are not an object of node classes (as /object_info returns).', 'definitions-invalid');
  return new Converter(editor as EditorWorkflow, objectInfo as ObjectInfo, options).run();
}

class Converter {
  readonly #defs: NodeDefinitions;
  readonly #options: ConvertOptions;
  readonly #workflow: EditorWorkflow;
  readonly #report = emptyReport();
  readonly #units = new Map<string, Unit>();
  #subgraphs = new Map<string, SubgraphDefinition>();
  #promotions!: Promotions;
  #original = new WeakMap<object, EditorNode>();
  readonly #scopes = new Map<string, GraphScope>();
  readonly #missing = new Map<string, MissingNodeClass>();
  readonly #classUnitIds: string[] = [];
  readonly #sources = new Map<string, WidgetSlot>();
  #replacementNodes: ReplacementNode[] | undefined;
  /** Why the last input resolved to nothing, when that leaves the input out. */
  #miss: Pick<DroppedInput, 'reason' | 'detail'> | undefined;

  constructor(workflow: EditorWorkflow, objectInfo: ObjectInfo, options: ConvertOptions) {
    this.#workflow = workflow;
    this.#defs = new NodeDefinitions(objectInfo);
    this.#options = options;
  }

  run(): ConversionResult {
    const loaded = loadWorkflow(this.#workflow, this.#defs);
    this.#subgraphs = loaded.subgraphs;
    this.#promotions = loaded.promotions;
    this.#original = loaded.original;
    const migrated = migrateGroupNodes(loaded.workflow, this.#defs, loaded.lastNodeId);
    for (const expansion of migrated.expansions) {
      this.#report.expanded.groupNodes.push({ id: expansion.originalId, newId: expansion.hostId, name: expansion.name });
    }
    for (const definition of migrated.definitions) this.#subgraphs.set(definition.id, definition);
    this.#countLinkReroutes();

    const root = new GraphScope('root', migrated.nodes, migrated.links);
    for (const node of root.nodes.values()) this.#addUnit(node, root, [], undefined, []);
    if (this.#missing.size > 0) throw new MissingNodeClassesError([...this.#missing.values()]);

    this.#applyPrimitives();
    const prompt: ApiWorkflow = {};
    for (const unit of this.#units.values()) {
      if (unit.mode === MODE_NEVER) {
        if (unit.kind !== 'frontend') this.#report.muted.push(this.#mention(unit));
        continue;
      }
      if (unit.kind === 'frontend' || unit.kind === 'subgraph') continue;
      if (unit.mode === MODE_BYPASS) {
        this.#report.bypassed.push(this.#mention(unit));
        continue;
      }
      prompt[unit.id] = { inputs: this.#inputsOf(unit), class_type: unit.node.type, _meta: { title: this.#title(unit) } };
    }
    this.#dropInputsFromUnsentNodes(prompt);
    checkForCycles(prompt);
    return { prompt, report: this.#report, sources: this.#sources };
  }

  #countLinkReroutes(): void {
    const extra = this.#workflow.extra;
    const reroutes = isObject(extra) && Array.isArray(extra.reroutes) ? extra.reroutes.length : 0;
    const top = Array.isArray(this.#workflow.reroutes) ? this.#workflow.reroutes.length : 0;
    this.#report.expanded.linkReroutes = reroutes + top;
  }

  #scopeOf(definition: SubgraphDefinition): GraphScope {
    let scope = this.#scopes.get(definition.id);
    if (!scope) {
      scope = new GraphScope(definition.id, Array.isArray(definition.nodes) ? definition.nodes : [], Array.isArray(definition.links) ? definition.links : [], definition);
      this.#scopes.set(definition.id, scope);
    }
    return scope;
  }

  #addUnit(node: EditorNode, scope: GraphScope, path: string[], host: Unit | undefined, openSubgraphs: string[]): void {
    if (!isObject(node) || typeof node.type !== 'string') return;
    const kind = unitKind(node, this.#defs, this.#subgraphs);
    const unit = makeUnit(node, scope, path, host, kind, this.#defs, this.#promotions);
    this.#units.set(unit.id, unit);
    if (kind === 'class') this.#classUnitIds.push(unit.id);
    if (kind === 'unknown' && unit.mode !== MODE_NEVER && unit.mode !== MODE_BYPASS) this.#recordMissing(unit);
    if (kind === 'frontend' && (node.type === 'Note' || node.type === 'MarkdownNote')) this.#report.notes.push(this.#mention(unit));
    if (kind === 'frontend' && node.type === 'Reroute') this.#report.expanded.reroutes.push(unit.id);
    this.#noteApproximations(unit);
    if (kind !== 'subgraph' || unit.mode === MODE_NEVER || unit.mode === MODE_BYPASS) return;

    const definition = this.#subgraphs.get(node.type)!;
    if (openSubgraphs.includes(definition.id)) {
      throw usageError(`Subgraph "${definition.name ?? definition.id}" contains itself (node ${unit.id}), so it cannot be expanded.`, 'subgraph-contains-itself');
    }
    const inner = this.#scopeOf(definition);
    const innerPath = [...path, String(node.id)];
    const start = this.#classUnitIds.length;
    for (const innerNode of inner.nodes.values()) this.#addUnit(innerNode, inner, innerPath, unit, [...openSubgraphs, definition.id]);
    const added = this.#classUnitIds.slice(start);
    this.#report.expanded.subgraphs.push({ id: unit.id, name: definition.name ?? definition.id, nodes: added });
  }

  #recordMissing(unit: Unit): void {
    const classType = unit.node.type;
    let entry = this.#missing.get(classType);
    if (!entry) {
      entry = { classType, nodes: [], packages: [] };
      this.#missing.set(classType, entry);
    }
    entry.nodes.push({ id: unit.id, ...(typeof unit.node.title === 'string' ? { title: unit.node.title } : {}) });
    const properties = isObject(unit.node.properties) ? unit.node.properties : {};
    for (const key of ['cnr_id', 'aux_id']) {
      const value = properties[key];
      if (typeof value === 'string' && value !== '' && !entry.packages.includes(value)) entry.packages.push(value);
    }
  }

  #noteApproximations(unit: Unit): void {
    if (!unit.layout) return;
    for (const widget of unit.layout.widgets) {
      if (CUSTOM_WIDGET_TYPES.has(widget.type)) this.#report.approximated.push({ id: unit.id, widget: widget.name, type: widget.type });
    }
  }

  /** Editor-only primitive nodes write their value into every widget they are linked to. */
  #applyPrimitives(): void {
    for (const unit of this.#units.values()) {
      if (unit.node.type !== 'PrimitiveNode') continue;
      const stored = unit.node.widgets_values;
      const outputLinks = unit.node.outputs?.[0]?.links;
      if (!Array.isArray(stored) || stored.length === 0 || !Array.isArray(outputLinks) || outputLinks.length === 0) {
        this.#report.notes.push(this.#mention(unit));
        continue;
      }
      let value = stored[0];
      if (typeof value === 'string' && value !== '' && isObject(unit.node.properties) && unit.node.properties['Run widget replace on values'] === true) {
        value = applyTextReplacements(value, this.#nodesForReplacements(), this.#options.now ?? new Date());
      }
      const targets: string[] = [];
      for (const linkId of outputLinks) {
        const link = unit.scope.links.get(linkId);
        const target = link && this.#units.get([...unit.path, link.targetId].join(':'));
        const input = target?.inputs.find((candidate) => candidate.link === linkId);
        if (!target || !input) continue;
        const widget = input.widget ?? (target.kind === 'subgraph' ? input.name : undefined);
        if (widget === undefined || (target.kind === 'class' && !target.widgetValues.has(widget))) continue;
        target.widgetValues.set(widget, value);
        target.widgetSlots.set(widget, { node: unit.node, key: 0 });
        targets.push(target.id);
      }
      this.#report.expanded.primitives.push({ id: unit.id, targets });
    }
  }

  #inputsOf(unit: Unit): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    for (const widget of unit.layout?.widgets ?? []) {
      if (!widget.sent) continue;
      inputs[widget.name] = wrapArray(this.#serializeWidget(unit, widget.name, widget.dynamicPrompts, unit.widgetValues.get(widget.name)));
      const slot = unit.widgetSlots.get(widget.name);
      if (slot) this.#sources.set(sourceKey(unit.id, widget.name), this.#givenSlot(slot));
    }
    unit.inputs.forEach((input, slot) => {
      this.#miss = undefined;
      const resolved = this.#resolveInput(unit, slot, new Set());
      if (!resolved) {
        const miss = this.#miss as Pick<DroppedInput, 'reason' | 'detail'> | undefined;
        if (miss) this.#report.droppedInputs.push({ id: unit.id, input: input.name, ...miss });
        return;
      }
      inputs[input.name] = 'value' in resolved ? wrapArray(resolved.value) : [resolved.originId, resolved.slot];
      if ('from' in resolved && resolved.from) this.#sources.set(sourceKey(unit.id, input.name), this.#givenSlot(resolved.from));
      else this.#sources.delete(sourceKey(unit.id, input.name));
    });
    return inputs;
  }

  /** Slots name nodes of the loaded copy; callers write into the workflow they gave. */
  #givenSlot(slot: WidgetSlot): WidgetSlot {
    return { node: this.#original.get(slot.node) ?? slot.node, key: slot.key };
  }

  #serializeWidget(unit: Unit, name: string, dynamicPrompts: boolean, value: unknown): unknown {
    if (dynamicPrompts && typeof value === 'string') return processDynamicPrompt(value, this.#options.random);
    if (name === 'filename_prefix' && typeof value === 'string' && SAVE_NODE_TYPES.has(unit.node.type)) {
      return applyTextReplacements(value, this.#nodesForReplacements(), this.#options.now ?? new Date());
    }
    return value;
  }

  #nodesForReplacements(): ReplacementNode[] {
    this.#replacementNodes ??= [...this.#units.values()].map((unit) => ({
      searchName: isObject(unit.node.properties) ? unit.node.properties['Node name for S&R'] : undefined,
      title: this.#title(unit),
      widgetValue: (name: string) => ({ found: unit.widgetValues.has(name), value: unit.widgetValues.get(name) }),
    }));
    return this.#replacementNodes;
  }

  #title(unit: Unit): string {
    if (typeof unit.node.title === 'string') return unit.node.title;
    return this.#options.displayNames?.[unit.node.type] ?? unit.layout?.displayName ?? unit.node.type;
  }

  #mention(unit: Unit) {
    return { id: unit.id, type: unit.node.type, ...(typeof unit.node.title === 'string' ? { title: unit.node.title } : {}) };
  }

  #drop(unit: Unit, slot: number, reason: DroppedInput['reason'], detail: string): undefined {
    const input = unit.inputs[slot];
    this.#report.droppedInputs.push({ id: unit.id, input: input?.name ?? String(slot), reason, detail });
    return undefined;
  }

  #resolveInput(unit: Unit, slot: number, visited: Set<string>, type?: unknown): Resolved | undefined {
    visit(visited, `${unit.scope.id}:${unit.id}[I]${slot}`, unit);
    const input = unit.inputs[slot];
    if (!input || input.link === null) return undefined;
    const link = unit.scope.links.get(input.link);
    if (!link) return this.#drop(unit, slot, 'missing-link', `link ${input.link}`);

    const { host } = unit;
    if (host && link.originId === SUBGRAPH_INPUT_ID) {
      const hostInput = host.inputs[link.originSlot];
      if (!hostInput) return undefined;
      if (hostInput.link === null) {
        if (!hostInput.widget || !host.widgetValues.has(hostInput.name)) return undefined;
        return { value: host.widgetValues.get(hostInput.name), from: host.widgetSlots.get(hostInput.name) };
      }
      return this.#resolveInput(host, link.originSlot, visited);
    }
    const origin = this.#units.get([...unit.path, link.originId].join(':'));
    if (!origin) return this.#drop(unit, slot, 'missing-node', `node ${link.originId}`);
    return this.#resolveOutput(origin, link.originSlot, type ?? input.type, visited);
  }

  #resolveOutput(unit: Unit, slot: number, type: unknown, visited: Set<string>): Resolved | undefined {
    visit(visited, `${unit.scope.id}:${unit.id}[O]${slot}`, unit);
    if (unit.mode === MODE_NEVER) {
      this.#miss = { reason: 'source-muted', detail: `node ${unit.id}` };
      return undefined;
    }
    if (unit.mode === MODE_BYPASS) {
      const index = bypassSlot(unit, slot, type);
      if (index === -1) this.#miss = { reason: 'no-matching-bypass-input', detail: `node ${unit.id} has no ${String(type)} input` };
      return index === -1 ? undefined : this.#resolveInput(unit, index, visited);
    }
    if (unit.kind === 'subgraph') return this.#resolveSubgraphOutput(unit, slot, type, visited);
    if (unit.kind === 'frontend') {
      if (unit.inputs[slot] && unit.inputs[slot].link !== null) return this.#resolveInput(unit, slot, visited, type);
      if (unit.node.type !== 'PrimitiveNode') this.#miss = { reason: 'no-source', detail: `${unit.node.type} ${unit.id} has nothing connected` };
      return undefined;
    }
    return { originId: unit.id, slot };
  }

  #resolveSubgraphOutput(host: Unit, slot: number, type: unknown, visited: Set<string>): Resolved | undefined {
    const definition = this.#subgraphs.get(host.node.type);
    const output = definition?.outputs?.[slot];
    const inner = definition && this.#scopeOf(definition);
    if (!output || !inner) return undefined;
    const link = (output.linkIds ?? []).map((id) => inner.links.get(id)).find((candidate) => candidate && candidate.targetId === SUBGRAPH_OUTPUT_ID);
    if (!link) return undefined;
    if (link.originId === SUBGRAPH_INPUT_ID) return this.#resolveInput(host, link.originSlot, visited);
    const origin = this.#units.get([...host.path, String(host.node.id), link.originId].join(':'));
    return origin ? this.#resolveOutput(origin, link.originSlot, type, visited) : undefined;
  }

  /** The editor drops an input whose source is not part of the prompt (a muted or missing node). */
  #dropInputsFromUnsentNodes(prompt: ApiWorkflow): void {
    for (const [id, node] of Object.entries(prompt)) {
      for (const [name, value] of Object.entries(node.inputs)) {
        if (Array.isArray(value) && value.length === 2 && !Object.hasOwn(prompt, String(value[0]))) {
          delete node.inputs[name];
          this.#report.droppedInputs.push({ id, input: name, reason: 'source-not-sent', detail: `node ${String(value[0])}` });
        }
      }
    }
  }
}

function visit(visited: Set<string>, key: string, unit: Unit): void {
  if (visited.has(key)) {
    throw usageError(`The links around node ${unit.id} (${unit.node.type}) go round in a loop, so its inputs cannot be followed.`, 'links-loop');
  }
  visited.add(key);
}

function wrapArray(value: unknown): unknown {
  return Array.isArray(value) ? { __value__: value } : value;
}

/** Which input a bypassed node passes to its output `slot`, given the type the receiving input wants. */
function bypassSlot(unit: Unit, slot: number, type: unknown): number {
  const { inputs } = unit;
  if (type === '*' || type === '') return inputs.length > slot ? slot : 0;
  const outputType = unit.outputTypes[slot];
  const opposite = inputs[slot];
  if (opposite && isValidConnection(opposite.type, outputType) && isValidConnection(opposite.type, type)) return slot;
  const exact = inputs.findIndex((input) => input.type === type);
  if (exact !== -1) return exact;
  return inputs.findIndex((input) => isValidConnection(input.type, outputType) && isValidConnection(input.type, type));
}

/** The server runs nodes in dependency order; a loop of links between sent nodes can never run. */
function checkForCycles(prompt: ApiWorkflow): void {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const walk = (id: string): void => {
    const seen = state.get(id);
    if (seen === 2) return;
    if (seen === 1) {
      const loop = stack.slice(stack.indexOf(id)).concat(id);
      throw usageError(`The workflow's links form a loop: ${loop.join(' → ')}. ComfyUI cannot run a loop.`, 'links-loop');
    }
    state.set(id, 1);
    stack.push(id);
    for (const value of Object.values(prompt[id]!.inputs)) {
      if (Array.isArray(value) && value.length === 2 && Object.hasOwn(prompt, String(value[0]))) walk(String(value[0]));
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const id of Object.keys(prompt)) walk(id);
}
