/**
 * The prompt history, kept across sessions in `<data folder>/history` (PYROS_HISTORY overrides
 * the path; an empty PYROS_HISTORY keeps no history). One entry per line, oldest first, at most
 * HISTORY_SIZE entries; readable by the user only (prompts can be private).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import envPaths from 'env-paths';

export const HISTORY_SIZE = 1000;

export function historyPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PYROS_HISTORY !== undefined) return env.PYROS_HISTORY === '' ? undefined : env.PYROS_HISTORY;
  return join(envPaths('pyros', { suffix: '' }).data, 'history');
}

/** Newest first, as readline keeps it. */
export function loadHistory(path: string | undefined): string[] {
  if (!path) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-HISTORY_SIZE)
    .reverse();
}

/** Writes readline's history (newest first); a failure is reported once, not thrown. */
export function saveHistory(path: string | undefined, history: readonly string[]): Error | undefined {
  if (!path) return undefined;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const lines = history.slice(0, HISTORY_SIZE).filter((line) => !line.includes('\n')).reverse();
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
    renameSync(temp, path);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
