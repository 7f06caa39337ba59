/** `pyros run --count` over several servers, as a user runs it (the built CLI against simulators). */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NodeError, startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import { spawn } from 'node:child_process';
import { closedPort, PYROS_BIN, runPyros } from '../support/cli.ts';
import { WAIT_LIMIT_MS } from '../support/wait.ts';
import { smallWorkflow } from './helpers.ts';

describe('pyros run --count over a pool', () => {
  let root: string;
  let workflowFile: string;
  const sims: SimServer[] = [];
  const hooks: SimHooks = {};

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pyros-batch-'));
    workflowFile = join(root, 'flow.json');
    await writeFile(workflowFile, JSON.stringify(smallWorkflow(1)));
    sims.push(await startSim({ port: 0, stepMs: 1, previews: false }), await startSim({ port: 0, stepMs: 1, previews: false, hooks }));
  });
  after(async () => {
    await Promise.all(sims.map((sim) => sim.close()));
    await rm(root, { recursive: true, force: true });
  });

  it('runs every prompt × count with consecutive seeds and says which server ran each job', async () => {
    const out = join(root, 'grid');
    const result = await runPyros(['run', workflowFile, '--count', '3', '--seed', '7+', '--prompt', 'a fox', '--prompt', 'a crow', ...sims.flatMap((sim) => ['--server', sim.url]), '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout.split('\n').filter((line) => /^\d+\s/.test(line));
    assert.equal(rows.length, 6, result.stdout);
    for (const [i, row] of rows.entries()) {
      assert.match(row, new RegExp(`^${i + 1}\\s+127\\.0\\.0\\.1:(${sims.map((sim) => sim.port).join('|')})\\s+${7 + (i % 3)}\\s+${out.replace(/[/\\]/g, '.')}`));
    }
    assert.match(result.stdout, /done: 6 of 6 jobs succeeded; 6 files saved/);
    const sidecars = (await readdir(out)).filter((name) => name.endsWith('.json'));
    const metas = await Promise.all(sidecars.map(async (name) => JSON.parse(await readFile(join(out, name), 'utf8'))));
    const seen = metas.map((meta) => `${meta.prompt}/${meta.seed}`).sort();
    assert.deepEqual(seen, ['a crow/7', 'a crow/8', 'a crow/9', 'a fox/7', 'a fox/8', 'a fox/9']);
    assert.ok(metas.every((meta) => sims.some((sim) => sim.url === meta.server)), 'each sidecar names the server that ran it');
    assert.deepEqual(new Set(metas.map((meta) => meta.server)).size, 2, 'both servers took jobs');
  });

  it('adds the server to every --json event and gives each job a fresh random seed', async () => {
    const result = await runPyros(['run', workflowFile, '--count', '4', '--seed', 'random', ...sims.flatMap((sim) => ['--server', sim.url]), '-o', join(root, 'json'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    // Once a job is dispatched (its `job` event), every event of it names the server that runs it.
    const dispatched = new Set<number>();
    let checked = 0;
    for (const event of events.filter((e) => typeof e.job === 'number')) {
      if (event.event === 'job') dispatched.add(event.job);
      if (!dispatched.has(event.job)) continue;
      assert.ok(typeof event.server === 'string' && event.server.startsWith('http://127.0.0.1:'), JSON.stringify(event));
      checked += 1;
    }
    assert.ok(checked > 8, `events checked: ${checked}`);
    assert.equal(dispatched.size, 4);
    const done = events.filter((event) => event.event === 'job_done');
    assert.equal(done.length, 4);
    assert.equal(new Set(done.map((event) => event.seed)).size, 4, 'four different seeds');
    const final = events.at(-1);
    assert.equal(final.event, 'result');
    assert.equal(final.ok, true);
    assert.deepEqual(final.jobs.map((job: { job: number }) => job.job), [1, 2, 3, 4]);
  });

  it('exits 10 when some jobs fail, lists them, and keeps the others', async () => {
    let prompts = 0;
    hooks.onNodeStart = ({ classType }) => {
      if (classType === 'KSampler' && ++prompts % 2 === 1) throw new NodeError('RuntimeError', 'simulated failure');
    };
    try {
      const result = await runPyros(['run', workflowFile, '--count', '6', '--seed', '1+', ...sims.flatMap((sim) => ['--server', sim.url]), '-o', join(root, 'partial')]);
      assert.equal(result.code, 10, result.stderr);
      const failedRows = result.stdout.split('\n').filter((line) => /^\d+\s.*✖/.test(line));
      assert.ok(failedRows.length > 0 && failedRows.length < 6, result.stdout);
      for (const row of failedRows) assert.match(row, new RegExp(`127\\.0\\.0\\.1:${sims[1]?.port}.*simulated failure`));
      assert.match(result.stdout, new RegExp(`finished: ${6 - failedRows.length} of 6 jobs succeeded, ${failedRows.length} failed`));
    } finally {
      delete hooks.onNodeStart;
    }
  });

  it('uses the servers that answer when one never does, and exits 3 when none does', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const ok = await runPyros(['run', workflowFile, '--count', '2', '--server', dead, '--server', sims[0]!.url, '-o', join(root, 'dead')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /down \(connection refused\)/);
    const none = await runPyros(['run', workflowFile, '--count', '2', '--server', dead, '-o', join(root, 'none')]);
    assert.equal(none.code, 3, none.stderr);
    assert.match(none.stdout, /✖ Cannot connect to ComfyUI at http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  it('finishes a batch over `pyros sim --instances 3` when the fault kills one instance halfway', async () => {
    const sim = spawn(process.execPath, [PYROS_BIN, 'sim', '--port', '0', '--instances', '3', '--step-ms', '5', '--no-previews', '--fault', '2:kill@2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const urls = await new Promise<string[]>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`sim did not start: ${out}`)), WAIT_LIMIT_MS);
        sim.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const found = [...out.matchAll(/listening on (http:\/\/\S+)/g)].map((m) => m[1] as string);
          if (found.length === 3) {
            clearTimeout(timer);
            resolve(found);
          }
        });
      });
      const result = await runPyros(['run', workflowFile, '--count', '9', '--seed', '50+', ...urls.flatMap((url) => ['--server', url]), '-o', join(root, 'fault'), '--json'], { timeoutMs: 60_000 });
      assert.equal(result.code, 0, `${result.stderr}\n${result.stdout.split('\n').filter((line) => /job_failed|"error"/.test(line)).join('\n')}`);
      const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      const moved = events.filter((event) => event.event === 'moved');
      assert.ok(moved.length >= 1 && moved.every((event) => event.server === urls[1]), 'jobs moved off the killed instance');
      const final = events.at(-1);
      assert.equal(final.succeeded, 9);
      assert.deepEqual(final.jobs.map((job: { job: number }) => job.job), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'each job once');
      const movedJobs = final.jobs.filter((job: { attempts: { outcome: string }[] }) => job.attempts.some((attempt) => attempt.outcome === 'moved'));
      assert.ok(movedJobs.length >= 1);
      for (const job of movedJobs) assert.notEqual(job.server, urls[1]);
    } finally {
      sim.kill('SIGTERM');
      await new Promise((resolve) => sim.once('exit', resolve));
    }
  });
});
