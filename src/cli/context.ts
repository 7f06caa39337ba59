/**
 * What every command needs, resolved once from flags, environment and config file (in that
 * order): the config, the servers and credentials, the secrets to mask, the time limits, and how
 * to talk to the person. Commands build their clients and pools from it.
 */
import { Client, type ClientOptions } from '../client/client.ts';
import { DEFAULT_SERVER, headerSecrets } from '../client/endpoint.ts';
import { Pool } from '../client/pool.ts';
import { PyrosError } from '../errors.ts';
import { CliError } from './errors/cli-error.ts';
import { loadConfig, parseHeaders, type FileConfig } from './config.ts';
import { parseDuration } from './durations.ts';

/** The options every command that talks to a server takes. */
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

export interface CommandContext {
  config: FileConfig;
  connection: ConnectionSettings;
  /** Every secret known (tokens, header values, URL passwords): masked in everything printed. */
  secrets: string[];
  /** `--request-timeout`: an HTTP request, a handshake or a download silent this long fails. */
  requestTimeoutMs: number | undefined;
  /** PYROS_PING_INTERVAL and PYROS_CHECK_INTERVAL. */
  pingIntervalMs: number | undefined;
  quietCheckMs: number | undefined;
  json: boolean;
  verbose: boolean;
  color: boolean;
  env: NodeJS.ProcessEnv;
}

export function resolveConnection(flags: CommonFlags, config: FileConfig, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const fromEnv = env.COMFYUI_URL ? env.COMFYUI_URL.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const servers = flags.server?.length ? flags.server : fromEnv.length > 0 ? fromEnv : config.servers?.length ? config.servers : [config.server ?? DEFAULT_SERVER];
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

/** The secrets of the flags and environment alone: what can be masked before the config is read. */
export function earlySecrets(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  try {
    return secretsOf(resolveConnection(flags, {}, env));
  } catch {
    return env.COMFYUI_TOKEN ? [env.COMFYUI_TOKEN] : [];
  }
}

function envDuration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : parseDuration(value, name);
}

/** Reads the config and settles everything else; `secrets` (from `earlySecrets`) is extended in place. */
export async function commandContext(flags: CommonFlags, secrets: string[] = earlySecrets(flags), env: NodeJS.ProcessEnv = process.env): Promise<CommandContext> {
  const { config } = await loadConfig(flags.config, env);
  const connection = resolveConnection(flags, config, env);
  secrets.push(...secretsOf(connection));
  return {
    config,
    connection,
    secrets,
    requestTimeoutMs: flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : undefined,
    pingIntervalMs: envDuration(env, 'PYROS_PING_INTERVAL'),
    quietCheckMs: envDuration(env, 'PYROS_CHECK_INTERVAL'),
    json: Boolean(flags.json),
    verbose: Boolean(flags.verbose),
    color: flags.color !== false,
    env,
  };
}

/** Said once before connecting when certificates are not checked. */
export function insecureWarning(context: CommandContext): string | undefined {
  if (!context.connection.insecure) return undefined;
  return 'warning: --insecure: TLS certificates are not verified, so anyone on the network path can read or change this traffic (credentials included)';
}

/** What every client of this command shares: credentials, TLS, time limits. `--request-timeout` also bounds the handshake. */
export function clientOptions(context: CommandContext): Omit<ClientOptions, 'server'> {
  const { connection } = context;
  const options: Omit<ClientOptions, 'server'> = { headers: connection.headers, token: connection.token, insecure: connection.insecure };
  if (context.requestTimeoutMs !== undefined) {
    options.requestTimeoutMs = context.requestTimeoutMs;
    options.connectTimeoutMs = context.requestTimeoutMs;
  }
  if (context.pingIntervalMs !== undefined) options.pingIntervalMs = context.pingIntervalMs;
  if (context.quietCheckMs !== undefined) options.quietCheckMs = context.quietCheckMs;
  return options;
}

export function createClient(context: CommandContext, server: string): Client {
  return new Client({ ...clientOptions(context), server });
}

/** The servers of the command as a pool (one server is a pool of one). */
export function createPool(context: CommandContext, servers: readonly string[] = context.connection.servers): Pool {
  const options = clientOptions(context);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  return new Pool({
    ...options,
    servers,
    // One server is the only place a job can go: its own queue orders the jobs and shows their place.
    ...(servers.length === 1 ? { depth: Number.POSITIVE_INFINITY } : {}),
    connectTimeoutMs,
    // Longer than the handshake's own limit, whose error says more.
    probeTimeoutMs: connectTimeoutMs + 2_000,
    pingIntervalMs: context.pingIntervalMs ?? (servers.length > 1 ? 5_000 : 15_000),
    quietCheckMs: context.quietCheckMs,
  });
}

/** The one server of a command that talks to one (server commands). */
export function singleServer(context: CommandContext, command: string): string {
  const [server, ...rest] = context.connection.servers;
  if (!server) throw new PyrosError('usage', 'No server given.');
  if (rest.length > 0) throw new CliError('usage', `${command} talks to one server; got ${context.connection.servers.length}.`, { hint: 'Pass a single --server.' });
  return server;
}
