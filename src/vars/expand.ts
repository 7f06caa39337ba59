/**
 * Expanding the variables of a prompt: `__name__` (a random entry), `__name:3__` (the third),
 * `__folder/*__` (a random entry of any file in the folder), `__date__`, `__time__`, `__seed__`.
 * Entries may hold variables themselves; they are expanded in turn, up to a depth limit.
 */
import { PyrosError } from '../errors.ts';
import { editDistance } from '../workflow/edit-distance.ts';
import { findFolderFiles, findVariableFile, isVariableFolder, readEntries, type VariableFile } from './files.ts';
import { listVariables } from './list.ts';
import { occurrenceRandom, pick } from './random.ts';
import { parseReference, SYSTEM_VARIABLES, tokenPattern, type Reference } from './syntax.ts';

export interface Choice {
  /** The variable the value comes from, such that `__variable:index__` gives it again. */
  variable: string;
  /** The entry's number in its file, counting from 1 (blank and comment lines not counted). */
  index: number;
  value: string;
}

export interface Expansion {
  /** The prompt with every variable replaced: what is submitted and saved in the .txt sidecar. */
  text: string;
  /** The prompt as written. */
  template: string;
  /** Every file variable chosen, in the order they were expanded (outer before inner). */
  choices: Choice[];
}

export interface ExpandOptions {
  seed: number;
  dirs: string[];
  /** For `__date__` and `__time__` (local time); default now. */
  now?: Date;
}

/** How many levels of variables inside variables are expanded. */
export const MAX_DEPTH = 10;

export function hasVariables(text: string): boolean {
  return tokenPattern().test(text);
}

const pad = (value: number): string => String(value).padStart(2, '0');

function systemValue(name: (typeof SYSTEM_VARIABLES)[number], options: ExpandOptions): string {
  const now = options.now ?? new Date();
  if (name === 'date') return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  if (name === 'time') return `${pad(now.getHours())}-${pad(now.getMinutes())}-${pad(now.getSeconds())}`;
  return String(options.seed);
}

interface Candidate {
  file: VariableFile;
  entries: string[];
}

export async function expandPrompt(template: string, options: ExpandOptions): Promise<Expansion> {
  const choices: Choice[] = [];
  const cache = new Map<string, string[]>();
  let occurrence = 0;

  const entriesOf = async (file: VariableFile): Promise<string[]> => {
    let entries = cache.get(file.path);
    if (entries === undefined) {
      entries = await readEntries(file);
      cache.set(file.path, entries);
    }
    return entries;
  };

  const candidates = async (ref: Exclude<Reference, { kind: 'system' }>): Promise<Candidate[]> => {
    if (ref.kind === 'folder') {
      const files = await findFolderFiles(options.dirs, ref.folder);
      if (files === undefined) throw await unknownVariable(ref, `${ref.folder}/*`, options.dirs);
      if (files.length === 0) {
        throw new PyrosError('usage', `${ref.text}: the folder "${ref.folder}" holds no .txt or .md files.`, {
          reason: 'variable-folder-empty',
          fields: { variable: ref.text, name: ref.folder },
        });
      }
      return Promise.all(files.map(async (file) => ({ file, entries: await entriesOf(file) })));
    }
    const file = await findVariableFile(options.dirs, ref.name);
    if (file === undefined) {
      if (await isVariableFolder(options.dirs, ref.name)) {
        throw new PyrosError('usage', `${ref.text}: "${ref.name}" is a folder of variables, not a variable.`, {
          reason: 'variable-is-folder',
          fields: { variable: ref.text, name: ref.name },
        });
      }
      throw await unknownVariable(ref, ref.name, options.dirs);
    }
    return [{ file, entries: await entriesOf(file) }];
  };

  const expand = async (text: string, chain: string[]): Promise<string> => {
    let out = '';
    let last = 0;
    for (const match of text.matchAll(tokenPattern())) {
      out += text.slice(last, match.index);
      last = match.index + match[0].length;
      const ref = parseReference(match[1] ?? '');
      if (ref.kind === 'system') {
        out += systemValue(ref.name, options);
        continue;
      }
      const key = ref.kind === 'folder' ? `${ref.folder}/*` : ref.name;
      if (chain.includes(key)) {
        const path = [...chain.slice(chain.indexOf(key)), key].map((name) => `__${name}__`).join(' → ');
        throw new PyrosError('usage', `Variable cycle: ${path}.`, {
          reason: 'variable-cycle',
          fields: { variable: ref.text, name: key, chain: [...chain.slice(chain.indexOf(key)), key] },
        });
      }
      if (chain.length >= MAX_DEPTH) {
        const path = [...chain, key].map((name) => `__${name}__`).join(' → ');
        throw new PyrosError('usage', `Variables nest more than ${MAX_DEPTH} levels deep: ${path}.`, {
          reason: 'variable-too-deep',
          fields: { variable: ref.text, name: key, chain: [...chain, key], limit: MAX_DEPTH },
        });
      }
      const found = await candidates(ref);
      const total = found.reduce((sum, c) => sum + c.entries.length, 0);
      if (total === 0) {
        const where = found.map((c) => c.file.path).join(', ');
        throw new PyrosError('usage', `${ref.text}: ${where} has no entries (blank lines and # comments do not count).`, {
          reason: 'variable-empty',
          fields: { variable: ref.text, name: key, path: where },
        });
      }
      let chosen: { file: VariableFile; index: number; value: string };
      if (ref.kind === 'file' && ref.index !== undefined) {
        const candidate = found[0] as Candidate;
        const value = candidate.entries[ref.index - 1];
        if (value === undefined) {
          throw new PyrosError('usage', `${ref.text}: "${ref.name}" has ${candidate.entries.length} entr${candidate.entries.length === 1 ? 'y' : 'ies'} (${candidate.file.path}), so there is no entry ${ref.index}.`, {
            reason: 'variable-index',
            fields: { variable: ref.text, name: ref.name, path: candidate.file.path, count: candidate.entries.length },
          });
        }
        chosen = { file: candidate.file, index: ref.index, value };
      } else {
        let index = pick(occurrenceRandom(options.seed, template, occurrence++), total);
        let candidate = found[0] as Candidate;
        for (const c of found) {
          candidate = c;
          if (index < c.entries.length) break;
          index -= c.entries.length;
        }
        chosen = { file: candidate.file, index: index + 1, value: candidate.entries[index] as string };
      }
      choices.push({ variable: chosen.file.name, index: chosen.index, value: chosen.value });
      const nested = ref.kind === 'folder' ? [...chain, key, chosen.file.name] : [...chain, key];
      out += await expand(chosen.value, nested);
    }
    return out + text.slice(last);
  };

  const text = await expand(template, []);
  return { text, template, choices };
}

/** "Unknown variable", with the closest names there are. */
async function unknownVariable(ref: Reference, name: string, dirs: readonly string[]): Promise<PyrosError> {
  const known = [...(await listVariables([...dirs])).map((info) => info.name), ...SYSTEM_VARIABLES];
  const query = name.toLowerCase();
  const scored = known
    .map((candidate) => {
      const lower = candidate.toLowerCase();
      const base = lower.slice(lower.lastIndexOf('/') + 1);
      const distance = Math.min(editDistance(query, lower), editDistance(query, base));
      const contains = query.length >= 3 && (lower.includes(query) || query.includes(base));
      return { candidate, score: contains ? Math.min(distance, 1) : distance };
    })
    .filter(({ candidate, score }) => score <= Math.max(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.score - b.score || (a.candidate < b.candidate ? -1 : 1))
    .slice(0, 3)
    .map(({ candidate }) => candidate);
  const what = ref.kind === 'folder' ? `no folder "${name.slice(0, -2)}"` : `no ${name}.txt or ${name}.md`;
  return new PyrosError('usage', `Unknown variable ${ref.text}: ${what} in the variable folders (${dirs.join(', ')}).`, {
    reason: 'variable-unknown',
    fields: { variable: ref.text, name, candidates: scored, ...(dirs[0] === undefined ? {} : { path: dirs[0] }) },
  });
}
