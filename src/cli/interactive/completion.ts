/**
 * Tab completion: `/commands`, `__variables__`, `NODE.INPUT=` after `/set` (node titles first,
 * then their inputs), `/unset` targets, `/seed` and `/cancel` words, workflow files.
 *
 * Readline inserts what all candidates share; when that adds nothing and several remain, the
 * candidates are listed here (printed through the session, so the live display is not torn).
 */
import { readdir } from 'node:fs/promises';
import type { ApiWorkflow } from '../../workflow/types.ts';
import { isLink, nodeTitle } from '../../workflow/index.ts';
import { COMMANDS } from './commands.ts';

export interface Completion {
  /** What may replace `word`. */
  candidates: string[];
  /** The end of the line (before the cursor) that the candidates replace. */
  word: string;
}

export interface CompletionSource {
  workflow: ApiWorkflow | undefined;
  stickyTargets: string[];
  variableNames(): Promise<string[]>;
}

const startsWithFold = (text: string, prefix: string): boolean => text.toLowerCase().startsWith(prefix.toLowerCase());

export async function completionsFor(source: CompletionSource, before: string): Promise<Completion> {
  if (/^\/\S*$/.test(before)) {
    return { word: before, candidates: COMMANDS.filter((c) => startsWithFold(`/${c.name}`, before)).map((c) => `/${c.name}${c.args ? ' ' : ''}`) };
  }
  const argument = /^\/(\w+)\s+([\s\S]*)$/.exec(before);
  if (argument) {
    const [, name = '', rest = ''] = argument;
    switch (name.toLowerCase()) {
      case 'set':
        return { word: rest, candidates: setCandidates(source.workflow, rest) };
      case 'unset':
        return { word: rest, candidates: source.stickyTargets.filter((t) => startsWithFold(t, rest)) };
      case 'seed':
        return { word: rest, candidates: ['random', 'keep'].filter((w) => w.startsWith(rest.toLowerCase())) };
      case 'cancel':
        return { word: rest, candidates: ['all'].filter((w) => w.startsWith(rest.toLowerCase())) };
      case 'workflow':
        return { word: rest, candidates: await fileCandidates(rest) };
      default:
        break;
    }
  }
  const token = /\S*$/.exec(before)?.[0] ?? '';
  const opens = token.split('__').length - 1;
  if (opens % 2 === 1) {
    const word = token.slice(token.lastIndexOf('__'));
    const names = await source.variableNames();
    return { word, candidates: names.map((n) => `__${n}__`).filter((c) => startsWithFold(c, word)) };
  }
  return { word: '', candidates: [] };
}

/** Node names as `/set` takes them: the title when it names one node, else the id. */
function nodeNames(workflow: ApiWorkflow): { id: string; name: string }[] {
  const titles = new Map<string, number>();
  for (const node of Object.values(workflow)) titles.set(nodeTitle(node), (titles.get(nodeTitle(node)) ?? 0) + 1);
  return Object.entries(workflow).map(([id, node]) => ({ id, name: titles.get(nodeTitle(node)) === 1 && !Object.hasOwn(workflow, nodeTitle(node)) ? nodeTitle(node) : id }));
}

function setCandidates(workflow: ApiWorkflow | undefined, typed: string): string[] {
  if (!workflow) return [];
  // Nodes by title, unless the user started typing an id.
  const byId = /^\d/.test(typed);
  const matches: { node: string; target: string }[] = [];
  for (const { id, name } of nodeNames(workflow)) {
    const node = workflow[id];
    if (!node) continue;
    const label = byId ? id : name;
    for (const input of Object.keys(node.inputs)) {
      const target = `${label}.${input}=`;
      if (!isLink(node.inputs[input]) && startsWithFold(target, typed)) matches.push({ node: label, target });
    }
  }
  const nodes = [...new Set(matches.map((m) => m.node))];
  // The node first (its title and the dot), then its inputs; a node with one input at once.
  const nodeTyped = nodes.length === 1 && (typed.length > (nodes[0] ?? '').length || matches.length === 1);
  if (!nodeTyped) return nodes.map((node) => `${node}.`);
  return matches.map((m) => m.target);
}

async function fileCandidates(typed: string): Promise<string[]> {
  const slash = typed.lastIndexOf('/');
  const dir = slash >= 0 ? typed.slice(0, slash + 1) : '';
  const entries = await readdir(dir === '' ? '.' : dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => !entry.name.startsWith('.') || typed.slice(slash + 1).startsWith('.'))
    .filter((entry) => entry.isDirectory() || entry.name.endsWith('.json'))
    .map((entry) => `${dir}${entry.name}${entry.isDirectory() ? '/' : ''}`)
    .filter((candidate) => candidate.startsWith(typed))
    .sort();
}

/** The part all candidates share (case-sensitive). */
export function commonPrefix(values: readonly string[]): string {
  if (values.length === 0) return '';
  let prefix = values[0] ?? '';
  for (const value of values) {
    while (!value.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix;
}

/** The candidates in columns, as a shell lists them. */
export function formatCandidates(candidates: readonly string[], columns: number, limit = 60): string {
  const shown = candidates.slice(0, limit);
  const width = Math.max(...shown.map((c) => c.length)) + 2;
  const perRow = Math.max(1, Math.floor(columns / width));
  const lines: string[] = [];
  for (let i = 0; i < shown.length; i += perRow) lines.push(shown.slice(i, i + perRow).map((c) => c.padEnd(width)).join('').trimEnd());
  if (candidates.length > shown.length) lines.push(`… and ${candidates.length - shown.length} more`);
  return lines.join('\n');
}

/** For readline's completer: the candidates to insert, or none after listing them. */
export async function readlineCompletion(source: CompletionSource, before: string, list: (text: string) => void, columns: number): Promise<[string[], string]> {
  const { candidates, word } = await completionsFor(source, before);
  if (candidates.length <= 1) return [candidates, word];
  const prefix = commonPrefix(candidates.map((c) => c.toLowerCase()));
  if (prefix.length > word.length) return [candidates, word];
  list(formatCandidates(candidates.map((c) => c.replace(/ $/, '')), columns));
  return [[], word];
}
