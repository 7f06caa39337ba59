/**
 * The prompt queue: pending prompts ordered by their number (a `front` submission gets a
 * negative one), at most one running. Every change notifies `onChange`, which broadcasts the
 * `status` frames clients count on, including ComfyUI's double notification when the last
 * pending prompt is deleted.
 */
import type { Prompt } from './prompt.ts';

export interface QueueItem {
  number: number;
  promptId: string;
  prompt: Prompt;
  extraData: Record<string, unknown>;
  outputs: string[];
  /** Extra data the server keeps out of /queue and /history (API keys). */
  sensitive: Record<string, unknown>;
}

/** The five-element form of /queue and /history: [number, prompt_id, prompt, extra_data, outputs]. */
export function publicItem(item: QueueItem): [number, string, Prompt, Record<string, unknown>, string[]] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

export class PromptQueue {
  private counter = 0;
  private pending: QueueItem[] = [];
  private current: QueueItem | undefined;
  private waiter: ((item: QueueItem | undefined) => void) | undefined;
  private closed = false;
  private readonly onChange: () => void;

  constructor(onChange: () => void) {
    this.onChange = onChange;
  }

  /** The number of a new submission (ComfyUI counts every parsed POST /prompt, valid or not). */
  nextNumber(front: boolean): number {
    const number = this.counter++;
    return front ? -number : number;
  }

  get remaining(): number {
    return this.pending.length + (this.current ? 1 : 0);
  }

  get running(): QueueItem | undefined {
    return this.current;
  }

  put(item: QueueItem): void {
    let index = this.pending.length;
    while (index > 0 && (this.pending[index - 1]?.number ?? 0) > item.number) index--;
    this.pending.splice(index, 0, item);
    this.onChange();
    this.wake();
  }

  /** Waits for the next prompt and marks it running; undefined once the queue is closed. */
  take(): Promise<QueueItem | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const item = this.pending.shift();
    if (item) {
      this.current = item;
      this.onChange();
      return Promise.resolve(item);
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const item = this.pending.shift();
    if (!item) return;
    this.waiter = undefined;
    this.current = item;
    // The worker starts on a later turn, after the POST that queued the prompt is answered.
    setImmediate(() => {
      this.onChange();
      waiter(item);
    });
  }

  finishRunning(): void {
    this.current = undefined;
    this.onChange();
  }

  delete(promptId: string): boolean {
    const index = this.pending.findIndex((item) => item.promptId === promptId);
    if (index < 0) return false;
    if (this.pending.length === 1) this.clear();
    else this.pending.splice(index, 1);
    this.onChange();
    return true;
  }

  clear(): void {
    this.pending = [];
    this.onChange();
  }

  snapshot(): { running: QueueItem[]; pending: QueueItem[] } {
    return { running: this.current ? [this.current] : [], pending: [...this.pending] };
  }

  close(): void {
    this.closed = true;
    this.pending = [];
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(undefined);
  }
}
