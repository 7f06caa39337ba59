/**
 * One HTTP request over node:http/https with a keep-alive agent, a connect timeout, an idle
 * timeout, and errors translated into PyrosErrors with a reason. Bodies are returned as
 * streams so that large downloads are never held in memory.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { PyrosError, type ErrorFields } from '../errors.ts';
import { maskSecrets, routeUrl, type Endpoint } from './endpoint.ts';

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

  constructor(endpoint: Endpoint, options: TransportOptions = {}) {
    this.endpoint = endpoint;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    const agentOptions = { keepAlive: true, maxSockets: 8 };
    this.agent =
      endpoint.base.protocol === 'https:'
        ? new https.Agent({ ...agentOptions, rejectUnauthorized: !options.insecure })
        : new http.Agent(agentOptions);
  }

  /** Sends a request and resolves with the response once its headers arrive. */
  request(spec: RequestSpec): Promise<IncomingMessage> {
    const url = routeUrl(this.endpoint, spec.route, spec.query);
    const module = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...this.endpoint.headers, accept: 'application/json, */*' };
    if (spec.body !== undefined) {
      headers['content-type'] = spec.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(spec.body);
    }
    const idleMs = spec.idleTimeoutMs ?? this.idleTimeoutMs;
    return new Promise((resolve, reject) => {
      const req = module.request(url, { method: spec.method, headers, agent: this.agent, signal: spec.signal });
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
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res) chunks.push(chunk as Buffer);
    } catch (error) {
      throw this.translate(error as Error, spec);
    }
    return {
      status: res.statusCode ?? 0,
      contentType: String(res.headers['content-type'] ?? ''),
      text: Buffer.concat(chunks).toString('utf8'),
    };
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
