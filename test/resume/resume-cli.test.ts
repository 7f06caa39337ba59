/**
 * `pyros resume` around the kill itself: a finished batch, two resumes at once, a journal cut in
 * the middle of a line or damaged, and how `pyros run` tells the way back after Ctrl-C.
 */
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readRunJournal } from '../../src/pipeline/journal-state.ts';
import { gate, holdNode, QUICK_CHECKS, runPyros, startPyros, tinyWorkflow, useFaultSuite, type RunningPyros } from '../support/faults.ts';
import { assertEachJobOnce, journalLines, journalPath, runsBySeed, seedsFrom } from './helpers.ts';

const COUNT = 3;

describe('pyros resume', () => {
  const suite = useFaultSuite('resume-cli', { stepMs: 2, previews: false, workflow: tinyWorkflow({ steps: 4 }) });

  function batch(out: string, base: number): RunningPyros {
    return startPyros(['run', suite.flow, '--server', suite.sim.url, '--count', String(COUNT), '--seed', `${base}+`, '-o', out], { env: QUICK_CHECKS });
  }

  /** A batch killed while its first job runs (held at the sampler until `held` opens). */
  async function killedWhileRunning(name: string, base: number): Promise<{ out: string; held: ReturnType<typeof gate> }> {
    const held = gate();
    const reached = gate();
    suite.sim.hooks = holdNode('3', held, reached);
    const out = join(suite.root, name);
    const running = batch(out, base);
    await running.whileRunning(reached.wait());
    running.signal('SIGKILL');
    await running.result;
    return { out, held };
  }

  const posts = (): number => suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length;

  it('of a finished batch says so and does nothing', async () => {
    const out = join(suite.root, 'finished');
    const done = await batch(out, 11_000).result;
    assert.equal(done.code, 0, done.stderr);
    const path = await journalPath(out);
    const before = await readFile(path, 'utf8');
    const listing = (await readdir(out)).sort();
    const sent = posts();
    const result = await runPyros(['resume', out, '--server', suite.sim.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`nothing to resume: every run in ${out} finished`));
    assert.equal(posts(), sent, 'nothing was submitted');
    assert.equal(await readFile(path, 'utf8'), before, 'the journal is unchanged');
    assert.deepEqual((await readdir(out)).sort(), listing);
    await assertEachJobOnce(suite.sim, out, seedsFrom(11_000, COUNT));
  });

  it('in a folder without a journal is a usage error that says where it looked', async () => {
    const result = await runPyros(['resume', join(suite.root, 'empty'), '--server', suite.sim.url]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /nothing to resume in .*empty: no run kept a journal there/);
  });

  it('twice at once: the second is refused while the first runs, and each job still runs once', async () => {
    const { out, held } = await killedWhileRunning('twice', 12_000);
    const first = startPyros(['resume', out, '--server', suite.sim.url], { env: QUICK_CHECKS });
    try {
      await first.waitFor(/resuming run/);
      const second = await runPyros(['resume', out, '--server', suite.sim.url]);
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`is locked by process ${first.child.pid} \\(since [^)]+\\), which is still running`));
      assert.match(second.stderr, /hint: Wait for it to finish/);
    } finally {
      held.open();
    }
    const result = await first.result;
    assert.equal(result.code, 0, result.stderr);
    await assertEachJobOnce(suite.sim, out, seedsFrom(12_000, COUNT));
  });

  it('reads a journal whose last line was cut by the kill up to its last complete entry', async () => {
    const { out, held } = await killedWhileRunning('torn', 13_000);
    held.open();
    const path = await journalPath(out);
    // What a power loss leaves: the start of an entry whose write never finished.
    await appendFile(path, '{"type":"dispatched","plan":0,"job":2,"prompt_id":"4f2a');
    const result = await runPyros(['resume', out, '--server', suite.sim.url], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    await assertEachJobOnce(suite.sim, out, seedsFrom(13_000, COUNT));
    const state = await readRunJournal(path);
    assert.equal(state.cutBytes, 0, 'the cut part was dropped when the journal was appended to');
    assert.equal(state.ended, true);
  });

  it('finishes a batch whose journal lost its last entries mid-line, without running or saving anything again', async () => {
    const out = join(suite.root, 'cut-end');
    const seeds = seedsFrom(14_000, COUNT);
    assert.equal((await batch(out, 14_000).result).code, 0);
    const path = await journalPath(out);
    const lines = await journalLines(out);
    assert.match(lines.at(-1) ?? '', /"type":"end"/);
    // Keep everything before the last two lines (a job's end and the batch's), and half of the job's end.
    const kept = lines.slice(0, -2).join('\n').length + 1;
    await truncate(path, kept + Math.floor((lines.at(-2) ?? '').length / 2));
    const sent = posts();
    const views = suite.sim.requests.filter((r) => r.path === '/view').length;
    const result = await runPyros(['resume', out, '--server', suite.sim.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /nothing to resume: run \S+ in .* finished \(3 jobs; the end of 1 was recorded now\)/);
    assert.equal(posts(), sent);
    assert.equal(suite.sim.requests.filter((r) => r.path === '/view').length, views, 'nothing downloaded again');
    await assertEachJobOnce(suite.sim, out, seeds);
  });

  it('refuses a journal damaged before its last line: names the file and the line, deletes nothing', async () => {
    const { out, held } = await killedWhileRunning('damaged', 15_000);
    held.open();
    const path = await journalPath(out);
    const lines = await journalLines(out);
    lines[2] = `${lines[2]?.slice(0, 20)}###`;
    const damaged = `${lines.join('\n')}\n`;
    await writeFile(path, damaged);
    const journals = async (): Promise<string[]> => (await readdir(join(out, '.pyros-journal'))).filter((name) => name.endsWith('.ndjson'));
    const listing = await journals();
    const result = await runPyros(['resume', out, '--server', suite.sim.url]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`The journal ${path} is damaged: line 3 is not a complete entry`));
    assert.match(result.stderr, /Nothing was changed or deleted/);
    assert.equal(await readFile(path, 'utf8'), damaged);
    assert.deepEqual(await journals(), listing);
    assert.deepEqual((await readdir(join(out, '.pyros-journal'))).filter((name) => name.endsWith('.lock')), [], 'no lock is left (the dead run no longer held one)');
    // Every seed that ran, ran once.
    for (const [seed, runs] of await runsBySeed(suite.sim, seedsFrom(15_000, COUNT))) assert.ok(runs.length <= 1, `seed ${seed}`);
  });

  it('pyros run says how to resume when Ctrl-C stops a batch, and the resume runs what was cancelled', async () => {
    const held = gate();
    const reached = gate();
    suite.sim.hooks = holdNode('3', held, reached);
    const out = join(suite.root, 'ctrl-c');
    const running = batch(out, 16_000);
    await running.whileRunning(reached.wait());
    running.signal('SIGINT');
    await running.waitFor(/cancelling the batch/);
    held.open();
    const result = await running.result;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, new RegExp(`cancelling the batch \\(press Ctrl-C again to quit at once\\)… \`pyros resume ${out}\` finishes it later`));
    assert.match(result.stdout, new RegExp(`to finish the jobs that did not run to their end: \`pyros resume ${out}\``));
    suite.sim.hooks = {};
    const resumed = await runPyros(['resume', out, '--server', suite.sim.url], { env: QUICK_CHECKS });
    assert.equal(resumed.code, 0, resumed.stderr);
    // Each seed has exactly one run that finished; the one cancelled mid-run is there as interrupted.
    for (const [seed, runs] of await runsBySeed(suite.sim, seedsFrom(16_000, COUNT))) {
      assert.equal(runs.filter((run) => run.status === 'success').length, 1, `seed ${seed}: ${JSON.stringify(runs)}`);
      assert.ok(runs.every((run) => run.status === 'success' || run.status === 'error'), `seed ${seed}`);
    }
  });
});
