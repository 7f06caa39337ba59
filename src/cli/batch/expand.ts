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
import { expandJobs, type JobSpec, type SeedPolicy } from '../../pipeline/index.ts';
import { CliError } from '../errors/cli-error.ts';
import { parseSeed } from '../../workflow/index.ts';

export type { SeedPolicy };
/** A job of the batch (its prompt, seed and place). */
export type BatchItem = JobSpec;

export function parseSeedPolicy(text: string | undefined): SeedPolicy {
  if (text === undefined) return { kind: 'keep' };
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'random') return { kind: 'random' };
  if (trimmed.toLowerCase() === 'keep') return { kind: 'keep' };
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
    throw new CliError('usage', `--count must be a whole number from 1 to 100000 (got "${text}").`);
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
  if (options.seed.kind === 'sequence' && options.seed.start > Number.MAX_SAFE_INTEGER - (options.count - 1)) {
    throw new CliError('usage', `--seed ${options.seed.start}+ with --count ${options.count} goes past ${Number.MAX_SAFE_INTEGER}, the largest seed a JSON number holds exactly.`);
  }
  return expandJobs(options);
}
