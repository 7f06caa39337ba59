/**
 * What a batch is made of: every prompt × `--count`, each job with its seed from the seed
 * policy. Pure functions, so the expansion can be tested without a server.
 *
 *   --seed random   a fresh seed per job (each one reported)
 *   --seed N        the same seed for every job
 *   --seed N+       N, N+1, N+2, … along --count; every prompt gets the same series, so the
 *                   images of two prompts can be compared seed for seed
 */
import { readFile } from 'node:fs/promises';
import { PyrosError } from '../../errors.ts';
import { CliError } from '../errors/cli-error.ts';
import { parseSeed, randomSeed } from '../../workflow/index.ts';

export type SeedPolicy =
  | { kind: 'keep' } // the workflow's own seeds
  | { kind: 'random' }
  | { kind: 'fixed'; value: number }
  | { kind: 'sequence'; start: number };

export interface BatchItem {
  /** 0-based position in the batch. */
  index: number;
  /** The prompt text, or undefined to keep the workflow's. */
  prompt: string | undefined;
  /** 0-based index of the prompt among those given. */
  promptIndex: number;
  /** 0-based repetition of that prompt (0 … count-1). */
  repeat: number;
  /** The seed for every seed input, or undefined to keep the workflow's. */
  seed: number | undefined;
}

export function parseSeedPolicy(text: string | undefined): SeedPolicy {
  if (text === undefined) return { kind: 'keep' };
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'random') return { kind: 'random' };
  if (trimmed.endsWith('+')) {
    const start = trimmed.slice(0, -1);
    if (!/^\d+$/.test(start.trim())) {
      throw new CliError('usage', `Invalid seed "${text}": N+ needs a whole number N (e.g. --seed 1000+).`, { hint: 'Use --seed N, --seed N+ or --seed random.' });
    }
    return { kind: 'sequence', start: parseSeed(start) };
  }
  return { kind: 'fixed', value: parseSeed(trimmed) };
}

export function describeSeedPolicy(policy: SeedPolicy): string {
  switch (policy.kind) {
    case 'keep':
      return "the workflow's seed";
    case 'random':
      return 'a random seed per job';
    case 'fixed':
      return `seed ${policy.value} for every job`;
    case 'sequence':
      return `seeds ${policy.start}, ${policy.start + 1}, …`;
  }
}

export function parseCount(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new PyrosError('usage', `--count must be a whole number from 1 to 100000 (got "${text}").`);
  }
  return n;
}

/** One prompt per line; blank lines are skipped, and so are lines starting with `#`. */
export async function readPromptsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError('usage', `Cannot read the prompts file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, {
      hint: 'Give a text file with one prompt per line to --prompts.',
    });
  }
  const prompts = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (prompts.length === 0) throw new CliError('usage', `The prompts file ${path} has no prompt in it.`, { hint: 'Write one prompt per line.' });
  return prompts;
}

/** Every prompt × count, prompt by prompt; seeds from the policy. */
export function expandBatch(options: { prompts: readonly (string | undefined)[]; count: number; seed: SeedPolicy; random?: () => number }): BatchItem[] {
  const prompts = options.prompts.length > 0 ? options.prompts : [undefined];
  const random = options.random ?? randomSeed;
  const items: BatchItem[] = [];
  if (options.seed.kind === 'sequence' && options.seed.start > Number.MAX_SAFE_INTEGER - (options.count - 1)) {
    throw new PyrosError('usage', `--seed ${options.seed.start}+ with --count ${options.count} goes past ${Number.MAX_SAFE_INTEGER}, the largest seed a JSON number holds exactly.`);
  }
  for (const [promptIndex, prompt] of prompts.entries()) {
    for (let repeat = 0; repeat < options.count; repeat++) {
      const policy = options.seed;
      const seed = policy.kind === 'random' ? random() : policy.kind === 'fixed' ? policy.value : policy.kind === 'sequence' ? policy.start + repeat : undefined;
      items.push({ index: items.length, prompt, promptIndex, repeat, seed });
    }
  }
  return items;
}
