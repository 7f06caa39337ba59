/**
 * Settings come from, in order of precedence: command-line options, environment variables, the
 * config file (`--config FILE`, else $PYROS_CONFIG, else the user's config folder), defaults.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import * as v from 'valibot';
import { PyrosError } from '../errors.ts';
import { CliError } from './errors/cli-error.ts';

const configSchema = v.strictObject({
  server: v.optional(v.string()),
  servers: v.optional(v.array(v.string())),
  workflow: v.optional(v.string()),
  output: v.optional(v.string()),
  promptInput: v.optional(v.string()),
  seedInput: v.optional(v.string()),
  set: v.optional(v.array(v.string())),
  headers: v.optional(v.record(v.string(), v.string())),
  preview: v.optional(v.string()),
  timeout: v.optional(v.union([v.string(), v.number()])),
  vars: v.optional(v.string()),
  insecure: v.optional(v.boolean()),
});

export type FileConfig = v.InferOutput<typeof configSchema>;

export function userConfigDir(): string {
  return envPaths('pyros', { suffix: '' }).config;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PYROS_CONFIG || join(userConfigDir(), 'config.json');
}

/** Reads the config file; a missing default file is an empty config, a missing explicit one an error. */
export async function loadConfig(explicitPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ config: FileConfig; path: string | undefined }> {
  const path = explicitPath ?? defaultConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && explicitPath === undefined && !env.PYROS_CONFIG) return { config: {}, path: undefined };
    throw new CliError('usage', `Cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, {
      hint: 'Create it with `pyros init`, or pass another file with --config.',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PyrosError('usage', `The config file ${path} is not valid JSON: ${(error as Error).message}.`);
  }
  const parsed = v.safeParse(configSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new CliError('usage', `The config file ${path} has an invalid entry${key ? ` "${key}"` : ''}: ${issue.message}.`, {
      hint: 'Known keys: server, servers, workflow, output, promptInput, seedInput, set, headers, preview, timeout, vars, insecure.',
    });
  }
  return { config: parsed.output, path };
}

/** Parses `--header 'Name: value'` options into an object. */
export function parseHeaders(entries: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new CliError('usage', `--header expects "Name: value" (got a value without a valid header name).`, { hint: "e.g. --header 'Authorization: Bearer …'" });
    }
    headers[name] = entry.slice(colon + 1).trim();
  }
  return headers;
}
