/**
 * A small router: exact paths and paths ending in one `{param}` segment, each also reachable
 * under /api (ComfyUI registers every route twice). HEAD is served by the GET handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendMethodNotAllowed, sendNotFound } from './responses.ts';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** The `{param}` segment, percent-decoded. */
  param: string;
}

export type RouteHandler = (request: RouteRequest) => void | Promise<void>;

interface Route {
  method: string;
  handler: RouteHandler;
}

export class Router {
  private readonly exact = new Map<string, Route[]>();
  /** "/history/" → routes taking the rest of the path as their parameter. */
  private readonly prefixed = new Map<string, Route[]>();

  get(path: string, handler: RouteHandler): this {
    return this.add('GET', path, handler);
  }

  post(path: string, handler: RouteHandler): this {
    return this.add('POST', path, handler);
  }

  private add(method: string, path: string, handler: RouteHandler): this {
    const param = path.indexOf('{');
    const table = param >= 0 ? this.prefixed : this.exact;
    const key = param >= 0 ? path.slice(0, param) : path;
    const routes = table.get(key) ?? [];
    routes.push({ method, handler });
    table.set(key, routes);
    return this;
  }

  /** Strips the optional /api prefix. */
  static routePath(pathname: string): string {
    return pathname === '/api' ? '/' : pathname.startsWith('/api/') ? pathname.slice(4) : pathname;
  }

  async dispatch(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    let routes = this.exact.get(path);
    let param = '';
    if (!routes) {
      const slash = path.lastIndexOf('/');
      const candidates = this.prefixed.get(path.slice(0, slash + 1));
      const raw = path.slice(slash + 1);
      if (candidates && raw !== '') {
        try {
          param = decodeURIComponent(raw);
          routes = candidates;
        } catch {
          routes = undefined;
        }
      }
    }
    if (!routes) {
      sendNotFound(res);
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const route = routes.find((candidate) => candidate.method === method);
    if (!route) {
      sendMethodNotAllowed(res, routes.map((candidate) => candidate.method));
      return;
    }
    await route.handler({ req, res, query, param });
  }
}
