/**
 * The Job of one server, driven directly against the simulator: its phases in order, whether the
 * server got the prompt (`submission`), following a prompt by id, uploads once per server and
 * file version, and cancelling through an AbortSignal.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client } from '../../src/client/client.ts';
import type { Job, JobPhase } from '../../src/client/job.ts';
import { JobTimeoutError } from '../../src/client/job-errors.ts';
import type { UploadedInput } from '../../src/client/uploads.ts';
import { isPyrosError, type PyrosError } from '../../src/errors.ts';
import { closedPort } from '../support/cli.ts';
import { combine, gate, holdNode, isQueued, openOnInterrupt, startFaultSim, submitAsOtherClient, tinyWorkflow, twoOutputWorkflow, waitForHistory, type FaultSim } from '../support/faults.ts';
import { until } from '../support/wait.ts';
import { png } from '../gallery/fixtures/outputs.ts';

const FAST = { quietCheckMs: 300, pingIntervalMs: 1_000 } as const;

/** The error the job failed with (the test fails if it succeeded or failed otherwise than with a PyrosError). */
async function failure(job: Pick<Job, 'result'>): Promise<PyrosError> {
  const error = await job.result.then(
    () => undefined,
    (cause: unknown) => cause,
  );
  assert.ok(isPyrosError(error), `expected a PyrosError, got ${String(error)}`);
  return error;
}

/** A workflow that loads an image (node 10) and saves it (node 11) besides the picture it renders. */
function loaderWorkflow(seed: number): ReturnType<typeof tinyWorkflow> {
  const workflow = tinyWorkflow({ seed, prefix: 'job' });
  workflow['10'] = { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Load Image' } };
  workflow['11'] = { class_type: 'SaveImage', inputs: { images: ['10', 0], filename_prefix: 'loaded' } };
  return workflow;
}

/** The place (1 = first) of job `n` among jobs queued in the order of their numbers. */
function rankOf(numbers: number[], n: number): number {
  const own = numbers[n] as number;
  return Number.isNaN(own) ? Number.NaN : numbers.filter((number) => number <= own).length;
}

describe('Job', () => {
  let sim: FaultSim;
  let root: string;
  const clients: Client[] = [];
  const client = (options: ConstructorParameters<typeof Client>[0] = {}): Client => {
    const made = new Client({ server: sim.url, ...FAST, ...options });
    clients.push(made);
    return made;
  };
  const posts = (path: string): number => sim.requests.filter((r) => r.method === 'POST' && r.path === path).length;

  before(async () => {
    sim = await startFaultSim({ stepMs: 2, previews: false });
    root = await mkdtemp(join(tmpdir(), 'pyros-job-'));
  });
  beforeEach(() => {
    sim.hooks = {};
    sim.requests.length = 0;
    sim.logs.length = 0;
  });
  after(async () => {
    for (const made of clients) made.close();
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('goes through its phases in order: preparing, submitting, queued, running, finishing, done', async () => {
    const photo = join(root, 'phases.png');
    await writeFile(photo, png([200, 10, 10]));
    // Each phase is held by the server until the test has seen it.
    const uploadHeld = gate();
    const postHeld = gate();
    const blockerHeld = gate();
    const blockerReached = gate();
    const historyHeld = gate();
    let holdPosts = false;
    let promptId = '';
    let blockerId = '';
    sim.hooks = {
      onRequest: async ({ method, path }) => {
        if (method === 'POST' && path === '/upload/image') await uploadHeld.wait();
        if (method === 'POST' && path === '/prompt' && holdPosts) await postHeld.wait();
        if (method === 'GET' && path === `/history/${promptId}`) await historyHeld.wait();
        return false;
      },
      onNodeStart: async ({ promptId: id }) => {
        if (id !== blockerId) return;
        blockerReached.open();
        await blockerHeld.wait();
      },
    };
    // Another client's prompt keeps the server busy, so that ours waits in the queue.
    blockerId = await submitAsOtherClient(sim, tinyWorkflow({ seed: 1 }));
    await blockerReached.wait();
    holdPosts = true;

    const job = client().run(loaderWorkflow(2), { uploads: [{ nodeId: '10', input: 'image', path: photo }] });
    promptId = job.promptId;
    const seen: { phase: JobPhase; submission: string; at: string }[] = [];
    const note = (at: string): void => {
      const last = seen.at(-1);
      if (last?.phase !== job.phase || last.submission !== job.submission) seen.push({ phase: job.phase, submission: job.submission, at });
    };
    note('created');
    for (const event of ['uploaded', 'submitted', 'queued', 'started', 'node', 'executed'] as const) job.on(event, () => note(event));

    await until(() => sim.requests.some((r) => r.path === '/upload/image'), undefined, 'the upload');
    note('upload held');
    uploadHeld.open();
    await until(() => sim.requests.some((r) => r.path === '/prompt' && r.method === 'POST' && holdPosts && job.phase === 'submitting'), undefined, 'the POST /prompt');
    note('POST held');
    postHeld.open();
    const queued = await new Promise<{ position: number; ahead: number }>((resolve) => job.once('queued', resolve));
    assert.deepEqual([queued.position, queued.ahead], [1, 1], 'behind the running prompt of the other client');
    blockerHeld.open();
    await until(() => sim.requests.some((r) => r.path === `/history/${promptId}`), undefined, 'the history request');
    note('history held');
    historyHeld.open();
    const result = await job.result;
    note('result');

    assert.deepEqual(
      seen.map((s) => `${s.phase}/${s.submission}`),
      ['preparing/pending', 'submitting/unknown', 'queued/accepted', 'running/accepted', 'finishing/accepted', 'done/accepted'],
      JSON.stringify(seen),
    );
    assert.equal(seen.find((s) => s.phase === 'submitting')?.at, 'POST held');
    assert.equal(seen.find((s) => s.phase === 'finishing')?.at, 'history held');
    assert.equal(result.promptId, promptId);
    assert.equal(result.outputs.length, 2);
    assert.equal(result.workflow['10']?.inputs.image, 'phases.png', 'the upload was set in the prompt');
    assert.equal(posts('/prompt'), 2, 'the other client\'s prompt and ours');
    await waitForHistory(sim, blockerId);
  });

  it('says whether the server got the prompt: not-sent, absent, rejected, accepted', async () => {
    const down = new Client({ server: `http://127.0.0.1:${await closedPort()}`, ...FAST });
    clients.push(down);
    const notSent = down.run(tinyWorkflow());
    assert.equal(notSent.submission, 'pending');
    const refused = await failure(notSent);
    assert.equal(refused.kind, 'connection');
    assert.equal(notSent.submission, 'not-sent');

    // The POST reaches the server, which drops the connection without an answer and without
    // queuing it: asked since, the server provably does not have the prompt.
    sim.hooks = {
      onRequest: ({ method, path, req }) => {
        if (method !== 'POST' || path !== '/prompt') return false;
        req.socket.destroy();
        return true;
      },
    };
    const cut = client().run(tinyWorkflow());
    await failure(cut);
    assert.equal(cut.submission, 'absent');
    sim.hooks = {};

    const invalid = tinyWorkflow();
    (invalid['5'] as { inputs: Record<string, unknown> }).inputs.width = 0;
    const rejected = client().run(invalid);
    assert.equal((await failure(rejected)).kind, 'rejected');
    assert.equal(rejected.submission, 'rejected');

    const fine = client().run(tinyWorkflow({ seed: 3 }));
    await fine.result;
    assert.equal(fine.submission, 'accepted');
  });

  it('counts the nodes done without repeating a count', async () => {
    const job = client().run(tinyWorkflow({ seed: 4 }));
    const counts: number[] = [];
    job.on('overall', ({ done, total }) => {
      assert.equal(total, 7);
      counts.push(done);
    });
    await job.result;
    assert.ok(counts.length > 0);
    assert.equal(counts.at(-1), 7);
    for (let i = 1; i < counts.length; i++) assert.ok((counts[i] as number) > (counts[i - 1] as number), `overall went ${counts.join(', ')}`);
  });

  it('jobs waiting on one server share their queue lookups, and each learns its place', async () => {
    const shared = client();
    const held = gate();
    const reached = gate();
    let blockerId = '';
    sim.hooks = {
      onNodeStart: async (node) => {
        if (node.promptId !== blockerId || node.nodeId !== '3') return;
        reached.open();
        await held.wait();
      },
    };
    const blocker = shared.run(tinyWorkflow({ seed: 500 }));
    blockerId = blocker.promptId;
    await reached.wait();
    sim.requests.length = 0;
    const count = 12;
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const jobs = Array.from({ length: count }, (_, n) => shared.run(tinyWorkflow({ seed: 501 + n, steps: 20 })));
      const places = jobs.map(() => [] as number[]);
      const numbers = jobs.map(() => Number.NaN);
      jobs.forEach((job, n) => {
        job.on('submitted', (info) => (numbers[n] = info.number ?? Number.NaN));
        job.on('queued', (info) => places[n]?.push(info.position));
      });
      // Every waiting job is told its place while the first one runs: its rank in the server's order.
      await until(() => places.every((told, n) => told.at(-1) === rankOf(numbers, n)), undefined, 'every job told its place');
      held.open();
      await Promise.all([blocker.result, ...jobs.map((job) => job.result)]);
    } finally {
      held.open();
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, [], 'many jobs on one client are no leak');
    // At most one look per change of the queue (each job queued, each run ended: about 25), not one
    // per waiting job and change (85 when each job asked for itself).
    const lookups = sim.requests.filter((r) => r.method === 'GET' && r.path === '/queue').length;
    assert.ok(lookups <= 3 * count, `${lookups} GET /queue for ${count} waiting jobs`);
  });

  it('past its time limit: cancelled on the server, and what it had produced is in the error', async () => {
    const interrupted = gate();
    const reached = gate();
    // The second sampler runs until the server is told to stop; the first output is saved by then.
    sim.hooks = combine(holdNode('10', interrupted, reached), openOnInterrupt(sim, interrupted));
    const job = client().run(twoOutputWorkflow({ steps: 2 }), { timeoutMs: 300 });
    await reached.wait();
    const error = await failure(job);
    assert.ok(error instanceof JobTimeoutError, String(error));
    assert.deepEqual([error.kind, error.reason, error.fields.limitMs, error.fields.promptId], ['timeout', 'job', 300, job.promptId]);
    assert.ok(sim.logs.includes(`Interrupting prompt ${job.promptId}`));
    const status = await waitForHistory(sim, job.promptId);
    assert.ok(status.messages?.some(([name]) => name === 'execution_interrupted'));
    assert.deepEqual(
      error.outputs.map((output) => [output.nodeId, output.item.filename.replace(/_\d+_/, '_N_')]),
      [['9', 'first_N_.png']],
    );
    assert.equal(job.phase, 'done');
  });

  describe('follow', () => {
    it('follows a queued prompt by id: submitted with its number, queued, then the same result as its submitter', async () => {
      // The other client's prompts: the first one runs, the second waits; each is held at its sampler.
      const held = [gate(), gate()];
      const reached = gate();
      let samplers = 0;
      sim.hooks = {
        onNodeStart: async ({ nodeId }) => {
          if (nodeId !== '3') return;
          const index = samplers++;
          if (index === 0) reached.open();
          await held[index]?.wait();
        },
      };
      const first = await submitAsOtherClient(sim, tinyWorkflow({ seed: 10 }));
      await reached.wait();
      const second = await submitAsOtherClient(sim, tinyWorkflow({ seed: 11 }));
      const job = client().follow(second);
      const events: string[] = [];
      job.on('submitted', (info) => events.push(`submitted ${info.promptId} ${typeof info.number}`));
      job.on('queued', (info) => events.push(`queued ${info.position}`));
      job.on('started', () => events.push('started'));
      await new Promise((resolve) => job.once('queued', resolve));
      assert.equal(job.phase, 'queued');
      held[0]?.open();
      // The socket tells a follower nothing of another client's run: the queue shows it running.
      await new Promise<void>((resolve) => job.once('started', () => resolve()));
      assert.equal(job.phase, 'running');
      held[1]?.open();
      const result = await job.result;
      // (The place in the queue is told again at each check while it waits: the same event, repeated.)
      assert.deepEqual([...new Set(events)], [`submitted ${second} number`, 'queued 1', 'started']);
      assert.equal(result.promptId, second);
      assert.deepEqual(result.seeds, [{ nodeId: '3', input: 'seed', value: 11 }]);
      assert.equal(result.workflow['3']?.inputs.seed, 11);
      assert.equal(result.outputs.length, 1);
      assert.equal(posts('/prompt'), 2, 'following submits nothing');
      await waitForHistory(sim, first);
    });

    it('follows a running prompt and a finished one', async () => {
      const held = gate();
      const reached = gate();
      sim.hooks = holdNode('3', held, reached);
      const running = await submitAsOtherClient(sim, tinyWorkflow({ seed: 20 }));
      await reached.wait();
      const job = client().follow(running);
      await new Promise<void>((resolve) => job.once('started', () => resolve()));
      assert.equal(job.phase, 'running');
      held.open();
      const live = await job.result;
      assert.equal(live.outputs.length, 1);

      // Now finished: followed again, it ends at once with the same outputs, timings from the history.
      const again = client().follow(running);
      const finished = await again.result;
      assert.deepEqual(finished.outputs, live.outputs);
      assert.equal(finished.workflow['3']?.inputs.seed, 20);
      assert.ok(finished.timings.startedAt !== undefined && finished.timings.finishedAt >= finished.timings.startedAt);
      assert.equal(again.phase, 'done');
    });

    it('fails with lost/unknown for a prompt the server does not know', async () => {
      const job = client().follow('00000000-0000-4000-8000-00000000abcd');
      const error = await failure(job);
      assert.equal(error.kind, 'lost');
      assert.equal(error.reason, 'unknown');
      assert.equal(error.fields.promptId, '00000000-0000-4000-8000-00000000abcd');
      assert.equal(error.fields.server, sim.url);
    });
  });

  describe('uploads', () => {
    it('uploads each version of a file once per server, concurrent jobs included', async () => {
      const photo = join(root, 'once.png');
      await writeFile(photo, png([10, 200, 30]));
      const uploads = [{ nodeId: '10', input: 'image', path: photo }];
      const mine = client();
      const seen: UploadedInput[] = [];
      const start = (seed: number): Job => {
        const job = mine.run(loaderWorkflow(seed), { uploads });
        job.on('uploaded', (info) => seen.push(info));
        return job;
      };
      // Two jobs at once: one upload between them.
      await Promise.all([start(30).result, start(31).result]);
      assert.equal(posts('/upload/image'), 1);
      assert.deepEqual(seen.map((s) => s.reused).sort(), [false, true]);
      assert.ok(seen.every((s) => s.name === 'once.png' && s.value === 'once.png' && s.nodeId === '10'));

      await start(32).result;
      assert.equal(posts('/upload/image'), 1, 'the same version is not sent again');
      assert.equal(seen.at(-1)?.reused, true);

      // A new version of the file (same size, another time) goes again.
      await utimes(photo, new Date(), new Date(Date.now() + 5_000));
      const changed = await start(33).result;
      assert.equal(posts('/upload/image'), 2);
      assert.equal(seen.at(-1)?.reused, false);
      assert.equal(changed.workflow['10']?.inputs.image, seen.at(-1)?.value);

      // Another client (another server, as far as the cache goes) uploads it again.
      await client().run(loaderWorkflow(34), { uploads }).result;
      assert.equal(posts('/upload/image'), 3);
    });

    it('a file that cannot be read fails before anything is submitted', async () => {
      const job = client().run(loaderWorkflow(35), { uploads: [{ nodeId: '10', input: 'image', path: join(root, 'missing.png') }] });
      const error = await failure(job);
      assert.equal(error.kind, 'usage');
      assert.equal(error.reason, 'upload-unreadable');
      assert.equal(job.submission, 'not-sent');
      assert.equal(posts('/prompt'), 0);
    });
  });

  describe('cancel through an AbortSignal', () => {
    it('interrupts a running job on the server, and only that one', async () => {
      const held = gate();
      const reached = gate();
      sim.hooks = holdNode('3', held, reached);
      const controller = new AbortController();
      const job = client().run(tinyWorkflow({ seed: 40 }), { signal: controller.signal });
      await reached.wait();
      await until(() => job.phase === 'running', undefined, 'the job to run');
      controller.abort();
      await until(() => sim.logs.includes(`Interrupting prompt ${job.promptId}`), undefined, 'the interrupt by prompt id');
      held.open();
      const error = await failure(job);
      assert.equal(error.kind, 'cancelled');
      assert.equal(error.reason, 'by-user');
      assert.equal(error.fields.promptId, job.promptId);
      const status = await waitForHistory(sim, job.promptId);
      assert.ok(status.messages?.some(([name]) => name === 'execution_interrupted'));
    });

    it('deletes a pending job from the queue', async () => {
      const held = gate();
      const reached = gate();
      sim.hooks = holdNode('3', held, reached);
      const blocker = await submitAsOtherClient(sim, tinyWorkflow({ seed: 41 }));
      await reached.wait();
      const controller = new AbortController();
      const job = client().run(tinyWorkflow({ seed: 42 }), { signal: controller.signal });
      await new Promise((resolve) => job.once('queued', resolve));
      controller.abort();
      const error = await failure(job);
      assert.equal(error.kind, 'cancelled');
      assert.equal(await isQueued(sim, job.promptId), false);
      held.open();
      await waitForHistory(sim, blocker);
      assert.ok(!sim.logs.some((line) => line.includes('Interrupting')), 'the running prompt of the other client was left alone');
    });

    it('never submits a job whose signal aborted before it was sent', async () => {
      const aborted = client().run(tinyWorkflow({ seed: 43 }), { signal: AbortSignal.abort() });
      const error = await failure(aborted);
      assert.equal(error.kind, 'cancelled');
      assert.equal(aborted.submission, 'not-sent');

      // Aborted while its upload is under way.
      const photo = join(root, 'abort.png');
      await writeFile(photo, png([1, 2, 3]));
      const uploadHeld = gate();
      sim.hooks = {
        onRequest: async ({ path }) => {
          if (path === '/upload/image') await uploadHeld.wait();
          return false;
        },
      };
      const controller = new AbortController();
      const preparing = client().run(loaderWorkflow(44), { uploads: [{ nodeId: '10', input: 'image', path: photo }], signal: controller.signal });
      await until(() => sim.requests.some((r) => r.path === '/upload/image'), undefined, 'the upload');
      assert.equal(preparing.phase, 'preparing');
      controller.abort();
      uploadHeld.open();
      const stopped = await failure(preparing);
      assert.equal(stopped.kind, 'cancelled');
      assert.equal(preparing.submission, 'not-sent');
      assert.equal(posts('/prompt'), 0, 'nothing was submitted');
    });
  });
});
