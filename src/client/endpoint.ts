/**
 * The server a client talks to: one base URL (http or https, optionally with a path prefix when
 * ComfyUI sits behind a reverse proxy), the WebSocket URL derived from it, and the credentials
 * sent with every request. Credentials never appear in `display`.
 */
import { PyrosError } from '../errors.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:8188';

export interface EndpointOptions {
  /** Extra request headers, e.g. `{ 'X-Api-Key': '…' }`. */
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

export interface Endpoint {
  /** Base URL without credentials; its pathname always ends with '/'. */
  readonly base: URL;
  /** What to show a person: origin and path, credentials removed. */
  readonly display: string;
  /** Headers for every HTTP request and the WebSocket upgrade. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every secret value, for masking in messages and logs. */
  readonly secrets: readonly string[];
}

const SCHEMES: Record<string, 'http:' | 'https:'> = {
  'http:': 'http:',
  'https:': 'https:',
  'ws:': 'http:',
  'wss:': 'https:',
};

export function parseEndpoint(input: string, options: EndpointOptions = {}): Endpoint {
  const text = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    const value = maskUserInfo(text);
    throw new PyrosError('usage', `"${value}" is not a valid server URL.`, { reason: 'invalid-url', fields: { value } });
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) {
    throw new PyrosError('usage', `Unsupported URL scheme "${url.protocol}" in the server address.`, { reason: 'unsupported-scheme', fields: { value: url.protocol } });
  }
  const secrets: string[] = [];
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
    secrets.push(basic, url.password, password);
  }
  if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
    secrets.push(options.token);
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name.toLowerCase()] = value;
    secrets.push(...headerSecrets(value));
  }
  const base = new URL(url.href);
  base.protocol = scheme;
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const display = `${base.origin}${base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '')}`;
  return { base, display, headers, secrets: [...new Set(secrets.filter((s) => s.length > 0))] };
}

/**
 * The secret parts of a header value: the whole value, and the credential of an
 * `Authorization`-style "Scheme credential" value on its own (a server may echo either).
 */
export function headerSecrets(value: string): string[] {
  const secrets = value.length >= 4 ? [value] : [];
  const credential = /^[A-Za-z][\w.+-]*\s+(\S{4,})$/.exec(value.trim())?.[1];
  if (credential) secrets.push(credential);
  return secrets;
}

/** URL of an HTTP route relative to the endpoint's base (so a path prefix is kept). */
export function routeUrl(endpoint: Endpoint, route: string, query?: Record<string, string>): URL {
  const url = new URL(route.replace(/^\//, ''), endpoint.base);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  return url;
}

export function webSocketUrl(endpoint: Endpoint, clientId: string): URL {
  const url = routeUrl(endpoint, 'ws', { clientId });
  url.protocol = endpoint.base.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

/** Replaces every secret of the endpoint (and any user:password@ in URLs) in a text. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = maskUserInfo(text);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    masked = masked.split(secret).join('***');
  }
  return masked;
}

function maskUserInfo(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}
