/**
 * Prompt variables as interactive mode uses them (completion, `/vars`, expansion).
 *
 * Interim stand-in with the same API as `src/vars` (listing `NAME.txt`/`NAME.md` files, one
 * entry per line; no expansion yet). When `src/vars` is in, this whole file becomes:
 *
 *   export { variableDirs, listVariables, expandPrompt, type VariableInfo, type Expansion } from '../../vars/index.ts';
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { userConfigDir } from '../config.ts';

export interface VariableInfo {
  name: string;
  files: string[];
  entries: number;
  samples: string[];
}

export interface Expansion {
  text: string;
  template: string;
  choices: { variable: string; index: number; value: string }[];
}

const EXTENSIONS = ['.txt', '.md'];
const MAX_DEPTH = 8;

export function variableDirs(options: { varsDir?: string; env?: NodeJS.ProcessEnv } = {}): string[] {
  const dirs = options.varsDir ? [resolve(options.varsDir)] : [];
  dirs.push(join(userConfigDir(), 'vars'));
  return dirs.filter((dir, index) => dirs.indexOf(dir) === index);
}

async function walk(dir: string, prefix: string, depth: number, found: Map<string, string>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isDirectory() && depth < MAX_DEPTH) await walk(join(dir, entry.name), `${prefix}${entry.name}/`, depth + 1, found);
    const ext = EXTENSIONS.find((e) => entry.name.endsWith(e));
    if (entry.isFile() && ext) {
      const name = prefix + entry.name.slice(0, -ext.length);
      if (!found.has(name)) found.set(name, join(dir, entry.name));
    }
  }
}

export async function listVariables(dirs: string[]): Promise<VariableInfo[]> {
  const found = new Map<string, string>();
  for (const dir of dirs) await walk(dir, '', 0, found);
  const infos: VariableInfo[] = [];
  for (const [name, path] of found) {
    const text = await readFile(path, 'utf8').catch(() => '');
    const entries = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    infos.push({ name, files: [path], entries: entries.length, samples: entries.slice(0, 3) });
  }
  return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function expandPrompt(template: string, _options: { seed: number; dirs: string[]; now?: Date }): Promise<Expansion> {
  return { text: template, template, choices: [] };
}
