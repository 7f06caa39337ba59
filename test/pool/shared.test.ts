/**
 * Two pyros clients share one pool of three servers (a team, a render farm): each counts the
 * other's prompts in the servers' queues. Neither starves, no job runs twice, and every output
 * lands in its own client's folder.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SimHooks, SimServer } from '../../src/sim/index.ts';
import { jsonEvents, runPyros } from '../support/cli.ts';
import { smallWorkflow, startSims } from './helpers.ts';

describe('two clients on one pool', () => {
  let sims: SimServer[] = [];
  let root: string;
  /** Every prompt the servers ran, with the server that ran it. */
  const ran: { promptId: string; server: string }[] = [];

  before(async () => {
    const hooks = [0, 1, 2].map(
      (index): SimHooks => ({
        onNodeStart: ({ classType, promptId }) => {
          if (classType === 'KSampler') ran.push({ promptId, server: sims[index]?.url ?? '' });
        },
      }),
    );
    sims = await Promise.all(hooks.map(async (h) => (await startSims(1, { stepMs: 3, hooks: h }))[0] as SimServer));
    root = await mkdtemp(join(tmpdir(), 'pyros-shared-'));
  });
  after(async () => {
    await Promise.all(sims.map((sim) => sim.close()));
    await rm(root, { recursive: true, force: true });
  });

  it('runs both batches to the end, each job once, each output in its own folder', async () => {
    const flow = join(root, 'flow.json');
    await writeFile(flow, JSON.stringify(smallWorkflow(1, { steps: 6 })));
    const servers = sims.flatMap((sim) => ['--server', sim.url]);
    const batch = (name: string, seed: number) => runPyros(['run', flow, '--count', '12', '--seed', `${seed}+`, ...servers, '-o', join(root, name), '--json'], { timeoutMs: 120_000 });
    const [alice, bob] = await Promise.all([batch('alice', 1000), batch('bob', 5000)]);
    for (const [name, result] of [['alice', alice], ['bob', bob]] as const) {
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      const events = jsonEvents(result.stdout);
      const final = events.at(-1) as { succeeded: number; jobs: { prompt_id: string; seed: number; files: { path: string }[]; server: string }[] };
      assert.equal(final.succeeded, 12, name);
      // Each job's prompt ran exactly once on the servers, and nothing else of this client ran.
      for (const job of final.jobs) assert.equal(ran.filter((entry) => entry.promptId === job.prompt_id).length, 1, `${name} job ${job.seed}`);
      const seeds = final.jobs.map((job) => job.seed).sort((a, b) => a - b);
      assert.deepEqual(seeds, Array.from({ length: 12 }, (_, i) => (name === 'alice' ? 1000 : 5000) + i));
      // The files are in this client's folder, and their sidecars name this client's seeds.
      const dir = join(root, name);
      const metas = await Promise.all((await readdir(dir)).filter((file) => file.endsWith('.json')).map(async (file) => JSON.parse(await readFile(join(dir, file), 'utf8')) as { seed: number; prompt_id: string }));
      assert.equal(metas.length, 12);
      assert.deepEqual(metas.map((meta) => meta.seed).sort((a, b) => a - b), seeds);
      for (const job of final.jobs) for (const file of job.files) assert.ok(file.path.startsWith(dir), file.path);
    }
    // Neither starved: each client's jobs went to more than one server, and the two batches overlapped in time.
    const serversOf = (result: typeof alice) => new Set((jsonEvents(result.stdout).at(-1) as { jobs: { server: string }[] }).jobs.map((job) => job.server));
    assert.ok(serversOf(alice).size >= 2 && serversOf(bob).size >= 2, 'each client used several servers');
    assert.equal(ran.length, 24, 'no prompt ran twice, none ran that no client asked for');
  });
});
