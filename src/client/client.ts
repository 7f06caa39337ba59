/**
 * The library's entry point: one ComfyUI server, one WebSocket shared by every job of this
 * client. No terminal code here; everything observable is an event.
 */
import { randomUUID } from 'node:crypto';
import { ComfyApi } from './api.ts';
import { DEFAULT_SERVER, parseEndpoint, type Endpoint, type EndpointOptions } from './endpoint.ts';
import { Job, type JobContext, type JobOptions } from './job.ts';
import { ComfySocket } from './socket.ts';
import type { ApiWorkflow } from './types.ts';
import { UploadCache } from './uploads.ts';

export interface ClientOptions extends EndpointOptions {
  /** Server URL (http, https, ws or wss; a path prefix is kept). Default http://127.0.0.1:8188. */
  server?: string;
  clientId?: string;
  /** Skip TLS certificate verification. */
  insecure?: boolean;
  /** Milliseconds without a byte before an HTTP request fails (default 30 000). */
  requestTimeoutMs?: number;
  /** Milliseconds to open the WebSocket (default 10 000). */
  connectTimeoutMs?: number;
  /** Ping interval for the liveness check of the socket (default 15 000). */
  pingIntervalMs?: number;
  /** Ask for previews with metadata (default true). */
  previewMetadata?: boolean;
  /** Largest WebSocket frame accepted (default 128 MiB); a bigger one makes the socket reconnect. */
  maxFrameBytes?: number;
  /** Default `quietCheckMs` of every job: how long a quiet socket is trusted before /history and /queue are checked (default 5 000). */
  quietCheckMs?: number;
}

export class Client {
  readonly endpoint: Endpoint;
  readonly api: ComfyApi;
  readonly socket: ComfySocket;
  /** Files this client uploaded, so that each version of a file goes to the server once. */
  readonly uploads: UploadCache;
  private opening: Promise<void> | undefined;
  private readonly jobDefaults: JobOptions;

  constructor(options: ClientOptions = {}) {
    this.endpoint = parseEndpoint(options.server ?? DEFAULT_SERVER, options);
    this.api = new ComfyApi(this.endpoint, { insecure: options.insecure, idleTimeoutMs: options.requestTimeoutMs });
    this.socket = new ComfySocket(this.endpoint, {
      clientId: options.clientId ?? randomUUID(),
      insecure: options.insecure,
      connectTimeoutMs: options.connectTimeoutMs,
      pingIntervalMs: options.pingIntervalMs,
      previewMetadata: options.previewMetadata,
      maxFrameBytes: options.maxFrameBytes,
    });
    this.uploads = new UploadCache(this.api);
    this.jobDefaults = options.quietCheckMs === undefined ? {} : { quietCheckMs: options.quietCheckMs };
  }

  get clientId(): string {
    return this.socket.clientId;
  }

  /** Opens the WebSocket (once); jobs call this themselves. */
  connect(): Promise<void> {
    if (this.socket.isOpen) return Promise.resolve();
    this.opening ??= this.socket.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Submits a workflow and follows it; listen to the job's events, await `job.result`. */
  run(workflow: ApiWorkflow, options: JobOptions = {}): Job {
    return new Job(this.jobContext(), workflow, { ...this.jobDefaults, ...options });
  }

  /**
   * Follows a prompt that is already queued, running or finished (submitted by anyone), by its
   * id: the same events and result as a job this client submitted.
   */
  follow(promptId: string, options: Omit<JobOptions, 'promptId' | 'extraData' | 'uploads'> = {}): Job {
    return new Job(this.jobContext(), undefined, { ...this.jobDefaults, ...options, promptId, follow: true });
  }

  private jobContext(): JobContext {
    return { api: this.api, socket: this.socket, uploads: this.uploads, ready: () => this.connect() };
  }

  close(): void {
    this.socket.close();
    this.api.close();
  }
}
