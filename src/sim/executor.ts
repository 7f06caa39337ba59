/**
 * Runs one prompt the way ComfyUI's PromptExecutor does, frame for frame: execution_start,
 * execution_cached, then per node progress_state → executing → (ticks) → executed →
 * progress_state, and a terminal message the caller sends after storing history.
 *
 * Who receives what (README "Ordering", point 9): lifecycle messages go only to the submitting
 * client; progress, progress_state and images go to that client, or to every socket when the
 * prompt has no client_id.
 */
import { randomUUID } from 'node:crypto';
import type { Catalogue } from './catalogue/catalogue.ts';
import { InterruptedError, NodeError } from './errors.ts';
import { ExecutionList } from './execution-order.ts';
import { previewFrame, previewWithMetadataFrame, textFrame } from './frames.ts';
import type { SimHooks } from './hooks.ts';
import type { InterruptFlag } from './interrupt.ts';
import type { NodeContext, NodeEnvironment, PreviewImage, SimSettings } from './nodes/types.ts';
import { describeValue } from './nodes/values.ts';
import { computeSignatures, OutputCache, type CacheEntry } from './output-cache.ts';
import { ProgressState } from './progress-state.ts';
import { isLink, nodeIds, nodeInputs, type Prompt, type PromptNode } from './prompt.ts';
import { cloneJson } from './prompt-order.ts';
import { PyException } from './python.ts';
import type { QueueItem } from './queue.ts';
import type { SocketHub } from './socket-hub.ts';

export interface ExecutorDeps {
  catalogue: Catalogue;
  hub: SocketHub;
  env: NodeEnvironment;
  interrupt: InterruptFlag;
  hooks: SimHooks;
  settings: SimSettings;
  log: (line: string) => void;
}

export interface TerminalMessage {
  type: 'execution_success' | 'execution_error' | 'execution_interrupted';
  data: Record<string, unknown>;
  /** execution_interrupted reaches every socket when the prompt has no client_id. */
  broadcast: boolean;
}

/** What one run keeps track of. */
interface RunState {
  item: QueueItem;
  /** The run's own copy of the prompt (with IS_CHANGED annotations). */
  prompt: Prompt;
  clientId: string | undefined;
  signatures: Map<string, string>;
  cachedEntry(nodeId: string): CacheEntry | undefined;
  outputsOf(nodeId: string): unknown[] | undefined;
  values: Map<string, unknown[]>;
  progress: ProgressState;
  uiOutputs: Map<string, Record<string, unknown>>;
  /** Nodes run in this prompt (cached ones excluded), in order. */
  executed: string[];
}

export interface RunOutcome {
  success: boolean;
  messages: [string, unknown][];
  outputs: Record<string, unknown>;
  meta: Record<string, unknown>;
  terminal: TerminalMessage;
  /** Where lifecycle messages go: the submitting client, or undefined without one. */
  clientId: string | undefined;
}

/** The socket id a prompt's messages go to; a non-string client_id matches no socket. */
function clientOf(extraData: Record<string, unknown>): string | undefined {
  const value = extraData.client_id;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : `\0${String(value)}`;
}

export class Executor {
  private readonly deps: ExecutorDeps;
  private readonly cache = new OutputCache();
  private readonly nodeStates = new Map<string, unknown>();

  constructor(deps: ExecutorDeps) {
    this.deps = deps;
  }

  async run(item: QueueItem): Promise<RunOutcome> {
    const { catalogue, hub, interrupt } = this.deps;
    const promptId = item.promptId;
    const clientId = clientOf(item.extraData);
    const prompt = cloneJson(item.prompt);
    const ids = nodeIds(prompt);
    const messages: [string, unknown][] = [];
    const started = performance.now();
    interrupt.clear();

    const lifecycle = (event: string, data: Record<string, unknown>): void => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (clientId !== undefined) hub.sendJson(event, stamped, clientId);
    };
    lifecycle('execution_start', { prompt_id: promptId });

    const signatures = await this.signatures(prompt, ids);
    this.cache.retainOnly(signatures.values());
    this.retainNodeStates(prompt, ids);
    const cachedEntry = (nodeId: string): CacheEntry | undefined => this.cache.get(signatures.get(nodeId));
    lifecycle('execution_cached', { nodes: ids.filter((id) => cachedEntry(id) !== undefined), prompt_id: promptId });

    const values = new Map<string, unknown[]>();
    const run: RunState = {
      item,
      prompt,
      clientId,
      signatures,
      cachedEntry,
      // Cached nodes are never staged: their outputs come straight from the cache.
      outputsOf: (id) => values.get(id) ?? cachedEntry(id)?.outputs,
      values,
      progress: new ProgressState(promptId),
      uiOutputs: new Map(),
      executed: [],
    };
    const list = new ExecutionList(
      prompt,
      (id) => cachedEntry(id) !== undefined,
      (id) => catalogue.has(prompt[id]?.class_type) && catalogue.isOutputNode(prompt[id]?.class_type as string),
    );
    for (const output of item.outputs) list.addNode(output);

    let terminal: TerminalMessage | undefined;
    while (!terminal && !list.isEmpty()) {
      const nodeId = list.next();
      if (nodeId === undefined) {
        const stuck = list.remaining()[0] ?? '';
        terminal = this.errorMessage(run, stuck, new NodeError('DependencyCycleError', 'Dependency cycle detected'), {});
        break;
      }
      const cached = cachedEntry(nodeId);
      if (cached) this.reportCached(run, nodeId, cached);
      else terminal = await this.execute(run, nodeId);
      if (!terminal) list.complete(nodeId);
    }

    if (!terminal) {
      terminal = { type: 'execution_success', data: { prompt_id: promptId, timestamp: Date.now() }, broadcast: false };
      this.deps.log(`Prompt executed in ${((performance.now() - started) / 1000).toFixed(2)} seconds`);
    }
    messages.push([terminal.type, terminal.data]);

    const outputs: Record<string, unknown> = {};
    const meta: Record<string, unknown> = {};
    for (const [nodeId, ui] of run.uiOutputs) {
      outputs[nodeId] = ui;
      meta[nodeId] = { node_id: nodeId, display_node: nodeId, parent_node: null, real_node_id: nodeId };
    }
    return { success: terminal.type === 'execution_success', messages, outputs, meta, terminal, clientId };
  }

  /** A cached node is only staged when it is an output: its `executed` is sent again. */
  private reportCached(run: RunState, nodeId: string, cached: CacheEntry): void {
    const { hub } = this.deps;
    if (run.clientId !== undefined) {
      hub.sendJson('executed', { node: nodeId, display_node: nodeId, output: cached.ui ?? null, prompt_id: run.item.promptId }, run.clientId);
    }
    if (cached.ui) run.uiOutputs.set(nodeId, cached.ui);
    run.values.set(nodeId, cached.outputs);
    run.progress.finish(nodeId);
    hub.send(run.progress.message(), run.clientId, false);
  }

  /** Runs one node; returns the terminal message if the run ends here. */
  private async execute(run: RunState, nodeId: string): Promise<TerminalMessage | undefined> {
    const { catalogue, hub, interrupt, hooks } = this.deps;
    const { item, prompt, clientId, progress } = run;
    const promptId = item.promptId;
    const classType = (prompt[nodeId] as PromptNode).class_type;

    progress.start(nodeId);
    hub.send(progress.message(), clientId, false);
    if (clientId !== undefined) {
      hub.activeNode = { clientId, nodeId };
      hub.sendJson('executing', { node: nodeId, display_node: nodeId, prompt_id: promptId }, clientId);
    }

    let inputs: Record<string, unknown> = {};
    let outputs: unknown[];
    let ui: Record<string, unknown> | undefined;
    try {
      interrupt.throwIfRaised();
      await hooks.onNodeStart?.({ promptId, nodeId, classType });
      inputs = this.inputsOf(prompt, nodeId, run.outputsOf, item.extraData);
      const result = await catalogue.behaviour(classType).run(inputs, this.context(run, nodeId, classType));
      outputs = result.outputs ?? [];
      ui = result.ui;
    } catch (error) {
      if (!(error instanceof InterruptedError)) return this.errorMessage(run, nodeId, error, inputs);
      this.deps.log('Processing interrupted');
      return {
        type: 'execution_interrupted',
        data: { prompt_id: promptId, node_id: nodeId, node_type: classType, executed: [...run.executed], timestamp: Date.now() },
        broadcast: true,
      };
    }

    if (ui && hooks.onNodeOutput) ui = hooks.onNodeOutput({ promptId, nodeId, classType, output: ui }) ?? ui;
    run.values.set(nodeId, outputs);
    this.cache.set(run.signatures.get(nodeId) ?? '', ui ? { outputs, ui } : { outputs });
    if (ui) {
      run.uiOutputs.set(nodeId, ui);
      if (clientId !== undefined) hub.sendJson('executed', { node: nodeId, display_node: nodeId, output: ui, prompt_id: promptId }, clientId);
    }
    progress.finish(nodeId);
    hub.send(progress.message(), clientId, false);
    run.executed.push(nodeId);
    return undefined;
  }

  /** Cache keys, after asking file-reading nodes whether their file changed (IS_CHANGED). */
  private async signatures(prompt: Prompt, ids: string[]): Promise<Map<string, string>> {
    const { catalogue, env } = this.deps;
    const changed = new Map<string, unknown>();
    for (const id of ids) {
      const node = prompt[id];
      if (!node || !catalogue.has(node.class_type)) continue;
      const isChanged = catalogue.behaviour(node.class_type).isChanged;
      if (!isChanged) continue;
      try {
        const value = await isChanged(nodeInputs(node), env);
        changed.set(id, value);
        node.is_changed = [value];
      } catch {
        // Unknown state: never reuse a cached result for it.
        changed.set(id, randomUUID());
      }
    }
    return computeSignatures(prompt, {
      changed,
      includesNodeId: (classType) => catalogue.has(classType) && Object.values(catalogue.hiddenInputs(classType)).includes('UNIQUE_ID'),
    });
  }

  private retainNodeStates(prompt: Prompt, ids: string[]): void {
    const keep = new Set(ids.map((id) => `${id}\0${prompt[id]?.class_type}`));
    for (const key of this.nodeStates.keys()) if (!keep.has(key)) this.nodeStates.delete(key);
  }

  /** The values a node runs with: linked outputs, its declared constants, and hidden inputs. */
  private inputsOf(
    prompt: Prompt,
    nodeId: string,
    outputsOf: (nodeId: string) => unknown[] | undefined,
    extraData: Record<string, unknown>,
  ): Record<string, unknown> {
    const node = prompt[nodeId] as Prompt[string];
    const spec = this.deps.catalogue.spec(node.class_type);
    const declared = { ...spec.input.required, ...spec.input.optional };
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(nodeInputs(node))) {
      if (isLink(value)) inputs[name] = outputsOf(value[0])?.[value[1]] ?? null;
      else if (Object.hasOwn(declared, name)) inputs[name] = value;
    }
    for (const [name, kind] of Object.entries(spec.input.hidden ?? {})) {
      if (kind === 'PROMPT') inputs[name] = prompt;
      else if (kind === 'EXTRA_PNGINFO' && extraData.extra_pnginfo !== undefined) inputs[name] = extraData.extra_pnginfo;
      else if (kind === 'UNIQUE_ID') inputs[name] = nodeId;
    }
    return inputs;
  }

  private context(run: RunState, nodeId: string, classType: string): NodeContext {
    const { hub, interrupt, settings, env } = this.deps;
    const { item, prompt, clientId, progress } = run;
    const promptId = item.promptId;
    const stateKey = `${nodeId}\0${classType}`;
    return {
      ...env,
      promptId,
      nodeId,
      classType,
      prompt,
      extraData: item.extraData,
      settings,
      progress: async (value, max, preview) => {
        interrupt.throwIfRaised();
        const image: PreviewImage | undefined = preview && hub.hasListener(clientId) ? await preview() : undefined;
        const withMetadata = hub.supportsFeature(clientId, 'supports_preview_metadata');
        progress.tick(nodeId, value, max);
        hub.send(progress.message(), clientId, false);
        if (image && withMetadata) hub.send(previewWithMetadataFrame(image, promptId, nodeId), clientId, true);
        hub.sendJson('progress', { value, max, prompt_id: promptId, node: nodeId }, clientId);
        if (image && !withMetadata) hub.send(previewFrame(image), clientId, true);
      },
      sleep: (ms) => interrupt.sleep(ms),
      throwIfInterrupted: () => interrupt.throwIfRaised(),
      sendText: (text) => hub.send(textFrame(nodeId, text), undefined, true),
      nodeState: <T>(create: () => T): T => {
        if (!this.nodeStates.has(stateKey)) this.nodeStates.set(stateKey, create());
        return this.nodeStates.get(stateKey) as T;
      },
    };
  }

  private errorMessage(run: RunState, nodeId: string, error: unknown, inputs: Record<string, unknown>): TerminalMessage {
    const { prompt, executed } = run;
    const promptId = run.item.promptId;
    const failure =
      error instanceof NodeError
        ? error
        : error instanceof PyException
          ? new NodeError(error.pyType, error.message)
          : error instanceof RangeError && /allocation|Invalid typed array length|Array buffer/i.test(error.message)
            ? new NodeError('RuntimeError', `DefaultCPUAllocator: not enough memory: ${error.message}`)
            : new NodeError('Exception', error instanceof Error ? error.message : String(error));
    this.deps.log(`!!! Exception during processing !!! ${failure.message}`);
    const currentInputs: Record<string, unknown[]> = {};
    for (const [name, value] of Object.entries(inputs)) currentInputs[name] = [describeValue(value)];
    return {
      type: 'execution_error',
      data: {
        prompt_id: promptId,
        node_id: nodeId,
        node_type: prompt[nodeId]?.class_type ?? null,
        executed: [...executed],
        // ComfyUI appends a (usually empty) tip after a newline.
        exception_message: `${failure.message}\n`,
        exception_type: failure.exceptionType,
        traceback: failure.traceback,
        current_inputs: currentInputs,
        current_outputs: nodeIds(prompt),
        timestamp: Date.now(),
      },
      broadcast: false,
    };
  }
}
