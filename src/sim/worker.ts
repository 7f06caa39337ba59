/**
 * The single worker that runs queued prompts one at a time. After each run it stores the
 * history entry first, then sends the terminal message, the decremented `status` and the
 * `executing {node: null}` completion marker (README "Ordering", point 1), so a client that
 * reacts to any of them finds the entry in GET /history.
 */
import type { Executor, RunOutcome } from './executor.ts';
import type { History } from './history.ts';
import type { InterruptFlag } from './interrupt.ts';
import { publicItem, type PromptQueue, type QueueItem } from './queue.ts';
import type { SocketHub } from './socket-hub.ts';

/** A failure of the simulator itself still ends the run the way clients expect. */
function internalFailure(item: QueueItem, error: unknown): RunOutcome {
  const clientId = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : undefined;
  const data = {
    prompt_id: item.promptId,
    node_id: null,
    node_type: null,
    executed: [],
    exception_message: `${error instanceof Error ? error.message : String(error)}\n`,
    exception_type: 'Exception',
    traceback: [],
    current_inputs: {},
    current_outputs: [],
    timestamp: Date.now(),
  };
  return {
    success: false,
    messages: [['execution_error', data]],
    outputs: {},
    meta: {},
    terminal: { type: 'execution_error', data, broadcast: false },
    clientId,
  };
}

export class Worker {
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly queue: PromptQueue;
  private readonly executor: Executor;
  private readonly history: History;
  private readonly hub: SocketHub;
  private readonly interrupt: InterruptFlag;
  private readonly log: (line: string) => void;

  constructor(queue: PromptQueue, executor: Executor, history: History, hub: SocketHub, interrupt: InterruptFlag, log: (line: string) => void) {
    this.queue = queue;
    this.executor = executor;
    this.history = history;
    this.hub = hub;
    this.interrupt = interrupt;
    this.log = log;
  }

  start(): void {
    this.loop ??= this.runForever();
  }

  private async runForever(): Promise<void> {
    for (;;) {
      const item = await this.queue.take();
      if (!item || this.stopping) return;
      let outcome: RunOutcome;
      try {
        outcome = await this.executor.run(item);
      } catch (error) {
        this.log(`internal error while running ${item.promptId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        outcome = internalFailure(item, error);
      }
      if (this.stopping) return;
      this.finish(item, outcome);
    }
  }

  private finish(item: QueueItem, outcome: RunOutcome): void {
    this.history.put(item.promptId, {
      prompt: publicItem(item),
      outputs: outcome.outputs,
      status: { status_str: outcome.success ? 'success' : 'error', completed: outcome.success, messages: outcome.messages },
      meta: outcome.meta,
    });
    const { terminal, clientId } = outcome;
    if (clientId !== undefined || terminal.broadcast) this.hub.sendJson(terminal.type, terminal.data, clientId);
    this.hub.activeNode = undefined;
    this.queue.finishRunning();
    if (clientId !== undefined) this.hub.sendJson('executing', { node: null, prompt_id: item.promptId }, clientId);
  }

  /** Interrupts the running prompt and waits until the worker has stopped touching files. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.interrupt.raise();
    this.queue.close();
    await this.loop;
  }
}
