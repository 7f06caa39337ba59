/**
 * One HTTP request over node:http/https with a keep-alive agent, a connect timeout, an idle
 * timeout, and errors translated into PyrosErrors with a reason. Bodies are returned as
 * streams so that large downloads are never held in memory.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { PyrosError, type ErrorFields } from '../errors.ts';
import { maskSecrets, type Endpoint } from './endpoint.ts';

export interface TransportOptions {
  /** Milliseconds without any byte before a request fails. */
  idleTimeoutMs?: number;
  /** Skip TLS certificate verification (off by default). */
  insecure?: boolean;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  route: string;
  query?: Record<string, string>;
  body?: Buffer | string;
  contentType?: string;
  signal?: AbortSignal;
  idleTimeoutMs?: number;
}

export class Transport {
  readonly endpoint: Endpoint;
  private readonly agent: http.Agent;
  private readonly idleTimeoutMs: number;
  private readonly module: typeof http | typeof https;
  /** What every request shares (host, port, agent), worked out once rather than per request. */
  private readonly target: { protocol: string; hostname: string; port: string; agent: http.Agent };
  private readonly basePath: string;
  private readonly headers: Record<string, string>;

  constructor(endpoint: Endpoint, options: TransportOptions = {}) {
    this.endpoint = endpoint;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    const agentOptions = { keepAlive: true, maxSockets: 8 };
    const secure = endpoint.base.protocol === 'https:';
    this.agent = secure ? new https.Agent({ ...agentOptions, rejectUnauthorized: !options.insecure }) : new http.Agent(agentOptions);
    this.module = secure ? https : http;
    const { hostname } = endpoint.base;
    this.target = {
      protocol: endpoint.base.protocol,
      // An IPv6 address is bracketed in a URL, not in a host name.
      hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
      port: endpoint.base.port,
      agent: this.agent,
    };
    this.basePath = endpoint.base.pathname;
    this.headers = { ...endpoint.headers, accept: 'application/json, */*' };
  }

  /** Sends a request and resolves with the response once its headers arrive. */
  request(spec: RequestSpec): Promise<IncomingMessage> {
    const path = `${this.basePath}${spec.route.startsWith('/') ? spec.route.slice(1) : spec.route}${spec.query ? `?${new URLSearchParams(spec.query).toString()}` : ''}`;
    const headers: Record<string, string | number> =
      spec.body === undefined ? this.headers : { ...this.headers, 'content-type': spec.contentType ?? 'application/json', 'content-length': Buffer.byteLength(spec.body) };
    const idleMs = spec.idleTimeoutMs ?? this.idleTimeoutMs;
    return new Promise((resolve, reject) => {
      const req = this.module.request({ ...this.target, path, method: spec.method, headers, signal: spec.signal });
      let response: IncomingMessage | undefined;
      req.setTimeout(idleMs, () => {
        const error = new PyrosError('timeout', `${this.describe(spec)} got no answer for ${seconds(idleMs)}.`, {
          reason: 'request',
          fields: { ...this.fieldsOf(spec), limitMs: idleMs },
        });
        // A stalled body fails with this error (not a bare "aborted"), then the connection is dropped.
        response?.destroy(error);
        req.destroy(error);
      });
      req.on('response', (res) => {
        // The idle timer now guards the body: a stalled download fails instead of hanging.
        response = res;
        res.socket?.setTimeout(idleMs);
        resolve(res);
      });
      req.on('error', (error) => reject(this.translate(error, spec)));
      req.end(spec.body);
    });
  }

  /** Sends a request and reads the whole (small) body. */
  async requestText(spec: RequestSpec): Promise<{ status: number; contentType: string; text: string }> {
    const res = await this.request(spec);
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
      res.on('error', (error) => reject(this.translate(error, spec)));
      // A response destroyed without an error (the request aborted) never ends.
      res.on('close', () => {
        if (!res.complete) reject(this.translate(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), spec));
      });
    });
    return { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text };
  }

  describe(spec: Pick<RequestSpec, 'method' | 'route'>): string {
    return `${spec.method} ${routePath(spec)} on ${this.endpoint.display}`;
  }

  /** The server, method and route of a request, for an error's fields. */
  fieldsOf(spec: Pick<RequestSpec, 'method' | 'route'>): ErrorFields {
    return { server: this.endpoint.display, method: spec.method, route: routePath(spec) };
  }

  mask(text: string): string {
    return maskSecrets(text, this.endpoint.secrets);
  }

  translate(error: Error, spec: Pick<RequestSpec, 'method' | 'route'>): Error {
    if (error instanceof PyrosError) return error;
    if (error.name === 'AbortError') return error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const where = this.endpoint.display;
    const detail = this.mask(error.message);
    const fields = { ...this.fieldsOf(spec), ...(code ? { code } : {}) };
    switch (code) {
      case 'ECONNREFUSED':
        return new PyrosError('connection', `Cannot connect to ComfyUI at ${where}: connection refused.`, { reason: 'refused', fields, cause: error });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new PyrosError('connection', `Cannot connect to ComfyUI at ${where}: host name not found.`, { reason: 'host-not-found', fields, cause: error });
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ETIMEDOUT':
        return new PyrosError('connection', `Cannot connect to ComfyUI at ${where}: ${code}.`, { reason: 'unreachable', fields, cause: error });
      case 'ECONNRESET':
      case 'EPIPE':
        return new PyrosError('connection', `The connection to ${where} was reset during ${this.describe(spec)}.`, { reason: 'reset', fields, cause: error });
      default:
        if (/CERT|SSL|TLS|SELF_SIGNED/.test(code) || /certificate/i.test(error.message)) {
          return new PyrosError('connection', `TLS certificate check failed for ${where}: ${detail}`, { reason: 'tls', fields, cause: error });
        }
        return new PyrosError('connection', `${this.describe(spec)} failed: ${detail}`, { reason: 'failed', fields, cause: error });
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function routePath(spec: Pick<RequestSpec, 'route'>): string {
  return spec.route.startsWith('/') ? spec.route : `/${spec.route}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
