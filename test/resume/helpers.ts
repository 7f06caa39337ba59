/** What the resume tests check after a killed batch and `pyros resume`: every job ran once, every file is saved once. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultSim } from '../support/faults.ts';
import { savedOutputs } from '../support/faults.ts';

export const KILL_AT = fileURLToPath(new URL('../support/kill-at.mjs', import.meta.url));

interface HistoryEntry {
  prompt: [number, string, Record<string, { inputs: Record<string, unknown> }>, Record<string, unknown>, string[]];
  outputs: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }>;
  status?: { status_str?: string };
}

/** The server's history entries of each seed (of node 3, the sampler), by seed. */
export async function runsBySeed(sim: Pick<FaultSim, 'url'>, seeds: readonly number[]): Promise<Map<number, { promptId: string; status: string | undefined; files: string[] }[]>> {
  const history = (await (await fetch(`${sim.url}/history`)).json()) as Record<string, HistoryEntry>;
  const runs = new Map<number, { promptId: string; status: string | undefined; files: string[] }[]>(seeds.map((seed) => [seed, []]));
  for (const [promptId, entry] of Object.entries(history)) {
    const seed = entry.prompt[2]['3']?.inputs.seed as number;
    const files = Object.values(entry.outputs).flatMap((output) => (output.images ?? []).map((image) => join(image.subfolder, image.filename)));
    runs.get(seed)?.push({ promptId, status: entry.status?.status_str, files });
  }
  return runs;
}

/**
 * Each seed ran exactly once on the server (one history entry, a success), and each file it made
 * is saved in `out` exactly once, byte for byte, with its .txt and .json sidecars (the .json names
 * that prompt and seed). Nothing else was saved, and no temporary file is left.
 */
export async function assertEachJobOnce(sim: Pick<FaultSim, 'url' | 'dataDir'>, out: string, seeds: readonly number[]): Promise<void> {
  const runs = await runsBySeed(sim, seeds);
  const saved = await savedOutputs(out);
  let expectedFiles = 0;
  for (const [seed, entries] of runs) {
    assert.equal(entries.length, 1, `seed ${seed} ran ${entries.length} times on the server: ${JSON.stringify(entries)}`);
    const [run] = entries as [{ promptId: string; status: string | undefined; files: string[] }];
    assert.equal(run.status, 'success', `seed ${seed}`);
    for (const file of run.files) {
      expectedFiles += 1;
      const bytes = await readFile(join(sim.dataDir, 'output', file));
      const copies = [...saved].filter(([, data]) => data.equals(bytes));
      assert.equal(copies.length, 1, `${file} (seed ${seed}) is saved ${copies.length} times in ${out}`);
      const [name] = copies[0] as [string, Buffer];
      const stem = name.replace(/\.[^.]+$/, '');
      const meta = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8')) as { prompt_id: string; seed: number };
      assert.equal(meta.prompt_id, run.promptId, `${stem}.json names the prompt that made it`);
      assert.equal(meta.seed, seed);
      assert.ok((await readFile(join(out, `${stem}.txt`), 'utf8')).length > 0, `${stem}.txt`);
    }
  }
  assert.equal(saved.size, expectedFiles, `saved: ${[...saved.keys()].join(', ')}`);
  const leftovers = (await readdir(out)).filter((name) => name.startsWith('.pyros-tmp-'));
  assert.deepEqual(leftovers, [], 'temporary files were left');
}

/** The lines of the (only) journal in `out`. */
export async function journalLines(out: string): Promise<string[]> {
  const path = await journalPath(out);
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
}

export async function journalPath(out: string): Promise<string> {
  const folder = join(out, '.pyros-journal');
  const names = (await readdir(folder).catch(() => [] as string[])).filter((name) => name.endsWith('.ndjson'));
  assert.ok(names.length <= 1, `several journals in ${folder}`);
  return join(folder, names[0] ?? 'none.ndjson');
}

export function seedsFrom(base: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => base + i);
}
