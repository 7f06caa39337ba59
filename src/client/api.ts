/**
 * ComfyUI's HTTP routes, typed. Every method either returns checked data or throws a
 * PyrosError that says what went wrong, with the server, route and status as fields.
 */
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { PyrosError } from '../errors.ts';
import type { Endpoint } from './endpoint.ts';
import type { OutputItem } from './messages.ts';
import {
  historyEntry,
  promptAccepted,
  promptRejected,
  queue as queueSchema,
  type HistoryEntry,
  type NodeError,
  type PromptAccepted,
  type ValidationError,
} from './schemas-http.ts';
import { Transport, type RequestSpec, type TransportOptions } from './transport.ts';

export interface PromptRequest {
  prompt: Record<string, unknown>;
  client_id?: string;
  prompt_id?: string;
  extra_data?: Record<string, unknown>;
  front?: boolean;
  /** Output nodes to run (with what they need); the others are left out. */
  partial_execution_targets?: string[];
}

/** POST /prompt answered 400: the workflow did not pass the server's validation. */
export class PromptRejectedError extends PyrosError {
  readonly error: ValidationError;
  readonly nodeErrors: Record<string, NodeError>;

  constructor(error: ValidationError, nodeErrors: Record<string, NodeError>, fields: { server?: string; promptId?: string } = {}) {
    super('rejected', `ComfyUI rejected the workflow: ${error.message || error.type || 'validation failed'}.`, {
      reason: 'validation',
      fields: { ...fields, status: 400, count: Object.keys(nodeErrors).length, ...(error.type ? { code: error.type } : {}) },
    });
    this.name = 'PromptRejectedError';
    this.error = error;
    this.nodeErrors = nodeErrors;
  }
}

export interface QueueEntry {
  number: number;
  promptId: string;
  clientId: string | undefined;
  /** The queued workflow, as submitted. */
  prompt: Record<string, unknown> | undefined;
  /** Ids of the output nodes the server will execute. */
  outputNodes: string[];
}

export interface QueueState {
  running: QueueEntry[];
  pending: QueueEntry[];
}

function toQueueEntry(item: unknown[]): QueueEntry {
  const extra = item[3] as { client_id?: unknown } | undefined;
  const prompt = item[2];
  return {
    number: typeof item[0] === 'number' ? item[0] : Number(item[0]),
    promptId: String(item[1]),
    clientId: typeof extra?.client_id === 'string' ? extra.client_id : undefined,
    prompt: typeof prompt === 'object' && prompt !== null && !Array.isArray(prompt) ? (prompt as Record<string, unknown>) : undefined,
    outputNodes: Array.isArray(item[4]) ? item[4].map(String) : [],
  };
}

function firstLines(text: string, lines = 3): string {
  return text.trim().split(/\r?\n/).slice(0, lines).join(' | ').slice(0, 300);
}

export class ComfyApi {
  readonly transport: Transport;
  private sharedQueue: Promise<QueueState> | undefined;

  constructor(endpoint: Endpoint, options: TransportOptions = {}) {
    this.transport = new Transport(endpoint, options);
  }

  get endpoint(): Endpoint {
    return this.transport.endpoint;
  }

  /** Requests a JSON body; anything but a 2xx JSON answer becomes an explained error. */
  private async json(spec: RequestSpec, okStatuses: number[] = [200]): Promise<{ status: number; body: unknown }> {
    const { status, contentType, text } = await this.transport.requestText(spec);
    if (okStatuses.includes(status) && text !== '') {
      try {
        return { status, body: JSON.parse(text) as unknown };
      } catch {
        // Not JSON: explained below.
      }
    }
    const what = this.transport.describe(spec);
    const fields = { ...this.transport.fieldsOf(spec), status };
    if (status >= 500) {
      throw new PyrosError('server', `${what} failed with HTTP ${status}: ${this.transport.mask(firstLines(text)) || '(empty body)'}`, { reason: 'http-5xx', fields });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (body === undefined || !okStatuses.includes(status)) {
      if (status === 401 || status === 403) {
        throw new PyrosError('connection', `${what} was refused with HTTP ${status}.`, { reason: 'unauthorized', fields });
      }
      const looksLikeJson = contentType.includes('json');
      if (!looksLikeJson || status === 404) {
        throw new PyrosError(
          'connection',
          `The server at ${this.endpoint.display} does not look like ComfyUI: ${what} answered HTTP ${status} ${contentType || 'without a content type'}${text ? ` ("${this.transport.mask(firstLines(text, 1)).slice(0, 80)}")` : ''}.`,
          { reason: 'not-comfyui', fields },
        );
      }
      throw new PyrosError('server', `${what} answered HTTP ${status}: ${this.transport.mask(firstLines(text))}`, { reason: 'unexpected-status', fields });
    }
    return { status, body };
  }

  private parse<T extends v.GenericSchema>(schema: T, body: unknown, spec: RequestSpec): v.InferOutput<T> {
    const result = v.safeParse(schema, body);
    if (result.success) return result.output;
    throw new PyrosError('server', `${this.transport.describe(spec)} answered with an unexpected shape: ${result.issues[0].message}.`, {
      reason: 'malformed',
      fields: this.transport.fieldsOf(spec),
    });
  }

  async submitPrompt(request: PromptRequest): Promise<PromptAccepted> {
    const spec: RequestSpec = { method: 'POST', route: 'prompt', body: JSON.stringify(request) };
    const { status, body } = await this.json(spec, [200, 400]);
    if (status === 400) {
      const rejected = this.parse(promptRejected, body, spec);
      const error = typeof rejected.error === 'string' ? { type: '', message: rejected.error, details: '' } : rejected.error;
      throw new PromptRejectedError(error, rejected.node_errors, { server: this.endpoint.display, promptId: request.prompt_id });
    }
    return this.parse(promptAccepted, body, spec);
  }

  /** The history entry of one prompt, or undefined while it is unknown or not finished. */
  async history(promptId: string, signal?: AbortSignal): Promise<HistoryEntry | undefined> {
    const spec: RequestSpec = { method: 'GET', route: `history/${encodeURIComponent(promptId)}`, signal };
    const { body } = await this.json(spec);
    const entry = (body as Record<string, unknown> | undefined)?.[promptId];
    return entry === undefined ? undefined : this.parse(historyEntry, entry, spec);
  }

  /** Recent history, newest last as the server orders it. */
  async historyList(maxItems?: number): Promise<Record<string, HistoryEntry>> {
    const spec: RequestSpec = { method: 'GET', route: 'history', query: maxItems ? { max_items: String(maxItems) } : undefined };
    const { body } = await this.json(spec);
    return this.parse(v.record(v.string(), historyEntry), body, spec);
  }

  /**
   * GET /queue for a look that any answer given from now on will do (where a prompt stands in
   * the queue): callers at the same time share one request, so that the jobs waiting on a server
   * ask once per change of its queue rather than once each.
   */
  queueShared(): Promise<QueueState> {
    this.sharedQueue ??= this.queue().finally(() => {
      this.sharedQueue = undefined;
    });
    return this.sharedQueue;
  }

  async queue(signal?: AbortSignal): Promise<QueueState> {
    const spec: RequestSpec = { method: 'GET', route: 'queue', signal };
    const { body } = await this.json(spec);
    const parsed = this.parse(queueSchema, body, spec);
    return { running: parsed.queue_running.map(toQueueEntry), pending: parsed.queue_pending.map(toQueueEntry) };
  }

  /** Removes pending prompts from the queue (a running prompt is not affected). */
  async deleteFromQueue(promptIds: string[]): Promise<void> {
    await this.expectOk({ method: 'POST', route: 'queue', body: JSON.stringify({ delete: promptIds }) });
  }

  /** Interrupts `promptId` if it is the one running; without an id, whatever runs. */
  async interrupt(promptId?: string): Promise<void> {
    const body = promptId === undefined ? undefined : JSON.stringify({ prompt_id: promptId });
    await this.expectOk({ method: 'POST', route: 'interrupt', body });
  }

  async systemStats(): Promise<Record<string, unknown>> {
    const spec: RequestSpec = { method: 'GET', route: 'system_stats' };
    const { body } = await this.json(spec);
    return this.parse(v.record(v.string(), v.unknown()), body, spec);
  }

  async objectInfo(nodeClass?: string): Promise<Record<string, unknown>> {
    const route = nodeClass ? `object_info/${encodeURIComponent(nodeClass)}` : 'object_info';
    const spec: RequestSpec = { method: 'GET', route, idleTimeoutMs: 120_000 };
    const { body } = await this.json(spec);
    return this.parse(v.record(v.string(), v.unknown()), body, spec);
  }

  /** Starts downloading one output; the caller streams the body (never buffered here). */
  async view(item: OutputItem, options: { signal?: AbortSignal; idleTimeoutMs?: number } = {}): Promise<IncomingMessage> {
    const spec: RequestSpec = {
      method: 'GET',
      route: 'view',
      query: { filename: item.filename, subfolder: item.subfolder ?? '', type: item.type ?? 'output' },
      signal: options.signal,
      idleTimeoutMs: options.idleTimeoutMs,
    };
    const res = await this.transport.request(spec);
    if (res.statusCode !== 200) {
      res.resume();
      const status = res.statusCode ?? 0;
      const message = `Downloading "${item.filename}" failed: ${this.transport.describe(spec)} answered HTTP ${status}.`;
      const fields = { ...this.transport.fieldsOf(spec), status, file: item.filename };
      if (status >= 500) throw new PyrosError('server', message, { reason: 'http-5xx', fields });
      throw new PyrosError('output', message, { reason: status === 404 ? 'file-missing' : 'download-refused', fields });
    }
    return res;
  }

  /** POST /upload/image: multipart upload; returns the name the server stored it under. */
  async uploadImage(
    file: { name: string; data: Buffer; contentType?: string },
    options: { subfolder?: string; type?: 'input' | 'temp' | 'output'; overwrite?: boolean } = {},
  ): Promise<{ name: string; subfolder: string; type: string }> {
    const boundary = `----pyros${randomBytes(12).toString('hex')}`;
    const parts: Buffer[] = [];
    const field = (name: string, value: string): void => {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    };
    const safeName = file.name.replace(/["\r\n]/g, '_');
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${safeName}"\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
    if (options.subfolder) field('subfolder', options.subfolder);
    if (options.type) field('type', options.type);
    if (options.overwrite) field('overwrite', 'true');
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    const spec: RequestSpec = {
      method: 'POST',
      route: 'upload/image',
      body: Buffer.concat(parts),
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
    const { body } = await this.json(spec);
    return this.parse(v.looseObject({ name: v.string(), subfolder: v.optional(v.string(), ''), type: v.optional(v.string(), 'input') }), body, spec);
  }

  private async expectOk(spec: RequestSpec): Promise<void> {
    const { status, text } = await this.transport.requestText(spec);
    if (status !== 200) {
      const message = `${this.transport.describe(spec)} answered HTTP ${status}: ${this.transport.mask(firstLines(text)) || '(empty body)'}`;
      const fields = { ...this.transport.fieldsOf(spec), status };
      if (status >= 500) throw new PyrosError('server', message, { reason: 'http-5xx', fields });
      throw new PyrosError('connection', message, { reason: status === 401 || status === 403 ? 'unauthorized' : 'unexpected-status', fields });
    }
  }

  close(): void {
    this.transport.close();
  }
}
