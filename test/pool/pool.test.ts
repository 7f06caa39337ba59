/** Pool behaviour over real sockets against several simulator instances. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client } from '../../src/client/client.ts';
import { Pool, type PoolJob } from '../../src/client/pool.ts';
import { isPyrosError, type PyrosError } from '../../src/errors.ts';
import { startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import { closedPort } from '../support/cli.ts';
import { gate } from '../support/faults.ts';
import { WAIT_LIMIT_MS } from '../support/wait.ts';
import { download, smallWorkflow, startSims, until } from './helpers.ts';

const FAST = { probeTimeoutMs: 1_000, retryBaseMs: 100, retryMaxMs: 400, pingIntervalMs: 500, quietCheckMs: 500 } as const;

/** The outputs of each workflow run alone on a healthy server: what every pool run must reproduce. */
async function referenceOutputs(workflows: ReturnType<typeof smallWorkflow>[]): Promise<Buffer[][]> {
  const sim = await startSim({ port: 0, stepMs: 0, previews: false });
  const client = new Client({ server: sim.url });
  try {
    const outputs: Buffer[][] = [];
    for (const workflow of workflows) outputs.push(await download(client, await client.run(workflow).result));
    return outputs;
  } finally {
    client.close();
    await sim.close();
  }
}

describe('Pool', () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('sends each job to the live server with the fewest jobs ahead, counting other clients’ prompts', async () => {
    // Another client keeps the first server busy until the pool's jobs are done.
    const busyUntilDone = gate();
    const busy = await startSim({ port: 0, stepMs: 2, previews: false, hooks: { onNodeStart: () => busyUntilDone.wait() } });
    const [a, b] = (await startSims(2, { stepMs: 2 })) as [SimServer, SimServer];
    const sims = [busy, a, b];
    cleanups.push(() => Promise.all(sims.map((sim) => sim.close())));
    cleanups.push(() => busyUntilDone.open());
    const other = new Client({ server: busy.url });
    cleanups.push(() => other.close());
    const foreign = [1, 2, 3].map((seed) => other.run(smallWorkflow(seed, { steps: 60 })));
    await Promise.all(foreign.map((job) => new Promise<void>((resolve) => job.once('submitted', () => resolve()))));

    const pool = new Pool({ servers: [busy.url, a.url, b.url], ...FAST });
    cleanups.push(() => pool.close());
    const order: string[] = [];
    pool.on('dispatched', (info) => order.push(info.server));
    const jobs = Array.from({ length: 4 }, (_, i) => pool.run(smallWorkflow(100 + i)));
    const results = await Promise.all(jobs.map((job) => job.result));
    busyUntilDone.open();
    assert.equal(order.length, 4);
    assert.ok(!order.includes(busy.url), `no job for the server with three foreign prompts ahead: ${order.join(', ')}`);
    assert.deepEqual(new Set(order), new Set([a.url, b.url]), 'both idle servers took work');
    assert.deepEqual(results.map((r) => r.server), jobs.map((job) => job.server));
    await Promise.all(foreign.map((job) => job.result));
  });

  it('gives work to a server that joins a slow pool at once', async () => {
    // The slow server finishes nothing until the new one has taken a job: waiting for it would never end.
    const slowUntilFreshWorks = gate();
    const slow = await startSim({ port: 0, stepMs: 1, previews: false, hooks: { onNodeStart: ({ classType }) => (classType === 'SaveImage' ? slowUntilFreshWorks.wait() : undefined) } });
    const [fresh] = await startSims(1);
    cleanups.push(() => Promise.all([slow, fresh].map((sim) => sim?.close())));
    cleanups.push(() => slowUntilFreshWorks.open());
    const pool = new Pool({ servers: [slow.url], ...FAST });
    cleanups.push(() => pool.close());
    const jobs = Array.from({ length: 6 }, (_, i) => pool.run(smallWorkflow(200 + i, { steps: 40 })));
    await new Promise<void>((resolve) => jobs[0]!.once('started', () => resolve()));
    let slowFinished = 0;
    for (const job of jobs) void job.result.then((result) => (slowFinished += result.server === slow.url ? 1 : 0), () => undefined);
    const onFresh = new Promise<void>((resolve) => {
      pool.on('dispatched', (info) => {
        if (info.server === fresh!.url) resolve();
      });
    });
    pool.add(fresh!.url);
    await onFresh;
    assert.equal(slowFinished, 0, 'the new server took a job while the slow one had finished none');
    slowUntilFreshWorks.open();
    const firstDone = await jobs[0]!.result;
    assert.equal(firstDone.server, slow.url);
    const results = await Promise.all(jobs.map((job) => job.result));
    assert.ok(results.some((r) => r.server === fresh!.url));
  });

  it('finishes every job when a server is killed mid-batch: outputs byte-identical, each job once', async () => {
    const hooks: SimHooks = {};
    const sims = [await startSim({ port: 0, stepMs: 1, previews: false }), await startSim({ port: 0, stepMs: 1, previews: false, hooks }), await startSim({ port: 0, stepMs: 1, previews: false })];
    cleanups.push(() => Promise.all(sims.map((sim) => sim.close())));
    const victim = sims[1] as SimServer;
    // Dies while its second prompt is between its two outputs: the first is already listed.
    const prompts = new Set<string>();
    let killedPrompt: string | undefined;
    // The job it finished first is downloaded before it dies (a dead server's files are gone).
    let firstSaved!: () => void;
    const firstSavedThere = new Promise<void>((resolve) => (firstSaved = resolve));
    hooks.onNodeStart = async ({ promptId, nodeId }) => {
      prompts.add(promptId);
      if (prompts.size === 2 && nodeId === '11' && !killedPrompt) {
        await firstSavedThere;
        killedPrompt = promptId;
        void victim.kill();
        await new Promise<never>(() => undefined);
      }
    };
    const workflows = Array.from({ length: 12 }, (_, i) => smallWorkflow(300 + i, { outputs: 2 }));
    const pool = new Pool({ servers: sims.map((sim) => sim.url), ...FAST });
    cleanups.push(() => pool.close());
    const moved: string[] = [];
    pool.on('moved', (info) => moved.push(info.promptId));
    const jobs: PoolJob[] = workflows.map((workflow) => pool.run(workflow));
    const finished = await Promise.all(
      jobs.map(async (job) => {
        const result = await job.result;
        const files = await download(result.client, result);
        if (result.server === victim.url) firstSaved();
        return { result, files };
      }),
    );
    const results = finished.map((f) => f.result);

    assert.ok(killedPrompt, 'the server was killed mid-run');
    assert.ok(moved.includes(killedPrompt), 'the job it was running moved');
    const victimState = pool.servers().find((s) => s.server === victim.url);
    assert.equal(victimState?.state, 'down');
    const reference = await referenceOutputs(workflows);
    for (const [i, result] of results.entries()) {
      assert.equal(result.outputs.length, 2, `job ${i} has both outputs of a finished run`);
      assert.deepEqual(finished[i]?.files, reference[i], `job ${i}: same bytes as a run on a healthy server`);
      const done = result.attempts.filter((attempt) => attempt.outcome === 'done');
      assert.equal(done.length, 1, `job ${i} finished exactly once`);
    }
    const movedJob = results.find((r) => r.attempts.some((a) => a.promptId === killedPrompt));
    assert.deepEqual(movedJob?.attempts.map((a) => a.outcome), ['moved', 'done']);
    assert.notEqual(movedJob?.server, victim.url, 'the moved job finished on a live server');
    assert.equal(results.filter((r) => r.server === victim.url).length, 1, 'only the job finished before the crash counts for the dead server');
  });

  it('moves the jobs of a server that stops answering', async () => {
    const hooks: SimHooks = {};
    const [healthy] = await startSims(1);
    const hung = await startSim({ port: 0, stepMs: 1, previews: false, hooks });
    cleanups.push(() => Promise.all([healthy!.close(), hung.close()]));
    let frozen = false;
    hooks.onNodeStart = ({ classType }) => {
      if (frozen || classType !== 'SaveImage') return;
      frozen = true;
      hung.freeze();
    };
    const pool = new Pool({ servers: [hung.url, healthy!.url], ...FAST });
    cleanups.push(() => pool.close());
    const jobs = Array.from({ length: 6 }, (_, i) => pool.run(smallWorkflow(600 + i)));
    const results = await Promise.all(jobs.map((job) => job.result));
    assert.ok(frozen);
    assert.ok(results.every((r) => r.server === healthy!.url), 'every job finished on the server that answers');
    assert.ok(results.some((r) => r.attempts[0]?.outcome === 'moved' && r.attempts[0].server === hung.url));
    assert.equal(pool.servers()[0]?.state, 'down');
    hung.thaw();
  });

  it('reports a job that also finished on a server that hung and came back', async () => {
    const hooks: SimHooks = {};
    const [healthy] = await startSims(1, { stepMs: 2 });
    const flaky = await startSim({ port: 0, stepMs: 2, previews: false, hooks });
    cleanups.push(() => Promise.all([healthy!.close(), flaky.close()]));
    let frozen = false;
    hooks.onNodeStart = ({ classType }) => {
      if (frozen || classType !== 'SaveImage') return;
      frozen = true;
      // It stops answering, but finishes the prompt meanwhile, and answers again once its job has moved.
      flaky.freeze();
    };
    const pool = new Pool({ servers: [flaky.url, healthy!.url], ...FAST, depth: 1 });
    cleanups.push(() => pool.close());
    pool.on('moved', () => flaky.thaw());
    const duplicates: { server: string; promptId: string }[] = [];
    pool.on('duplicate', (info) => duplicates.push({ server: info.server, promptId: info.promptId }));
    const jobs = Array.from({ length: 2 }, (_, i) => pool.run(smallWorkflow(700 + i, { steps: 2 })));
    const results = await Promise.all(jobs.map((job) => job.result));
    const moved = results.flatMap((r) => r.attempts.filter((a) => a.outcome === 'moved'));
    assert.equal(moved.length, 1);
    await until(() => duplicates.length > 0, WAIT_LIMIT_MS, 'the duplicate report');
    assert.deepEqual(duplicates, [{ server: flaky.url, promptId: moved[0]!.promptId }]);
  });

  /** The status of each prompt in a server's history. */
  async function historyOf(sim: SimServer): Promise<Map<string, string | undefined>> {
    const history = (await (await fetch(`${sim.url}/history`)).json()) as Record<string, { status?: { status_str?: string } }>;
    return new Map(Object.entries(history).map(([id, entry]) => [id, entry.status?.status_str]));
  }

  async function queued(sim: SimServer): Promise<string[]> {
    const queue = (await (await fetch(`${sim.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
    return [...queue.queue_running, ...queue.queue_pending].map((item) => String(item[1]));
  }

  it('never runs a moved job twice where both servers answer: its prompt still queued on the hung server is removed when that answers again', async () => {
    const blocker = gate();
    const hooks: SimHooks = {};
    const hung = await startSim({ port: 0, stepMs: 1, previews: false, hooks });
    const [healthy] = await startSims(1);
    cleanups.push(() => blocker.open());
    cleanups.push(() => Promise.all([hung.close(), healthy!.close()]));
    // Another client's prompt keeps the server busy, so that ours waits in its queue.
    const blockerId = 'another-clients-prompt';
    hooks.onNodeStart = ({ promptId }) => (promptId === blockerId ? blocker.wait() : undefined);
    const submitted = await fetch(`${hung.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: smallWorkflow(1), prompt_id: blockerId }) });
    assert.equal(submitted.status, 200);
    const pool = new Pool({ servers: [hung.url], ...FAST });
    cleanups.push(() => pool.close());
    const job = pool.run(smallWorkflow(810));
    await until(() => job.submission === 'accepted', WAIT_LIMIT_MS, 'the job to be queued on the first server');
    const first = job.promptId;
    assert.ok((await queued(hung)).includes(first));
    pool.add(healthy!.url);
    await until(() => pool.servers()[1]?.state === 'up', WAIT_LIMIT_MS, 'the second server to join');
    hung.freeze();
    const result = await job.result;
    assert.equal(result.server, healthy!.url);
    assert.deepEqual(result.attempts.map((attempt) => attempt.outcome), ['moved', 'done']);
    hung.thaw();
    // Back, it still holds the prompt the pool gave up on: the pool removes it.
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while ((await queued(hung)).includes(first)) {
      assert.ok(Date.now() < deadline, 'the abandoned prompt was never removed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    blocker.open();
    while ((await historyOf(hung)).get(blockerId) === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await historyOf(hung)).has(first), false, 'the moved job never ran on the server that hung');
    assert.equal((await historyOf(healthy!)).get(result.promptId), 'success');
  });

  it('never runs a moved job twice where both servers answer: its prompt still running on the hung server is interrupted when that answers again', async () => {
    const logs: string[] = [];
    const hooks: SimHooks = {};
    const hung = await startSim({ port: 0, stepMs: 1, previews: false, hooks, log: (line) => logs.push(line) });
    const [healthy] = await startSims(1);
    cleanups.push(() => Promise.all([hung.close(), healthy!.close()]));
    let held: string | undefined;
    // Our prompt stops at its sampler, and goes on only once the server is told to interrupt it.
    hooks.onNodeStart = async ({ promptId, classType }) => {
      if (classType !== 'KSampler' || held !== undefined) return;
      held = promptId;
      const seen = logs.length;
      await until(() => logs.slice(seen).some((line) => line === `Interrupting prompt ${promptId}`), 60_000, 'the interrupt');
    };
    const pool = new Pool({ servers: [hung.url], ...FAST });
    cleanups.push(() => pool.close());
    const job = pool.run(smallWorkflow(820));
    await until(() => held !== undefined, WAIT_LIMIT_MS, 'the job to run on the first server');
    pool.add(healthy!.url);
    await until(() => pool.servers()[1]?.state === 'up', WAIT_LIMIT_MS, 'the second server to join');
    hung.freeze();
    const result = await job.result;
    assert.equal(result.server, healthy!.url);
    hung.thaw();
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while ((await historyOf(hung)).get(held as string) === undefined) {
      assert.ok(Date.now() < deadline, 'the abandoned prompt never ended');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await historyOf(hung)).get(held as string), 'error', 'interrupted, never finished');
    assert.equal((await historyOf(healthy!)).get(result.promptId), 'success');
  });

  it('takes a server back when it returns after a crash', async () => {
    const hooks: SimHooks = {};
    let victim = await startSim({ port: 0, stepMs: 1, previews: false, hooks });
    // The other server finishes nothing until the returning one has taken a job: work is left for it.
    const steadyHeld = gate();
    const steady = await startSim({ port: 0, stepMs: 5, previews: false, hooks: { onNodeStart: ({ classType }) => (classType === 'SaveImage' ? steadyHeld.wait() : undefined) } });
    cleanups.push(() => steadyHeld.open());
    const port = victim.port;
    const dataDir = victim.dataDir;
    cleanups.push(() => Promise.all([victim.close(), steady.close()]));
    const states: string[] = [];
    let restarted = false;
    hooks.onNodeStart = async ({ classType }) => {
      if (restarted || classType !== 'SaveImage') return;
      restarted = true;
      // Back once the pool has seen it down.
      void victim.kill().then(async () => {
        await until(() => states.includes('down'), WAIT_LIMIT_MS, 'the pool to see the crash');
        victim = await startSim({ port, dataDir, stepMs: 1, previews: false });
      });
      await new Promise<never>(() => undefined);
    };
    const pool = new Pool({ servers: [`http://127.0.0.1:${port}`, steady.url], ...FAST });
    cleanups.push(() => pool.close());
    let afterReturn = 0;
    pool.on('server', (info) => {
      if (info.index === 0 && states.at(-1) !== info.state) states.push(info.state);
    });
    pool.on('dispatched', (info) => {
      if (info.server === `http://127.0.0.1:${port}` && states.join() === 'up,down,up') {
        afterReturn += 1;
        steadyHeld.open();
      }
    });
    const jobs = Array.from({ length: 16 }, (_, i) => pool.run(smallWorkflow(400 + i, { steps: 20 })));
    const results = await Promise.all(jobs.map((job) => job.result));
    assert.deepEqual(states.slice(0, 3), ['up', 'down', 'up'], `states of the crashed server: ${states.join(' → ')}`);
    assert.ok(afterReturn > 0, 'the returning server took jobs again');
    assert.equal(results.length, 16);
  });

  it('fails the jobs it still follows when it is closed', async () => {
    // The running job never gets to its end before the pool is closed.
    const held = gate();
    const [sim] = await startSims(1, { stepMs: 20, hooks: { onNodeStart: ({ classType }) => (classType === 'SaveImage' ? held.wait() : undefined) } });
    cleanups.push(() => sim!.close());
    cleanups.push(() => held.open());
    const pool = new Pool({ servers: [sim!.url], ...FAST });
    const running = pool.run(smallWorkflow(800, { steps: 50 }));
    const waiting = pool.run(smallWorkflow(801));
    const queuedBehind = pool.run(smallWorkflow(802));
    await new Promise<void>((resolve) => running.once('started', () => resolve()));
    const runningPrompt = running.promptId;
    pool.close();
    for (const job of [running, waiting, queuedBehind]) {
      const error = await job.result.then(
        () => undefined,
        (failure: unknown) => failure,
      );
      assert.ok(isPyrosError(error) && error.kind === 'cancelled', String(error));
      assert.equal(error.reason, 'pool-closed');
      assert.ok(error.fields.promptId && error.message.includes(error.fields.promptId), error.message);
    }
    const runningError = (await running.result.then(() => undefined, (error: unknown) => error)) as PyrosError;
    assert.deepEqual([runningError.fields.promptId, runningError.fields.server], [runningPrompt, sim!.url], 'the prompt on the server, and the server, are named');
    assert.throws(() => pool.run(smallWorkflow(803)), (error: unknown) => isPyrosError(error) && error.reason === 'pool-closed');
  });

  it('fails a job at its own time limit where it runs, without moving it to another server', async () => {
    const sims = await startSims(2, { stepMs: 200 });
    cleanups.push(() => Promise.all(sims.map((sim) => sim.close())));
    const pool = new Pool({ servers: sims.map((sim) => sim.url), ...FAST });
    cleanups.push(() => pool.close());
    const moved: string[] = [];
    pool.on('moved', (info) => moved.push(info.from));
    const job = pool.run(smallWorkflow(900, { steps: 100 }), { timeoutMs: 1_500 });
    const error = await job.result.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    assert.ok(isPyrosError(error) && error.kind === 'timeout', String(error));
    assert.ok(error.reason === 'job' || error.reason === 'job-not-accepted', String(error.reason));
    assert.equal(error.fields.limitMs, 1_500);
    assert.deepEqual(moved, []);
    assert.equal(job.attempts.length, 1);
  });

  it('runs everything on the others when a server is never up, and fails fast when none is', { timeout: 120_000 }, async (t) => {
    const sim = await startSim({ port: 0, stepMs: 1, previews: false });
    cleanups.push(() => sim.close());
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const pool = new Pool({ servers: [dead, sim.url], ...FAST });
    cleanups.push(() => pool.close());
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.run(smallWorkflow(500 + i)).result));
    assert.ok(results.every((r) => r.server === sim.url));
    assert.equal(pool.servers()[0]?.state, 'down');
    assert.match(pool.servers()[0]?.reason ?? '', /connection refused/);

    const deadToo = `http://127.0.0.1:${await closedPort()}`;
    // The clock stands still (no probe retried, no waiting limit reached): the job fails at once.
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const nowhere = new Pool({ servers: [dead, deadToo], ...FAST, unavailableMs: 3_600_000 });
    cleanups.push(() => nowhere.close());
    const failure = await nowhere.run(smallWorkflow(1)).result.then(
      () => undefined,
      (error: unknown) => error,
    );
    t.mock.timers.reset();
    assert.ok(isPyrosError(failure) && failure.kind === 'connection', String(failure));
    assert.equal(failure.reason, 'unavailable');
    assert.deepEqual(failure.fields.servers?.map((entry) => entry.server), nowhere.servers().map((info) => info.server));
    assert.match((failure as Error).message, /No server of the pool is reachable/);
  });
});
