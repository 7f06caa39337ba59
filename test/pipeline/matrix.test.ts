/**
 * The option matrix: every option of `pyros run` taken through each front end of the one pipeline
 * (a single job, a batch, a pool of three simulators, interactive mode with prompts piped in), each
 * checked the same way on the server (its history, the requests and upgrades it recorded) and on
 * disk (files and sidecars); and `pyros fetch` of what each made, which must write the same.
 *
 *   option             single job        batch (one server)   pool (A, B, C)        interactive (piped)
 *   --prompt __var__   main              main (two -p;        main (two -p)         main (two lines)
 *                                        --prompts: keep)
 *   --seed             N, random, keep,  N+, N, random, keep  N+, N, random, keep   N+, random, N, keep
 *                      N+
 *   --set, =@FILE,     main              main                 main (once per        main
 *   --input                                                   server)
 *   --retry            restart           restart (2 jobs)     restart: moved to     restart
 *                                                             the other server, or
 *                                                             resubmitted when none
 *   --timeout          exit 8            exit 8, both         exit 8, each on its   exit 8
 *                                                             server
 *   --open / --show    xdg-open; drawn   refused, exit 2      one job over the      xdg-open (last
 *                      in a terminal                          pool: opened, drawn   image); note
 *   --json             main, retry,      main, retry,         main, retry, moved,   main, timeout
 *                      timeout           timeout              timeout
 *   --header, --output every case (every request and WebSocket upgrade carries the header)
 *
 * "main" is one run with every option at once. Each case ends with the same checks: the files are
 * the server's, byte for byte, and their sidecars hold what the server ran (savedJobs).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { until, untilAsync } from '../support/wait.ts';
import {
  assertAllTagged,
  assertCancelledOnServer,
  assertKeptOutputs,
  assertFetchMatches,
  assertUploaded,
  assertVariables,
  hasScript,
  history,
  holdFirstSamplerUntilRestart,
  jsonEvents,
  opened,
  pyros,
  pyrosInTerminal,
  resetSims,
  savedJobs,
  simOf,
  startMatrix,
  traffic,
  WORKFLOW_SEED,
  type CaseRun,
  type Matrix,
  type SavedJob,
} from './matrix-support.ts';
import { closedPort } from '../support/cli.ts';
import type { FaultSim } from '../support/faults.ts';

type Event = Record<string, any>;

/** Events that belong to one job (in a batch, the others describe the batch). */
const JOB_EVENTS = new Set(['phase', 'job', 'submitted', 'queued', 'started', 'cached', 'node', 'progress', 'overall', 'preview', 'text', 'connection', 'saved', 'moved', 'job_done', 'job_failed']);
const JOB_NOTES = new Set(['prompt_expanded', 'input', 'retry']);

/**
 * The --json stream: one JSON object per line; every event of a job carries `job`, and `server`:
 * null until the job is dispatched, then the server it was dispatched to. Returns the events by job.
 */
function assertEventStream(run: CaseRun, options: { everyEvent: boolean }): Map<number, Event[]> {
  const events = jsonEvents(run.stdout) as Event[];
  assert.ok(events.length > 0);
  const byJob = new Map<number, Event[]>();
  for (const event of events) {
    assert.equal(typeof event.event, 'string');
    assert.ok(!Number.isNaN(Date.parse(event.time)), 'each event has its time');
    const ofJob = options.everyEvent || JOB_EVENTS.has(event.event) || (event.event === 'note' && JOB_NOTES.has(event.kind));
    if (!ofJob) continue;
    assert.equal(typeof event.job, 'number', `${JSON.stringify(event)} names its job`);
    const list = byJob.get(event.job) ?? [];
    list.push(event);
    byJob.set(event.job, list);
  }
  for (const [job, list] of byJob) {
    let server: string | null = null;
    for (const event of list) {
      if (event.event === 'job') server = event.server;
      if (event.event === 'job_done' || event.event === 'job_failed' || event.event === 'moved') continue;
      assert.equal(event.server, server, `job ${job}: ${event.event} carries the server it was dispatched to (${server})`);
    }
    assert.ok(list.some((event) => event.event === 'job'), `job ${job} was dispatched`);
  }
  return byJob;
}

/** The saved files a human-readable run listed on stdout, in order. */
function listedFiles(stdout: string): string[] {
  return [...stdout.matchAll(/^✔ .*?\s(\/\S+\.png)$/gm)].map((match) => match[1] as string);
}

/** Nothing went to ./images: --output was used. */
function assertOutputOnly(matrix: Matrix): void {
  assert.equal(existsSync(join(matrix.root, 'images')), false, 'nothing was saved in the default folder');
}

describe('the option matrix', () => {
  let matrix: Matrix;
  before(async () => {
    matrix = await startMatrix();
  });
  beforeEach(() => resetSims(matrix));
  // Every case names its --output: nothing lands in the default folder.
  afterEach(() => assertOutputOnly(matrix));
  after(async () => {
    await matrix?.close();
  });

  const base = (): string[] => ['run', matrix.flow];
  const servers = (...sims: FaultSim[]): string[] => sims.flatMap((sim) => ['--server', sim.url]);
  const fileOptions = (): string[] => ['--set', 'KSampler.steps=3', '--set', `Load Mask.image=@${matrix.mask}`, '--input', matrix.photo];
  // 10 000 steps of 2 ms: far longer than the 1 s limit.
  const slow = ['--set', 'KSampler.steps=10000'];

  /** The checks of a run that used every option at once (variables, seeds, sets, uploads, header, json, output). */
  async function checkMainRun(run: CaseRun, expect: { templates: string[]; seeds: number[]; servers: FaultSim[]; everyEvent: boolean; batchOf?: number }): Promise<SavedJob[]> {
    assert.equal(run.code, 0, run.stderr);
    const byJob = assertEventStream(run, { everyEvent: expect.everyEvent });
    assert.equal(byJob.size, expect.seeds.length);
    const jobs = await savedJobs(matrix, run.out);
    assert.equal(jobs.length, expect.seeds.length);
    // Jobs in order, as numbered in the events.
    const order = [...byJob.entries()].sort(([a], [b]) => a - b).map(([, list]) => list.filter((e) => e.event === 'job').at(-1)?.prompt_id);
    const sorted = order.map((promptId) => jobs.find((job) => job.promptId === promptId) as SavedJob);
    assert.ok(sorted.every(Boolean), 'every dispatched job was saved');
    assert.deepEqual(sorted.map((job) => job.seed), expect.seeds);
    for (const [index, job] of sorted.entries()) {
      assertVariables(job, expect.templates[index] as string);
      assert.equal(job.history.prompt[2]['3']?.inputs.steps, 3, '--set reached the server');
      await assertUploaded(matrix, job);
      const events = byJob.get(index + 1) as Event[];
      assert.equal(events.filter((e) => e.event === 'job').at(-1)?.server, job.server);
      assert.equal(events.find((e) => e.kind === 'prompt_expanded')?.text, job.prompt);
      if (expect.batchOf) for (const meta of job.sidecars.values()) assert.equal(meta.batch?.of, expect.batchOf);
    }
    // Uploads once per server (and file), submissions once per job, the header everywhere.
    const used = new Set(jobs.map((job) => job.server));
    for (const { sim, posts, upgrades } of traffic(matrix, run.tag)) {
      const here = jobs.filter((job) => job.server === sim.url).length;
      assert.equal(posts('/prompt'), here, `${sim.url}: one POST /prompt per job`);
      assert.equal(posts('/upload/image'), used.has(sim.url) ? 2 : 0, `${sim.url}: each file uploaded once`);
      if (expect.servers.includes(sim)) assert.ok(upgrades >= 1, `${sim.url}: the WebSocket carried the header`);
      else assert.equal(upgrades, 0);
    }
    assertAllTagged(matrix);
    return sorted;
  }

  /** The checks of a run whose jobs all went past --timeout: exit 8, each cancelled on its server, what it had made kept. */
  async function checkTimedOut(run: CaseRun, expect: { jobs: number; everyEvent: boolean }): Promise<Event[]> {
    assert.equal(run.code, 8, run.stderr);
    const byJob = assertEventStream(run, { everyEvent: expect.everyEvent });
    assert.equal(byJob.size, expect.jobs);
    const ways: string[] = [];
    const dispatched: Event[] = [];
    for (const list of byJob.values()) {
      const job = list.filter((e) => e.event === 'job').at(-1) as Event;
      dispatched.push(job);
      assert.equal(list.filter((e) => e.event === 'job').length, 1, 'never moved nor resubmitted');
      const way = await assertCancelledOnServer(simOf(matrix, job.server), job.prompt_id);
      ways.push(way);
      // The loaders' branch ran before the sampler: its image is kept.
      const kept = await assertKeptOutputs(matrix, run.out, simOf(matrix, job.server), job.prompt_id);
      if (way === 'interrupted') assert.equal(kept, 1, `prompt ${job.prompt_id} had saved the masked image before it was stopped`);
    }
    assert.ok(ways.includes('interrupted'), `a running job was interrupted (${ways.join(', ')})`);
    const pngs = existsSync(run.out) ? (await readdir(run.out)).filter((name) => name.startsWith('matrix_')) : [];
    assert.deepEqual(pngs, [], 'nothing of the sampler was saved');
    assertAllTagged(matrix);
    return dispatched;
  }

  describe('a single job', () => {
    it('main: --prompt with variables, --seed N, --set, =@FILE, --input, --header, --json, --output; fetch writes the same', async () => {
      const [a] = matrix.sims;
      const run = await pyros(matrix, 'single-main', [...base(), ...servers(a), '-p', 'a __hue__ fox', '--vars', matrix.vars, '--seed', '5', ...fileOptions(), '--json']);
      const [job] = await checkMainRun(run, { templates: ['a __hue__ fox'], seeds: [5], servers: [a], everyEvent: true });
      const last = jsonEvents(run.stdout).at(-1) as Event;
      assert.deepEqual([last.event, last.ok, last.job, last.server, last.prompt_id], ['result', true, 1, a.url, job?.promptId]);
      assert.deepEqual(last.seeds, [{ node_id: '3', input: 'seed', value: 5 }]);
      assert.equal(last.files.length, 2);
      await assertFetchMatches(matrix, 'single-main', [job as SavedJob], [a]);
      assertAllTagged(matrix);
    });

    it('--open opens the image; --seed random', async () => {
      const [a] = matrix.sims;
      const before = (await opened(matrix)).length;
      const run = await pyros(matrix, 'single-open', [...base(), ...servers(a), '--seed', 'random', '--open']);
      assert.equal(run.code, 0, run.stderr);
      const [job] = await savedJobs(matrix, run.out);
      assert.ok(job && job.seed !== WORKFLOW_SEED, 'a fresh seed');
      assert.match(run.stderr, new RegExp(`seed ${job.seed} → #3 "KSampler".seed`));
      const files = listedFiles(run.stdout);
      assert.equal(files.length, 2, run.stdout);
      // The job's image is the last image it saved, as in interactive mode.
      const image = files.at(-1) as string;
      assert.ok(image.startsWith(`${run.out}/`));
      await untilAsync(async () => (await opened(matrix)).length > before, undefined, 'xdg-open to be called');
      assert.deepEqual((await opened(matrix)).slice(before), [image]);
      assertAllTagged(matrix);
    });

    it('--show draws the image in a terminal', { skip: hasScript ? false : 'util-linux script is not installed' }, async () => {
      const [a] = matrix.sims;
      const run = await pyrosInTerminal(matrix, 'single-show', [...base(), ...servers(a), '--seed', '6', '--show', '--preview', 'blocks']);
      assert.equal(run.code, 0, run.stdout);
      const [job] = await savedJobs(matrix, run.out);
      assert.equal(job?.seed, 6);
      const after = run.stdout.slice(run.stdout.indexOf('done: 2 files saved'));
      assert.match(after, /\x1b\[38;5;\d+(;48;5;\d+)?m▀/, 'half blocks drawn after the summary');
      assertAllTagged(matrix);
    });

    it('--retry resubmits the prompt a restart lost; --seed keep', async () => {
      const [a] = matrix.sims;
      const hold = holdFirstSamplerUntilRestart([a]);
      const running = pyros(matrix, 'single-retry', [...base(), ...servers(a), '--seed', 'keep', '--retry', '2', '--json']);
      await hold.reached;
      const lost = await hold.restart();
      a.hooks = {};
      const run = await running;
      assert.equal(run.code, 0, run.stderr);
      const byJob = assertEventStream(run, { everyEvent: true });
      const events = byJob.get(1) as Event[];
      const dispatched = events.filter((e) => e.event === 'job').map((e) => e.prompt_id);
      assert.deepEqual(dispatched.length, 2);
      assert.equal(dispatched[0], lost);
      const retry = events.find((e) => e.kind === 'retry');
      assert.deepEqual([retry?.prompt_id, retry?.reason], [lost, 'the server lost the prompt']);
      const [job] = await savedJobs(matrix, run.out);
      assert.equal(job?.promptId, dispatched[1]);
      assert.equal(job?.seed, WORKFLOW_SEED);
      assert.equal(await history(a, lost), undefined, 'the lost prompt is gone');
      assert.equal(traffic(matrix, run.tag)[0]?.posts('/prompt'), 2);
      assertAllTagged(matrix);
    });

    it('--timeout: exit 8, cancelled on the server; --seed N+ (one job: N)', async () => {
      const [a] = matrix.sims;
      const run = await pyros(matrix, 'single-timeout', [...base(), ...servers(a), '--seed', '9+', ...slow, '--timeout', '1s', '--json']);
      const [job] = await checkTimedOut(run, { jobs: 1, everyEvent: true });
      const last = jsonEvents(run.stdout).at(-1) as Event;
      assert.deepEqual([last.event, last.kind, last.reason, last.job, last.server], ['error', 'timeout', 'job', 1, a.url]);
      assert.equal((await history(a, job?.prompt_id))?.prompt[2]['3']?.inputs.seed, 9);
    });
  });

  describe('a batch', () => {
    it('main: two prompts × --count 2 with --seed N+, variables, sets, uploads once; fetch writes the same', async () => {
      const [, b] = matrix.sims;
      const run = await pyros(matrix, 'batch-main', [...base(), ...servers(b), '-p', 'a __hue__ fox', '-p', 'a __hue__ owl', '--count', '2', '--vars', matrix.vars, '--seed', '10+', ...fileOptions(), '--json']);
      const templates = ['a __hue__ fox', 'a __hue__ fox', 'a __hue__ owl', 'a __hue__ owl'];
      const jobs = await checkMainRun(run, { templates, seeds: [10, 11, 10, 11], servers: [b], everyEvent: false, batchOf: 4 });
      const events = jsonEvents(run.stdout) as Event[];
      assert.deepEqual(events.filter((e) => e.event === 'job_done').map((e) => e.job).sort(), [1, 2, 3, 4]);
      const result = events.at(-1) as Event;
      assert.deepEqual([result.event, result.ok, result.total, result.succeeded], ['result', true, 4, 4]);
      assert.deepEqual(
        result.jobs.map((j: Event) => [j.job, j.prompt_id, j.seed, j.server]),
        jobs.map((job, i) => [i + 1, job.promptId, job.seed, b.url]),
      );
      await assertFetchMatches(matrix, 'batch-main', jobs, [b]);
    });

    it('--retry resubmits every job the restart lost; --seed N', async () => {
      const [, b] = matrix.sims;
      const hold = holdFirstSamplerUntilRestart([b]);
      const running = pyros(matrix, 'batch-retry', [...base(), ...servers(b), '--count', '2', '--seed', '5', '--retry', '2', '--json']);
      await hold.reached;
      const lost = await hold.restart();
      b.hooks = {};
      const run = await running;
      assert.equal(run.code, 0, run.stderr);
      assertEventStream(run, { everyEvent: false });
      const events = jsonEvents(run.stdout) as Event[];
      const retries = events.filter((e) => e.kind === 'retry');
      assert.ok(retries.some((e) => e.prompt_id === lost), 'the held job was resubmitted');
      const jobs = await savedJobs(matrix, run.out);
      assert.equal(jobs.length, 2);
      assert.deepEqual(jobs.map((job) => job.seed), [5, 5]);
      assert.ok(!jobs.some((job) => job.promptId === lost));
      // A job sent while the server was restarting never reached it: its retry is the first POST the server sees.
      const resent = retries.filter((e) => e.reason !== 'the connection failed before the prompt was submitted');
      assert.equal(traffic(matrix, run.tag)[1]?.posts('/prompt'), 2 + resent.length, 'one POST per job, plus one per retry of a prompt the server had');
      assertAllTagged(matrix);
    });

    it('--timeout: exit 8, every job cancelled on the server; --seed random', async () => {
      const [, b] = matrix.sims;
      const run = await pyros(matrix, 'batch-timeout', [...base(), ...servers(b), '--count', '2', '--seed', 'random', ...slow, '--timeout', '1s', '--json']);
      await checkTimedOut(run, { jobs: 2, everyEvent: false });
      const failed = (jsonEvents(run.stdout) as Event[]).filter((e) => e.event === 'job_failed');
      assert.deepEqual(failed.map((e) => e.kind), ['timeout', 'timeout']);
      assert.notEqual(failed[0]?.seed, failed[1]?.seed, 'a fresh seed per job');
      assert.equal((jsonEvents(run.stdout).at(-1) as Event).exit_code, 8);
    });

    it('--prompts FILE with --seed keep; human output', async () => {
      const [, b] = matrix.sims;
      const prompts = join(matrix.root, 'prompts.txt');
      await writeFile(prompts, 'a red fox\n# not a prompt\n\na blue owl\n');
      const run = await pyros(matrix, 'batch-keep', [...base(), ...servers(b), '--prompts', prompts, '--seed', 'keep']);
      assert.equal(run.code, 0, run.stderr);
      const jobs = await savedJobs(matrix, run.out);
      assert.deepEqual(jobs.map((job) => [job.prompt, job.seed]).sort(), [
        ['a blue owl', WORKFLOW_SEED],
        ['a red fox', WORKFLOW_SEED],
      ]);
      assert.match(run.stdout, /done: 2 of 2 jobs succeeded; 4 files saved/);
      assertAllTagged(matrix);
    });

    it('--open and --show are refused with exit 2 and the reason, before anything is sent (also over a pool)', async () => {
      const before = (await opened(matrix)).length;
      const open = await pyros(matrix, 'batch-open', [...base(), ...servers(...matrix.sims), '--count', '2', '--open']);
      assert.equal(open.code, 2, open.stderr);
      assert.match(open.stderr, /--open opens the image of one job; this batch has 2 jobs\./);
      const show = await pyros(matrix, 'batch-show', [...base(), ...servers(matrix.sims[1]), '-p', 'a', '-p', 'b', '--show']);
      assert.equal(show.code, 2, show.stderr);
      assert.match(show.stderr, /--show draws the image of one job; this batch has 2 jobs/);
      for (const sim of matrix.sims) assert.deepEqual(sim.requests.filter((r) => r.method === 'POST'), []);
      assert.equal((await opened(matrix)).length, before);
      assert.equal(existsSync(open.out) || existsSync(show.out), false);
    });
  });

  describe('a pool of three servers', () => {
    it('main: jobs spread over the servers, files uploaded once per server; fetch finds each prompt and writes the same', async () => {
      const trio = matrix.sims;
      // Each sampler waits until the jobs have reached two servers: a pool that kept them on one would hang here.
      for (const sim of trio) {
        sim.hooks = {
          onNodeStart: async ({ nodeId }) => {
            if (nodeId !== '3') return;
            await until(() => traffic(matrix, 'pool-main').filter((t) => t.posts('/prompt') > 0).length >= 2, undefined, 'jobs on two servers');
          },
        };
      }
      const run = await pyros(matrix, 'pool-main', [...base(), ...servers(...trio), '-p', 'a __hue__ fox', '-p', 'a __hue__ owl', '--count', '2', '--vars', matrix.vars, '--seed', '20+', ...fileOptions(), '--json']);
      const templates = ['a __hue__ fox', 'a __hue__ fox', 'a __hue__ owl', 'a __hue__ owl'];
      const jobs = await checkMainRun(run, { templates, seeds: [20, 21, 20, 21], servers: trio, everyEvent: false, batchOf: 4 });
      assert.ok(new Set(jobs.map((job) => job.server)).size >= 2, 'the jobs ran on several servers');
      const states = (jsonEvents(run.stdout) as Event[]).filter((e) => e.event === 'server' && e.state === 'up').map((e) => e.server);
      assert.deepEqual(new Set(states), new Set(trio.map((sim) => sim.url)));
      await assertFetchMatches(matrix, 'pool-main', jobs, trio);
    });

    it('--retry: a prompt lost in a restart is run again (moved to another server, or resubmitted); --seed N', async () => {
      const pair = matrix.sims.slice(0, 2);
      const hold = holdFirstSamplerUntilRestart(pair);
      const running = pyros(matrix, 'pool-retry', [...base(), ...servers(...pair), '--count', '2', '--seed', '7', '--retry', '1', '--json']);
      const victim = await hold.reached;
      const lost = await hold.restart();
      for (const sim of pair) sim.hooks = {};
      const run = await running;
      assert.equal(run.code, 0, run.stderr);
      assertEventStream(run, { everyEvent: false });
      const events = jsonEvents(run.stdout) as Event[];
      const done = events.filter((e) => e.event === 'job_done');
      const again = done.find((e) => e.attempts.some((attempt: Event) => attempt.promptId === lost));
      const retried = events.find((e) => e.kind === 'retry' && e.prompt_id === lost);
      assert.ok(again || retried, 'the job of the lost prompt ran again');
      if (again) assert.deepEqual(again.attempts.map((attempt: Event) => [attempt.server, attempt.outcome])[0], [victim.url, 'moved']);
      const jobs = await savedJobs(matrix, run.out);
      assert.deepEqual(jobs.map((job) => job.seed), [7, 7]);
      assert.ok(!jobs.some((job) => job.promptId === lost));
      assert.equal(await history(victim, lost), undefined);
      assertAllTagged(matrix);
    });

    it('one job over the pool, moved off a server that restarts: the move is told, in --json and in words', async () => {
      const pair = matrix.sims.slice(0, 2);
      for (const json of [true, false]) {
        resetSims(matrix);
        const hold = holdFirstSamplerUntilRestart(pair);
        const running = pyros(matrix, `pool-moved-${json ? 'json' : 'human'}`, [...base(), ...servers(...pair), '--seed', '12', ...(json ? ['--json'] : [])]);
        const victim = await hold.reached;
        const lost = await hold.restart();
        for (const sim of pair) sim.hooks = {};
        const run = await running;
        assert.equal(run.code, 0, run.stderr);
        const [job] = await savedJobs(matrix, run.out);
        const other = pair.find((sim) => sim !== victim) as FaultSim;
        assert.deepEqual([job?.server, job?.seed], [other.url, 12]);
        if (json) {
          const events = assertEventStream(run, { everyEvent: true }).get(1) as Event[];
          const moved = events.find((e) => e.event === 'moved');
          assert.deepEqual([moved?.prompt_id, moved?.server], [lost, victim.url]);
          // Why: the server went down, or it no longer knew the prompt (whichever was noticed first).
          assert.match(moved?.reason, /server down|no longer knows prompt/);
          assert.deepEqual(events.filter((e) => e.event === 'job').map((e) => [e.server, e.attempt]), [
            [victim.url, 1],
            [other.url, 2],
          ]);
        } else {
          assert.match(run.stderr, new RegExp(`moved off ${victim.url} \\(prompt ${lost}\\): (server down|The server no longer knows prompt)`));
          assert.ok(run.stderr.indexOf(`prompt ${lost}`) < run.stderr.indexOf(`prompt ${job?.promptId}`));
        }
        assertAllTagged(matrix);
      }
    });

    it('--retry resubmits a lost prompt when no other server of the pool is up', async () => {
      const [a] = matrix.sims;
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const hold = holdFirstSamplerUntilRestart([a]);
      const running = pyros(matrix, 'pool-retry-alone', [...base(), ...servers(a), '--server', dead, '--seed', '8', '--retry', '1', '--json']);
      await hold.reached;
      const lost = await hold.restart();
      a.hooks = {};
      const run = await running;
      assert.equal(run.code, 0, run.stderr);
      const events = (assertEventStream(run, { everyEvent: true }).get(1) ?? []) as Event[];
      assert.deepEqual(events.filter((e) => e.event === 'job').map((e) => [e.server, e.attempt]), [
        [a.url, 1],
        [a.url, 1],
      ]);
      const retry = events.find((e) => e.kind === 'retry');
      assert.deepEqual([retry?.prompt_id, retry?.reason], [lost, 'the server lost the prompt']);
      const [job] = await savedJobs(matrix, run.out);
      assert.deepEqual([job?.server, job?.seed], [a.url, 8]);
      assert.equal(traffic(matrix, run.tag)[0]?.posts('/prompt'), 2);
      assertAllTagged(matrix);
    });

    it('--timeout: exit 8, each job cancelled on its own server, none moved; --seed random', async () => {
      const run = await pyros(matrix, 'pool-timeout', [...base(), ...servers(...matrix.sims), '--count', '2', '--seed', 'random', ...slow, '--timeout', '1s', '--json']);
      await checkTimedOut(run, { jobs: 2, everyEvent: false });
      const failed = (jsonEvents(run.stdout) as Event[]).filter((e) => e.event === 'job_failed');
      assert.deepEqual(failed.map((e) => [e.kind, e.attempts.length]), [
        ['timeout', 1],
        ['timeout', 1],
      ]);
    });

    it('one job over the pool: --open opens its image; --seed keep', async () => {
      const before = (await opened(matrix)).length;
      const run = await pyros(matrix, 'pool-open', [...base(), ...servers(...matrix.sims), '--seed', 'keep', '--open']);
      assert.equal(run.code, 0, run.stderr);
      const [job] = await savedJobs(matrix, run.out);
      assert.equal(job?.seed, WORKFLOW_SEED);
      await untilAsync(async () => (await opened(matrix)).length > before, undefined, 'xdg-open to be called');
      assert.deepEqual((await opened(matrix)).slice(before), listedFiles(run.stdout).slice(-1));
      assertAllTagged(matrix);
    });

    it('one job over the pool: --show draws its image in a terminal', { skip: hasScript ? false : 'util-linux script is not installed' }, async () => {
      const run = await pyrosInTerminal(matrix, 'pool-show', [...base(), ...servers(...matrix.sims), '--seed', '33', '--show', '--preview', 'blocks']);
      assert.equal(run.code, 0, run.stdout);
      const [job] = await savedJobs(matrix, run.out);
      assert.equal(job?.seed, 33);
      assert.match(run.stdout.slice(run.stdout.indexOf('done: 2 files saved')), /\x1b\[38;5;\d+(;48;5;\d+)?m▀/);
      assertAllTagged(matrix);
    });
  });

  describe('interactive mode, prompts piped in', () => {
    const interactive = (sim: FaultSim): string[] => ['--workflow', matrix.flow, ...servers(sim)];

    it('main: two prompts × --count 2, --seed N+, variables, sets, uploads once; fetch writes the same', async () => {
      const [, , c] = matrix.sims;
      const run = await pyros(matrix, 'interactive-main', [...interactive(c), '--count', '2', '--vars', matrix.vars, '--seed', '30+', ...fileOptions(), '--json'], { input: 'a __hue__ fox\na __hue__ owl\n' });
      const templates = ['a __hue__ fox', 'a __hue__ fox', 'a __hue__ owl', 'a __hue__ owl'];
      const jobs = await checkMainRun(run, { templates, seeds: [30, 31, 30, 31], servers: [c], everyEvent: true, batchOf: 2 });
      const results = (jsonEvents(run.stdout) as Event[]).filter((e) => e.event === 'result');
      assert.deepEqual(
        results.map((e) => [e.job, e.ok, e.prompt_id, e.server]),
        jobs.map((job, i) => [i + 1, true, job.promptId, c.url]),
      );
      await assertFetchMatches(matrix, 'interactive-main', jobs, [c]);
    });

    it('--open opens the last image of each job, --show says it cannot draw here; --seed random', async () => {
      const [, , c] = matrix.sims;
      const before = (await opened(matrix)).length;
      const run = await pyros(matrix, 'interactive-open', [...interactive(c), '--seed', 'random', '--open', '--show'], { input: 'a red fox\n' });
      assert.equal(run.code, 0, run.stderr);
      const [job] = await savedJobs(matrix, run.out);
      assert.ok(job && job.seed !== WORKFLOW_SEED);
      const files = listedFiles(run.stdout);
      assert.equal(files.length, 2, run.stdout);
      const last = files.at(-1) as string;
      await untilAsync(async () => (await opened(matrix)).length > before, undefined, 'xdg-open to be called');
      assert.deepEqual((await opened(matrix)).slice(before), [last]);
      const shown = relative(matrix.root, last);
      assert.ok(run.stderr.includes(`Opened ${shown}.`), run.stderr);
      assert.ok(run.stderr.includes(`${shown} (this terminal shows no images here`), run.stderr);
      assertAllTagged(matrix);
    });

    it('--retry resubmits the prompt a restart lost; --seed N', async () => {
      const [, , c] = matrix.sims;
      const hold = holdFirstSamplerUntilRestart([c]);
      const running = pyros(matrix, 'interactive-retry', [...interactive(c), '--seed', '7', '--retry', '2'], { input: 'a patient fox\n' });
      await hold.reached;
      const lost = await hold.restart();
      c.hooks = {};
      const run = await running;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`resubmitting in [\\d.]+ s \\(retry 1 of 2\\): The server no longer knows prompt ${lost}`));
      const [job] = await savedJobs(matrix, run.out);
      assert.deepEqual([job?.prompt, job?.seed], ['a patient fox', 7]);
      assert.notEqual(job?.promptId, lost);
      assert.equal(traffic(matrix, run.tag)[2]?.posts('/prompt'), 2);
      assertAllTagged(matrix);
    });

    it('--timeout: exit 8, cancelled on the server; --seed keep', async () => {
      const [, , c] = matrix.sims;
      const run = await pyros(matrix, 'interactive-timeout', [...interactive(c), '--seed', 'keep', ...slow, '--timeout', '1s', '--json'], { input: 'a slow fox\n' });
      const [job] = await checkTimedOut(run, { jobs: 1, everyEvent: true });
      assert.equal((await history(c, job?.prompt_id))?.prompt[2]['3']?.inputs.seed, WORKFLOW_SEED);
    });
  });
});
