/**
 * The timeline of a recording, played against a live client. A cursor walks the recorded events
 * in order; it stops at every "hard" client action (WebSocket connect, POST /prompt, /interrupt,
 * /queue, /upload/image) until the client has performed the same action, so frames recorded
 * after an action are never sent before it. Soft actions (GETs) never stop the cursor.
 *
 * Only the frames of the played socket are sent. That socket continues on the connection the
 * recorder opened (with the same client id) after it dropped the socket on purpose.
 */
import type { RecordedEvent, Recording } from './recording.ts';

export interface PlaybackOutput {
  sendText(json: unknown): void;
  sendBinary(frame: Buffer): void;
  /** The recorder dropped its socket here: drop the client's. */
  drop(): void;
}

const HARD_POSTS = new Set(['/prompt', '/interrupt', '/queue', '/upload/image']);

/** A route without the optional /api prefix every ComfyUI route also answers under. */
export function routeOf(path: string): string {
  return path.startsWith('/api/') ? path.slice('/api'.length) : path;
}

export function postKey(path: string): string {
  return `POST ${routeOf(path)}`;
}

const CONNECT_KEY = 'connect';

/** The played socket and the sockets that continue it after a deliberate drop. */
function socketChain(events: RecordedEvent[], socket: string): Set<string> {
  const chain = new Set([socket]);
  const clientIdOf = new Map<string, string>();
  let reconnecting: string | undefined;
  for (const event of events) {
    if (event.kind === 'connect') {
      clientIdOf.set(event.socket, event.clientId);
      if (reconnecting !== undefined && event.clientId === reconnecting) {
        chain.add(event.socket);
        reconnecting = undefined;
      }
    } else if (event.kind === 'client-close' && chain.has(event.socket)) {
      reconnecting = clientIdOf.get(event.socket);
    }
  }
  return chain;
}

export class Playback {
  readonly chain: Set<string>;
  private readonly events: RecordedEvent[];
  private readonly speed: number;
  private readonly output: PlaybackOutput;
  private readonly hard = new Map<number, string>();
  private readonly unperformed = new Map<string, number[]>();
  private readonly performed = new Set<number>();
  private readonly waiters: { index: number; resolve: () => void }[] = [];
  private cursor = 0;
  private lastTime = 0;
  private lastWallClock = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private yielded: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(recording: Recording, options: { socket: string; speed: number; output: PlaybackOutput }) {
    this.events = recording.events;
    this.speed = options.speed;
    this.output = options.output;
    this.chain = socketChain(this.events, options.socket);
    for (const event of this.events) {
      let key: string | undefined;
      if (event.kind === 'connect' && this.chain.has(event.socket)) key = CONNECT_KEY;
      if (event.kind === 'request' && event.request.method === 'POST' && HARD_POSTS.has(routeOf(event.request.path))) key = postKey(event.request.path);
      if (key === undefined) continue;
      this.hard.set(event.index, key);
      this.unperformed.set(key, [...(this.unperformed.get(key) ?? []), event.index]);
    }
  }

  /** The client connected its WebSocket: releases the next recorded connect. */
  connected(): number | undefined {
    return this.perform(CONNECT_KEY);
  }

  /** The client sent a hard POST: releases the next recorded one of that route; its index, if any. */
  posted(path: string): number | undefined {
    return this.perform(postKey(path));
  }

  /** Whether the event at `index` has been played (sent, or passed over as not ours). */
  passed(index: number): boolean {
    return this.cursor > index;
  }

  /** Resolves once the event at `index` has been played, or the cursor waits for the client. */
  reach(index: number): Promise<void> {
    if (this.settledFor(index)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.yielded) clearImmediate(this.yielded);
    this.timer = undefined;
    this.yielded = undefined;
    this.notify();
  }

  private perform(key: string): number | undefined {
    const index = this.unperformed.get(key)?.shift();
    if (index === undefined) return undefined;
    this.performed.add(index);
    // Played on the next turn, so the caller can first wait for the answer's place in the timeline.
    this.schedule();
    return index;
  }

  private schedule(): void {
    if (this.yielded || this.closed) return;
    this.yielded = setImmediate(() => {
      this.yielded = undefined;
      this.pump();
    });
  }

  private blocked(): boolean {
    if (this.cursor >= this.events.length) return true;
    return this.hard.has(this.cursor) && !this.performed.has(this.cursor);
  }

  private settledFor(index: number): boolean {
    return this.closed || this.passed(index) || this.blocked();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (!this.settledFor(waiter.index)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private pump(): void {
    if (this.timer || this.yielded || this.closed) return;
    while (!this.blocked()) {
      const event = this.events[this.cursor];
      if (event === undefined) break;
      const isHard = this.hard.has(this.cursor);
      if (!isHard && this.speed > 0) {
        const due = this.lastWallClock + (event.t - this.lastTime) / this.speed;
        const wait = due - Date.now();
        if (wait >= 1) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, wait);
          break;
        }
      }
      this.lastTime = event.t;
      this.lastWallClock = Date.now();
      this.cursor += 1;
      this.play(event);
      if (this.waiters.some((waiter) => waiter.index === event.index)) {
        // An HTTP answer was recorded here: let it go out before the frames that follow it.
        this.notify();
        this.schedule();
        return;
      }
    }
    this.notify();
  }

  private play(event: RecordedEvent): void {
    switch (event.kind) {
      case 'text':
        if (this.chain.has(event.socket)) this.output.sendText(event.json);
        return;
      case 'binary':
        if (this.chain.has(event.socket)) this.output.sendBinary(event.frame.bytes);
        return;
      case 'client-close':
        if (this.chain.has(event.socket)) this.output.drop();
        return;
      default:
        return;
    }
  }
}
