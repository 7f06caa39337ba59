/**
 * The frames a job follows on the client's shared socket: every frame until the server has
 * confirmed the prompt id (a server may choose its own), then only those of the prompt and those
 * that name none. Until the server has the prompt, they wait, so that events come in a sensible
 * order (`submitted` first); then they are handled in the order they came.
 */
import type { BinaryFrame } from './binary.ts';
import type { ServerMessage } from './messages.ts';
import type { ComfySocket, PromptWatcher } from './socket.ts';

export class PromptFrames implements PromptWatcher {
  private readonly socket: ComfySocket;
  private readonly to: PromptWatcher;
  /** Frames that came before the server had the prompt; undefined once it has. */
  private held: (() => void)[] | undefined;
  private unwatch: () => void;

  /** `promptId`: the prompt's id when it is certain; `hold`: frames wait for `release()`. */
  constructor(socket: ComfySocket, promptId: string | undefined, to: PromptWatcher, hold: boolean) {
    this.socket = socket;
    this.to = to;
    this.held = hold ? [] : undefined;
    this.unwatch = socket.watch(promptId, this);
  }

  message(message: ServerMessage): void {
    if (this.held) this.held.push(() => this.to.message(message));
    else this.to.message(message);
  }

  binary(frame: BinaryFrame): void {
    if (this.held) this.held.push(() => this.to.binary(frame));
    else this.to.binary(frame);
  }

  malformed(detail: string): void {
    this.to.malformed(detail);
  }

  /** The server has confirmed the prompt's id: only its frames from now on, and those that name none. */
  narrow(promptId: string): void {
    this.unwatch();
    this.unwatch = this.socket.watch(promptId, this);
  }

  /** The server has the prompt: the frames that waited are handled, in order, and every later one at once. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const handle of held) handle();
  }

  stop(): void {
    this.unwatch();
  }
}
