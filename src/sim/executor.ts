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
import { computeSignatures, OutputCache } from './output-cache.ts';
import { ProgressState } from './progress-state.ts';
import { isLink, nodeIds, nodeInputs, type Prompt } from './prompt.ts';
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
  private nodeStates = new Map<string, unknown>();

  constructor(deps: ExecutorDeps) {
    this.deps = deps;
  }

  async run(item: QueueItem): Promise<RunOutcome> {
    const { catalogue, hub, interrupt, hooks } = this.deps;
    const promptId = item.promptId;
    const clientId = clientOf(item.extraData);
    const prompt = cloneJson(item.prompt);
    const ids = nodeIds(prompt);
    const messages: [string, unknown][] = [];
    const started = performance.now();
    interrupt.clear();

    const lifecycle = (event: string, data: Record<string, unknown>): Record<string, unknown> => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (clientId !== undefined) hub.sendJson(event, stamped, clientId);
      return stamped;
    };
    lifecycle('execution_start', { prompt_id: promptId });

    const signatures = await this.signatures(prompt, ids);
    this.cache.retainOnly(signatures.values());
    this.retainNodeStates(prompt, ids);
    const cachedEntry = (nodeId: string) => this.cache.get(signatures.get(nodeId));
    lifecycle('execution_cached', { nodes: ids.filter((id) => cachedEntry(id) !== undefined), prompt_id: promptId });

    const progress = new ProgressState(promptId);
    const sendProgressState = (): void => hub.send(progress.message(), clientId, false);
    const list = new ExecutionList(
      prompt,
      (id) => cachedEntry(id) !== undefined,
      (id) => catalogue.has(prompt[id]?.class_type) && catalogue.isOutputNode(prompt[id]?.class_type as string),
    );
    for (const output of item.outputs) list.addNode(output);

    const values = new Map<string, unknown[]>();
    // Cached nodes are never staged: their outputs come straight from the cache.
    const outputsOf = (id: string): unknown[] | undefined => values.get(id) ?? cachedEntry(id)?.outputs;
    const uiOutputs = new Map<string, Record<string, unknown>>();
    const executed: string[] = [];
    let terminal: TerminalMessage | undefined;

    while (!list.isEmpty()) {
      const nodeId = list.next();
      if (nodeId === undefined) {
        const stuck = list.remaining()[0] ?? '';
        terminal = this.errorMessage(promptId, prompt, stuck, executed, new NodeError('DependencyCycleError', 'Dependency cycle detected'), {});
        break;
      }
      const node = prompt[nodeId];
      if (!node) break;
      const classType = node.class_type;
      const signature = signatures.get(nodeId) ?? '';

      const cached = cachedEntry(nodeId);
      if (cached) {
        if (clientId !== undefined) {
          hub.sendJson('executed', { node: nodeId, display_node: nodeId, output: cached.ui ?? null, prompt_id: promptId }, clientId);
        }
        if (cached.ui) uiOutputs.set(nodeId, cached.ui);
        values.set(nodeId, cached.outputs);
        progress.finish(nodeId);
        sendProgressState();
        list.complete(nodeId);
        continue;
      }

      progress.start(nodeId);
      sendProgressState();
      if (clientId !== undefined) {
        hub.activeNode = { clientId, nodeId };
        hub.sendJson('executing', { node: nodeId, display_node: nodeId, prompt_id: promptId }, clientId);
      }

      let inputs: Record<string, unknown> = {};
      let ui: Record<string, unknown> | undefined;
      let outputs: unknown[];
      try {
        interrupt.throwIfRaised();
        await hooks.onNodeStart?.({ promptId, nodeId, classType });
        inputs = this.inputsOf(prompt, nodeId, outputsOf, item.extraData);
        const context = this.context(prompt, nodeId, classType, item, clientId, progress);
        const result = await catalogue.behaviour(classType).run(inputs, context);
        outputs = result.outputs ?? [];
        ui = result.ui;
      } catch (error) {
        if (error instanceof InterruptedError) {
          this.deps.log('Processing interrupted');
          terminal = {
            type: 'execution_interrupted',
            data: { prompt_id: promptId, node_id: nodeId, node_type: classType, executed: [...executed], timestamp: Date.now() },
            broadcast: true,
          };
        } else {
          terminal = this.errorMessage(promptId, prompt, nodeId, executed, error, inputs);
        }
        break;
      }

      if (ui && hooks.onNodeOutput) ui = hooks.onNodeOutput({ promptId, nodeId, classType, output: ui }) ?? ui;
      values.set(nodeId, outputs);
      this.cache.set(signature, ui ? { outputs, ui } : { outputs });
      if (ui) {
        uiOutputs.set(nodeId, ui);
        if (clientId !== undefined) hub.sendJson('executed', { node: nodeId, display_node: nodeId, output: ui, prompt_id: promptId }, clientId);
      }
      progress.finish(nodeId);
      sendProgressState();
      executed.push(nodeId);
      list.complete(nodeId);
    }

    if (!terminal) {
      terminal = { type: 'execution_success', data: { prompt_id: promptId, timestamp: Date.now() }, broadcast: false };
      this.deps.log(`Prompt executed in ${((performance.now() - started) / 1000).toFixed(2)} seconds`);
    }
    messages.push([terminal.type, terminal.data]);

    const outputs: Record<string, unknown> = {};
    const meta: Record<string, unknown> = {};
    for (const [nodeId, ui] of uiOutputs) {
      outputs[nodeId] = ui;
      meta[nodeId] = { node_id: nodeId, display_node: nodeId, parent_node: null, real_node_id: nodeId };
    }
    return { success: terminal.type === 'execution_success', messages, outputs, meta, terminal, clientId };
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

  private context(prompt: Prompt, nodeId: string, classType: string, item: QueueItem, clientId: string | undefined, progress: ProgressState): NodeContext {
    const { hub, interrupt, settings, env } = this.deps;
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

  private errorMessage(promptId: string, prompt: Prompt, nodeId: string, executed: string[], error: unknown, inputs: Record<string, unknown>): TerminalMessage {
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
