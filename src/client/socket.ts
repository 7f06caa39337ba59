/**
 * The WebSocket to ComfyUI: typed, schema-checked messages; decoded binary frames; liveness by
 * ping/pong (the server sends no heartbeat and may be silent for minutes); and reconnection with
 * bounded, jittered backoff under the same clientId.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { PyrosError, type ErrorFields } from '../errors.ts';
import { decodeBinaryFrame, MalformedFrameError, type BinaryFrame } from './binary.ts';
import { maskSecrets, webSocketUrl, type Endpoint } from './endpoint.ts';
import { checkServerMessage, MalformedMessageError, readServerMessage, type RawMessage, type ServerMessage } from './messages.ts';

export interface SocketOptions {
  clientId: string;
  /** Ask for binary previews with metadata (type 4 frames, which carry the prompt id). */
  previewMetadata?: boolean;
  insecure?: boolean;
  connectTimeoutMs?: number;
  /** Interval between pings; a missing pong within the same interval marks the socket dead. */
  pingIntervalMs?: number;
  /** Reconnect after an unexpected close (default true). */
  reconnect?: boolean;
  /** Largest frame accepted, in bytes; a bigger one closes the socket (1009), which then reconnects. */
  maxFrameBytes?: number;
  /**
   * A connection must stay open this long before the backoff starts again from its first step,
   * so that a server that accepts and closes at once (or answers 403) never causes a tight loop.
   */
  stableMs?: number;
}

export type SocketEvents = {
  /** Every text message (checked against its schema only while someone listens to this event). */
  message: [message: ServerMessage];
  /** The server's queue changed (`status`): how many prompts it holds, anyone's. */
  status: [info: { queueRemaining: number }];
  binary: [frame: BinaryFrame];
  /** A frame that could not be understood; it was skipped. */
  malformed: [detail: string];
  open: [info: { reconnect: boolean }];
  /** The connection was lost; another attempt follows after `delayMs`. */
  reconnecting: [info: { attempt: number; delayMs: number; reason: string }];
  closed: [info: { reason: string }];
};

/**
 * Who follows one prompt (or, with no prompt id, every frame): its messages, and the frames
 * without a prompt id (status, binary previews of old servers, text), go to it directly.
 */
export interface PromptWatcher {
  message(message: ServerMessage): void;
  binary(frame: BinaryFrame): void;
  malformed(detail: string): void;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 10_000;

/**
 * The WebSocket upgrade was answered with an HTTP status instead of 101: the server is there and
 * said no (credentials, not ComfyUI, a proxy without WebSocket support). Retrying does not help.
 */
export class UpgradeRefusedError extends PyrosError {
  readonly status: number;

  constructor(init: { status: number; server: string }) {
    const { status, server } = init;
    const unauthorized = status === 401 || status === 403;
    super(
      'connection',
      unauthorized
        ? `The WebSocket upgrade to ${server} was refused with HTTP ${status}.`
        : `The server at ${server} does not look like ComfyUI: its WebSocket (/ws) answered HTTP ${status} instead of accepting the connection.`,
      { reason: unauthorized ? 'unauthorized' : 'upgrade-refused', fields: { server, status, method: 'GET', route: '/ws' } },
    );
    this.name = 'UpgradeRefusedError';
    this.status = status;
  }
}

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class ComfySocket extends EventEmitter<SocketEvents> {
  readonly clientId: string;
  private readonly endpoint: Endpoint;
  private readonly options: Required<Omit<SocketOptions, 'clientId'>>;
  private ws: WebSocket | undefined;
  private closedByUser = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private everOpened = false;
  /** When the current connection opened (0 while none is open). */
  private openedAt = 0;
  /** Why this side ended the connection, or the error that ended it; used as the reconnect reason. */
  private endReason: string | undefined;
  /** Watchers by the prompt they follow (one lookup per frame, however many jobs are under way). */
  private readonly watchers = new Map<string, PromptWatcher[]>();
  /** Watchers of every frame (a job whose prompt id the server has not confirmed yet). */
  private readonly watchersOfAll = new Set<PromptWatcher>();

  constructor(endpoint: Endpoint, options: SocketOptions) {
    super();
    // Every job under way listens for the socket dropping and coming back: many at once are normal.
    this.setMaxListeners(0);
    this.endpoint = endpoint;
    this.clientId = options.clientId;
    this.options = {
      previewMetadata: options.previewMetadata ?? true,
      insecure: options.insecure ?? false,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      reconnect: options.reconnect ?? true,
      maxFrameBytes: options.maxFrameBytes ?? 128 * 1024 * 1024,
      stableMs: options.stableMs ?? 10_000,
    };
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket; resolves once it is open and our feature flags have been sent. */
  connect(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    // After a drop, this connection replaces the scheduled reconnection and any attempt in flight:
    // otherwise both would open a socket under the same clientId and one of them would leak.
    const resuming = this.everOpened && !this.closedByUser;
    this.closedByUser = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.ws?.readyState === WebSocket.CONNECTING) this.ws.terminate();
    return this.open(resuming);
  }

  private open(isReconnect: boolean): Promise<void> {
    const url = webSocketUrl(this.endpoint, this.clientId);
    const ws = new WebSocket(url, {
      headers: { ...this.endpoint.headers },
      handshakeTimeout: this.options.connectTimeoutMs,
      perMessageDeflate: false,
      maxPayload: this.options.maxFrameBytes,
      rejectUnauthorized: !this.options.insecure,
    });
    this.ws = ws;
    this.endReason = undefined;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        this.endReason = `the WebSocket upgrade was answered with HTTP ${status}`;
        fail(new UpgradeRefusedError({ status, server: this.endpoint.display }));
        ws.terminate();
      });
      ws.on('open', () => {
        settled = true;
        // The backoff is reset only once this connection proves stable (see 'close').
        this.openedAt = Date.now();
        this.everOpened = true;
        if (this.options.previewMetadata) {
          ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
        }
        this.startPings(ws);
        this.emit('open', { reconnect: isReconnect });
        resolve();
      });
      ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
      ws.on('pong', () => {
        this.awaitingPong = false;
      });
      ws.on('error', (error) => {
        this.endReason ??= error.message;
        fail(this.translateError(error));
      });
      ws.on('close', (code, reasonBuffer) => {
        this.stopPings();
        if (this.ws !== ws) return;
        if (this.openedAt > 0 && Date.now() - this.openedAt >= this.options.stableMs) this.attempt = 0;
        this.openedAt = 0;
        const closeText = reasonBuffer.length > 0 ? `${code} ${reasonBuffer.toString()}` : `code ${code}`;
        const reason = this.endReason ? `${this.endReason}; ${closeText}` : closeText;
        fail(
          new PyrosError('connection', `The WebSocket to ${this.endpoint.display} closed before it opened (${reason}).`, {
            reason: 'socket-closed',
            fields: this.fields(),
          }),
        );
        if (this.closedByUser) {
          this.emit('closed', { reason: 'closed' });
        } else if (this.options.reconnect && (this.everOpened || isReconnect)) {
          this.scheduleReconnect(`connection closed (${reason})`);
        } else {
          this.emit('closed', { reason });
        }
      });
    });
  }

  /**
   * Gives `watcher` the frames of `promptId` (every frame when undefined) and those that name no
   * prompt, until the returned function is called.
   */
  watch(promptId: string | undefined, watcher: PromptWatcher): () => void {
    if (promptId === undefined) {
      this.watchersOfAll.add(watcher);
      return () => this.watchersOfAll.delete(watcher);
    }
    const known = this.watchers.get(promptId);
    if (known) known.push(watcher);
    else this.watchers.set(promptId, [watcher]);
    return () => {
      const list = this.watchers.get(promptId);
      const at = list ? list.indexOf(watcher) : -1;
      if (!list || at < 0) return;
      if (list.length === 1) this.watchers.delete(promptId);
      else list.splice(at, 1);
    };
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      let frame: BinaryFrame;
      try {
        frame = decodeBinaryFrame(data);
      } catch (error) {
        if (!(error instanceof MalformedFrameError)) throw error;
        this.malformed(`binary frame: ${error.message}`, undefined);
        return;
      }
      const promptId = frame.kind === 'preview' ? frame.metadata?.prompt_id : undefined;
      for (const watcher of this.watchersFor(promptId)) this.deliver(() => watcher.binary(frame));
      this.deliver(() => this.emit('binary', frame));
      return;
    }
    let raw: RawMessage;
    try {
      raw = readServerMessage(data.toString('utf8'));
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.malformed(error.message, undefined);
      return;
    }
    const promptId = typeof raw.promptId === 'string' ? raw.promptId : undefined;
    const watchers = this.watchersFor(promptId);
    const listened = this.listenerCount('message') > 0;
    // The messages of a prompt nobody here follows are not even checked.
    if (watchers.length === 0 && !listened && raw.type !== 'status') return;
    let message: ServerMessage;
    try {
      message = checkServerMessage(raw);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.malformed(error.message, promptId);
      return;
    }
    if (message.type === 'status') this.deliver(() => this.emit('status', { queueRemaining: message.data.status.exec_info.queue_remaining }));
    for (const watcher of watchers) this.deliver(() => watcher.message(message));
    if (listened) this.deliver(() => this.emit('message', message));
  }

  /** The watchers a frame goes to: those of its prompt and of everything, or all of them when it names no prompt. */
  private watchersFor(promptId: string | undefined): PromptWatcher[] {
    if (promptId === undefined) return [...[...this.watchers.values()].flat(), ...this.watchersOfAll];
    const own = this.watchers.get(promptId) ?? [];
    return this.watchersOfAll.size === 0 && own.length <= 1 ? own : [...own, ...this.watchersOfAll];
  }

  private malformed(detail: string, promptId: string | undefined): void {
    for (const watcher of this.watchersFor(promptId)) this.deliver(() => watcher.malformed(detail));
    this.emit('malformed', detail);
  }

  /** A frame that trips up a listener is reported and skipped: one odd frame must not end the process. */
  private deliver(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.emit('malformed', `a frame could not be handled: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private startPings(ws: WebSocket): void {
    this.stopPings();
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        // No pong for a whole interval: the connection is dead even if TCP has not noticed.
        this.endReason = `no answer to a ping within ${Math.round(this.options.pingIntervalMs / 100) / 10} s`;
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
    }, this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    const delayMs = backoffDelay(this.attempt);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closedByUser) return;
      this.open(true).catch(() => {
        // The 'close' handler of the failed attempt schedules the next one.
      });
    }, delayMs);
    // Announced once the timer exists, so that a listener calling connect() or close() cancels it.
    this.emit('reconnecting', { attempt: this.attempt, delayMs, reason: maskSecrets(reason, this.endpoint.secrets) });
  }

  /** Forces a reconnect now (e.g. when the socket looks open but stopped delivering events). */
  restart(reason: string): void {
    if (this.closedByUser) return;
    this.endReason = reason;
    this.ws?.terminate();
    if (!this.ws) this.scheduleReconnect(reason);
  }

  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopPings();
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
    }
  }

  /** The server and route of the socket, for an error's fields. */
  private fields(code?: string): ErrorFields {
    return { server: this.endpoint.display, method: 'GET', route: '/ws', ...(code ? { code } : {}) };
  }

  private translateError(error: Error): PyrosError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const where = this.endpoint.display;
    const fields = this.fields(code);
    if (code === 'ECONNREFUSED') {
      return new PyrosError('connection', `Cannot connect to ComfyUI at ${where}: connection refused.`, { reason: 'refused', fields, cause: error });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new PyrosError('connection', `Cannot connect to ComfyUI at ${where}: host name not found.`, { reason: 'host-not-found', fields, cause: error });
    }
    if (/CERT|SSL|TLS|SELF_SIGNED/.test(code) || /certificate/i.test(error.message)) {
      return new PyrosError('connection', `TLS certificate check failed for ${where}: ${maskSecrets(error.message, this.endpoint.secrets)}`, { reason: 'tls', fields, cause: error });
    }
    if (/handshake/i.test(error.message)) {
      return new PyrosError('connection', `The WebSocket to ${where} did not open within ${Math.round(this.options.connectTimeoutMs / 100) / 10} s.`, {
        reason: 'handshake-timeout',
        fields: { ...fields, limitMs: this.options.connectTimeoutMs },
        cause: error,
      });
    }
    return new PyrosError('connection', `WebSocket to ${where} failed: ${maskSecrets(error.message, this.endpoint.secrets)}`, { reason: 'failed', fields, cause: error });
  }
}
