/**
 * A batch killed with SIGKILL at each point of a job's life, then `pyros resume`: every job runs
 * once on the server and each of its files is saved once, byte for byte, with its sidecars.
 * The simulator's hooks hold the job at the point; the test waits for it, then kills.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { gate, holdNode, QUICK_CHECKS, runPyros, stallView, startPyros, tinyWorkflow, useFaultSuite, type RunningPyros } from '../support/faults.ts';
import { untilAsync } from '../support/wait.ts';
import { assertEachJobOnce, journalLines, KILL_AT, runsBySeed, seedsFrom } from './helpers.ts';

const COUNT = 4;

describe('resume: a batch killed with SIGKILL finishes with each job once', () => {
  const suite = useFaultSuite('resume-kill', { stepMs: 2, previews: false, workflow: tinyWorkflow({ steps: 4 }) });

  function startBatch(name: string, base: number, env: NodeJS.ProcessEnv = {}): { out: string; seeds: number[]; running: RunningPyros } {
    const out = join(suite.root, name);
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--count', String(COUNT), '--seed', `${base}+`, '-o', out], { env: { ...QUICK_CHECKS, ...env } });
    return { out, seeds: seedsFrom(base, COUNT), running };
  }

  async function kill(running: RunningPyros): Promise<void> {
    running.signal('SIGKILL');
    const result = await running.result;
    assert.equal(result.code, null, `it was killed, not ended: ${result.stderr}`);
  }

  async function resume(out: string): Promise<string> {
    suite.sim.hooks = {};
    const result = await runPyros(['resume', out, '--server', suite.sim.url], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const again = await runPyros(['resume', out, '--server', suite.sim.url]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to resume/);
    return result.stdout;
  }

  const posts = (): number => suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length;

  it('before any job was submitted (the server did not take the WebSocket yet)', async () => {
    const upgrades: Duplex[] = [];
    suite.sim.hooks = { onSocketUpgrade: ({ socket }) => upgrades.push(socket) > 0 };
    const { out, seeds, running } = startBatch('before-submit', 1000);
    await running.whileRunning(untilAsync(async () => upgrades.length > 0 && (await journalLines(out)).some((line) => line.includes('"type":"jobs"'))));
    await kill(running);
    for (const socket of upgrades) socket.destroy();
    assert.equal(posts(), 0);
    const stdout = await resume(out);
    assert.match(stdout, /done: 4 of 4 jobs succeeded/);
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('between submit and answer, the server having queued the prompts', async () => {
    suite.sim.hooks = {
      onRequest: ({ method, path, res }) => {
        // The server queues the prompt; its answer never leaves.
        if (method === 'POST' && path === '/prompt') Object.assign(res, { writeHead: () => res, end: () => res });
        return false;
      },
    };
    const { out, seeds, running } = startBatch('unanswered', 2000);
    await running.whileRunning(untilAsync(async () => [...(await runsBySeed(suite.sim, seeds)).values()].some((runs) => runs.length > 0)));
    await kill(running);
    await resume(out);
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('between submit and answer, the request never handled (the prompt is not on the server)', async () => {
    suite.sim.hooks = { onRequest: ({ method, path }) => method === 'POST' && path === '/prompt' };
    const { out, seeds, running } = startBatch('unhandled', 3000);
    await running.whileRunning(untilAsync(async () => posts() > 0 && (await journalLines(out)).some((line) => line.includes('"type":"dispatched"'))));
    await kill(running);
    await resume(out);
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('while a job runs (and another waits in the queue, and two were not sent yet)', async () => {
    const held = gate();
    const reached = gate();
    suite.sim.hooks = holdNode('3', held, reached);
    const { out, seeds, running } = startBatch('running', 4000);
    await running.whileRunning(reached.wait());
    await kill(running);
    held.open();
    await resume(out);
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('in the middle of a download', async () => {
    suite.sim.hooks = stallView(100);
    const { out, seeds, running } = startBatch('downloading', 5000);
    await running.whileRunning(untilAsync(async () => (await readdir(out).catch(() => [])).some((name) => name.startsWith('.pyros-tmp-'))));
    await kill(running);
    await resume(out);
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('between a file taking its name and its sidecars', async () => {
    const { out, seeds, running } = startBatch('named', 6000, { NODE_OPTIONS: `--import=${KILL_AT}`, PYROS_KILL_AFTER_LINK: '_\\.png$' });
    const killed = await running.result;
    assert.equal(killed.code, null, killed.stderr);
    const names = await readdir(out);
    const png = names.find((name) => name.endsWith('.png'));
    assert.ok(png, 'an output took its name');
    assert.ok(!names.includes(png.replace(/\.png$/, '.json')), 'its sidecar was not written yet');
    const stdout = await resume(out);
    assert.match(stdout, /done: \d of \d jobs? succeeded/);
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('at a random point of its journal', async (t) => {
    const lines = 3 + Math.floor(Math.random() * 4 * COUNT);
    t.diagnostic(`killed once the journal had ${lines} lines`);
    const { out, seeds, running } = startBatch('random', 7000);
    await untilAsync(async () => running.child.exitCode !== null || (await journalLines(out)).length >= lines);
    if (running.child.exitCode === null) await kill(running);
    await resume(out);
    await assertEachJobOnce(suite.sim, out, seeds);
  });
});
