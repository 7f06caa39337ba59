/** Resolves what a command needs from flags, environment and config file (in that order). */
import { Client } from '../client/client.ts';
import { DEFAULT_SERVER, headerSecrets } from '../client/endpoint.ts';
import { PyrosError } from '../errors.ts';
import { CliError } from './errors/cli-error.ts';
import { loadConfig, parseHeaders, type FileConfig } from './config.ts';
import { parseDuration } from './durations.ts';

export interface CommonFlags {
  server?: string[];
  header?: string[];
  insecure?: boolean;
  config?: string;
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
  requestTimeout?: string;
}

export interface ConnectionSettings {
  servers: string[];
  headers: Record<string, string>;
  token: string | undefined;
  insecure: boolean;
}

export function resolveConnection(flags: CommonFlags, config: FileConfig, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const servers = flags.server?.length ? flags.server : env.COMFYUI_URL ? env.COMFYUI_URL.split(',').map((s) => s.trim()).filter(Boolean) : config.servers?.length ? config.servers : [config.server ?? DEFAULT_SERVER];
  const headers = { ...config.headers, ...parseHeaders(flags.header ?? []) };
  return { servers, headers, token: env.COMFYUI_TOKEN || undefined, insecure: Boolean(flags.insecure ?? config.insecure) };
}

/** Every secret the settings hold, known before any request is made (for masking). */
export function secretsOf(connection: ConnectionSettings): string[] {
  const secrets: string[] = [];
  if (connection.token) secrets.push(connection.token);
  for (const value of Object.values(connection.headers)) secrets.push(...headerSecrets(value));
  for (const server of connection.servers) {
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(server);
    const password = match?.[1]?.split(':').slice(1).join(':');
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  return secrets;
}

export async function loadSettings(flags: CommonFlags): Promise<{ config: FileConfig; connection: ConnectionSettings }> {
  const { config } = await loadConfig(flags.config);
  return { config, connection: resolveConnection(flags, config) };
}

/** Said once before connecting when certificates are not checked. */
export function insecureWarning(connection: ConnectionSettings): string | undefined {
  if (!connection.insecure) return undefined;
  return 'warning: --insecure: TLS certificates are not verified, so anyone on the network path can read or change this traffic (credentials included)';
}

function envDuration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : parseDuration(value, name);
}

/**
 * A client for one server. `--request-timeout` also bounds the WebSocket handshake; the socket's
 * ping interval and the quiet-socket check come from PYROS_PING_INTERVAL and PYROS_CHECK_INTERVAL.
 */
export function clientFor(connection: ConnectionSettings, server: string, requestTimeoutMs?: number, env: NodeJS.ProcessEnv = process.env): Client {
  return new Client({
    server,
    headers: connection.headers,
    token: connection.token,
    insecure: connection.insecure,
    requestTimeoutMs,
    connectTimeoutMs: requestTimeoutMs,
    pingIntervalMs: envDuration(env, 'PYROS_PING_INTERVAL'),
    quietCheckMs: envDuration(env, 'PYROS_CHECK_INTERVAL'),
  });
}

export function singleServer(connection: ConnectionSettings, command: string): string {
  const [server, ...rest] = connection.servers;
  if (!server) throw new PyrosError('usage', 'No server given.');
  if (rest.length > 0) throw new CliError('usage', `${command} talks to one server; got ${connection.servers.length}.`, { hint: 'Pass a single --server.' });
  return server;
}
