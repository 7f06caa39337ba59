/**
 * The Pool driven directly against simulators, for what test/pool/pool.test.ts leaves out: the
 * states its members go through, a job kept on a pool of one while its server is away, the
 * events and uploads of a job that moves, a prompt taken back when its server rejoins before the
 * job went elsewhere, `Pool.follow`, and `PoolJob.submission`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pool, type PoolJob, type PoolOptions, type PoolServerInfo } from '../../src/client/pool.ts';
import type { UploadedInput } from '../../src/client/uploads.ts';
import { isPyrosError, type PyrosError } from '../../src/errors.ts';
import { NodeError } from '../../src/sim/index.ts';
import { closedPort } from '../support/cli.ts';
import { gate, holdNode, isQueued, startFaultSim, submitAsOtherClient, tinyWorkflow, waitForHistory, type FaultSim } from '../support/faults.ts';
import { until } from '../support/wait.ts';
import { png } from '../gallery/fixtures/outputs.ts';

const FAST = { probeTimeoutMs: 1_000, retryBaseMs: 100, retryMaxMs: 400, pingIntervalMs: 400, quietCheckMs: 300, requestTimeoutMs: 1_500 } as const;

async function failure(job: PoolJob): Promise<PyrosError> {
  const error = await job.result.then(
    () => undefined,
    (cause: unknown) => cause,
  );
  assert.ok(isPyrosError(error), `expected a PyrosError, got ${String(error)}`);
  return error;
}

const postsTo = (sim: FaultSim, path: string): number => sim.requests.filter((r) => r.method === 'POST' && r.path === path).length;

/** A workflow that also loads an image (node 10) and saves it (node 11). */
function loaderWorkflow(seed: number): ReturnType<typeof tinyWorkflow> {
  const workflow = tinyWorkflow({ seed, prefix: 'pool' });
  workflow['10'] = { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Load Image' } };
  workflow['11'] = { class_type: 'SaveImage', inputs: { images: ['10', 0], filename_prefix: 'loaded' } };
  return workflow;
}

describe('Pool (direct)', () => {
  const cleanups: (() => unknown)[] = [];
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pyros-pool-'));
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await rm(root, { recursive: true, force: true });
  });
  const sims = async (count: number): Promise<FaultSim[]> => {
    const made = await Promise.all(Array.from({ length: count }, () => startFaultSim({ stepMs: 2, previews: false })));
    cleanups.push(() => Promise.all(made.map((sim) => sim.close())));
    return made;
  };
  const pool = (options: PoolOptions): Pool => {
    const made = new Pool({ ...FAST, ...options });
    cleanups.push(() => made.close());
    return made;
  };

  it('tells each member’s state: connecting, then up (with its load) or down (with why and when it is tried again)', async () => {
    const [sim] = (await sims(1)) as [FaultSim];
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const servers = pool({ servers: [sim.url, dead] });
    assert.deepEqual(
      servers.servers().map((info) => [info.server, info.state, info.jobs, info.finished]),
      [
        [sim.url, 'connecting', 0, 0],
        [dead, 'connecting', 0, 0],
      ],
    );
    const events: PoolServerInfo[] = [];
    servers.on('server', (info) => events.push(info));
    const job = servers.run(tinyWorkflow({ seed: 1 }));
    await job.result;
    await until(() => events.some((e) => e.server === dead && e.state === 'down'), undefined, 'the dead member to be down');
    const live = events.filter((e) => e.server === sim.url);
    assert.equal(live[0]?.state, 'up', 'the first thing heard of the live member is that it is up');
    assert.ok(live.some((e) => e.state === 'up' && e.jobs === 1), 'its load while the job runs');
    const down = events.find((e) => e.server === dead && e.state === 'down');
    assert.match(down?.reason ?? '', /connection refused/);
    assert.ok((down?.retryInMs ?? -1) >= 0 && (down?.retryInMs ?? Infinity) <= FAST.retryMaxMs);
    const now = servers.servers();
    assert.deepEqual([now[0]?.state, now[0]?.jobs, now[0]?.finished], ['up', 0, 1]);
    assert.equal(now[1]?.state, 'down');
  });

  it('keeps a job on a pool of one while its server is away, then catches up without resubmitting', async () => {
    const [sim] = (await sims(1)) as [FaultSim];
    const hung = gate();
    // The server stops answering as the job saves its image (the run goes on inside it).
    sim.hooks = {
      onNodeStart: ({ classType }) => {
        if (classType !== 'SaveImage' || hung.isOpen) return;
        hung.open();
        sim.freeze();
      },
    };
    const solo = pool({ servers: [sim.url] });
    const states: string[] = [];
    solo.on('server', (info) => {
      if (states.at(-1) !== info.state) states.push(info.state);
    });
    const moved: unknown[] = [];
    solo.on('moved', (info) => moved.push(info));
    const job = solo.run(tinyWorkflow({ seed: 2 }));
    const dispatched = await new Promise<{ promptId: string }>((resolve) => job.once('dispatched', resolve));
    await hung.wait();
    await until(() => states.includes('down'), undefined, 'the pool to see its server down');
    assert.equal(job.phase, 'on-server', 'the job stays on its server');
    sim.thaw();
    const result = await job.result;
    await until(() => states.at(-1) === 'up', undefined, 'the server to rejoin');
    assert.deepEqual(states, ['up', 'down', 'up']);
    assert.equal(result.promptId, dispatched.promptId);
    assert.deepEqual(result.attempts.map((a) => [a.promptId, a.outcome]), [[dispatched.promptId, 'done']]);
    assert.deepEqual(moved, []);
    assert.equal(postsTo(sim, '/prompt'), 1, 'submitted once');
    assert.equal(result.outputs.length, 1);
  });

  it('moves a job off a server that goes away: events in order, a new prompt id, its files uploaded again', async () => {
    const pair = await sims(2);
    const photo = join(root, 'move.png');
    await writeFile(photo, png([40, 80, 160]));
    let victim: FaultSim | undefined;
    const reached = gate();
    const release = gate();
    for (const sim of pair) {
      sim.hooks = {
        onNodeStart: async ({ nodeId }) => {
          if (nodeId !== '3' || (victim && victim !== sim)) return;
          victim = sim;
          reached.open();
          await release.wait();
          throw new NodeError('RuntimeError', 'the server is going down');
        },
      };
    }
    const moving = pool({ servers: pair.map((sim) => sim.url) });
    const job = moving.run(loaderWorkflow(3), { uploads: [{ nodeId: '10', input: 'image', path: photo }] });
    const events: string[] = [];
    const uploads: UploadedInput[] = [];
    job.on('dispatched', (info) => events.push(`dispatched ${info.attempt} ${info.server} ${info.promptId}`));
    job.on('moved', (info) => events.push(`moved ${info.from} ${info.promptId}`));
    job.on('uploaded', (info) => uploads.push(info));
    assert.equal(job.submission, 'not-sent');
    await reached.wait();
    const first = job.promptId;
    assert.equal(job.submission, 'accepted');
    const from = victim as FaultSim;
    const other = pair.find((sim) => sim !== from) as FaultSim;
    release.open();
    await from.stop();
    const result = await job.result;
    assert.notEqual(result.promptId, first);
    assert.equal(job.promptId, result.promptId);
    assert.deepEqual(events, [`dispatched 1 ${from.url} ${first}`, `moved ${from.url} ${first}`, `dispatched 2 ${other.url} ${result.promptId}`]);
    assert.deepEqual(
      result.attempts.map((a) => [a.server, a.promptId, a.outcome]),
      [
        [from.url, first, 'moved'],
        [other.url, result.promptId, 'done'],
      ],
    );
    assert.equal(result.server, other.url);
    assert.deepEqual(uploads.map((u) => u.reused), [false, false], 'uploaded to each server');
    assert.equal(postsTo(other, '/upload/image'), 1);
    assert.equal(postsTo(other, '/prompt'), 1);
    assert.equal(result.workflow['10']?.inputs.image, 'move.png');
    assert.equal(result.outputs.length, 2);
    await from.start();
  });

  it('takes its prompt back when the server rejoins before the job went elsewhere', async () => {
    const [a, b] = (await sims(2)) as [FaultSim, FaultSim];
    // B is busy with another client's prompt, so a job moved off A has nowhere to go.
    const busyB = gate();
    const busyReached = gate();
    b.hooks = holdNode('3', busyB, busyReached);
    const blocker = await submitAsOtherClient(b, tinyWorkflow({ seed: 4 }));
    await busyReached.wait();
    const heldOnA = gate();
    const reachedA = gate();
    a.hooks = {
      onNodeStart: async ({ nodeId }) => {
        if (nodeId !== '3') return;
        reachedA.open();
        a.freeze();
        await heldOnA.wait();
      },
    };
    const rejoin = pool({ servers: [a.url, b.url], depth: 1 });
    const job = rejoin.run(tinyWorkflow({ seed: 5 }));
    const dispatches: { server: string; promptId: string; attempt: number }[] = [];
    job.on('dispatched', (info) => dispatches.push(info));
    const moved = new Promise<{ from: string; promptId: string }>((resolve) => job.once('moved', resolve));
    await reachedA.wait();
    const first = job.promptId;
    const off = await moved;
    assert.deepEqual([off.from, off.promptId], [a.url, first]);
    assert.equal(job.phase, 'waiting', 'waiting for a server with room');
    a.thaw();
    await until(() => dispatches.length === 2, undefined, 'the job to be taken back');
    heldOnA.open();
    const result = await job.result;
    assert.equal(result.promptId, first, 'the same prompt, followed again');
    assert.equal(result.server, a.url);
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.server, attempt.promptId, attempt.outcome]),
      [
        [a.url, first, 'moved'],
        [a.url, first, 'done'],
      ],
    );
    assert.deepEqual(dispatches.map((d) => [d.server, d.promptId, d.attempt]), [
      [a.url, first, 1],
      [a.url, first, 2],
    ]);
    assert.equal(postsTo(a, '/prompt'), 1, 'never submitted again');
    assert.equal(postsTo(b, '/prompt'), 1, 'only the other client’s prompt reached B');
    busyB.open();
    await waitForHistory(b, blocker);
  });

  it('follows a prompt on whichever server knows it', async () => {
    const trio = await sims(3);
    const [, b, c] = trio as [FaultSim, FaultSim, FaultSim];
    const finished = await submitAsOtherClient(b, tinyWorkflow({ seed: 6 }));
    await waitForHistory(b, finished);
    const held = gate();
    const reached = gate();
    c.hooks = holdNode('3', held, reached);
    const running = await submitAsOtherClient(c, tinyWorkflow({ seed: 7 }));
    await reached.wait();
    const followers = pool({ servers: trio.map((sim) => sim.url) });

    const onB = await followers.follow(finished).result;
    assert.equal(onB.server, b.url);
    assert.equal(onB.promptId, finished);
    assert.equal(onB.workflow['3']?.inputs.seed, 6);

    const job = followers.follow(running);
    await new Promise<void>((resolve) => job.once('started', () => resolve()));
    assert.equal(job.server, c.url);
    held.open();
    const onC = await job.result;
    assert.deepEqual([onC.server, onC.promptId, onC.outputs.length], [c.url, running, 1]);
    assert.equal(trio.reduce((n, sim) => n + postsTo(sim, '/prompt'), 0), 2, 'following submits nothing');

    // Told where to look, it looks there only.
    const pinned = await followers.follow(finished, { server: b.url }).result;
    assert.equal(pinned.server, b.url);
    // Known nowhere: the error says so of every server asked, not of the first one alone.
    const nowhere = await failure(followers.follow('00000000-0000-4000-8000-0000000000ff'));
    assert.deepEqual([nowhere.kind, nowhere.reason, nowhere.fields.promptId], ['lost', 'unknown', '00000000-0000-4000-8000-0000000000ff']);
    assert.deepEqual(nowhere.fields.servers?.map((entry) => entry.server), trio.map((sim) => sim.url));
    for (const sim of trio) assert.ok(nowhere.message.includes(sim.url), nowhere.message);
    const stranger = await failure(followers.follow(finished, { server: 'http://127.0.0.1:1' }));
    assert.deepEqual([stranger.kind, stranger.reason], ['usage', 'not-in-pool']);
  });

  it('says whether the server of the last attempt got the prompt (PoolJob.submission)', async () => {
    const [sim] = (await sims(1)) as [FaultSim];
    const one = pool({ servers: [sim.url] });
    const fine = one.run(tinyWorkflow({ seed: 8 }));
    assert.equal(fine.submission, 'not-sent', 'waiting in the pool');
    await fine.result;
    assert.equal(fine.submission, 'accepted');

    const invalid = tinyWorkflow({ seed: 9 });
    (invalid['5'] as { inputs: Record<string, unknown> }).inputs.width = 0;
    const rejected = one.run(invalid);
    assert.equal((await failure(rejected)).kind, 'rejected');
    assert.equal(rejected.submission, 'rejected');

    const nowhere = pool({ servers: [`http://127.0.0.1:${await closedPort()}`] });
    const unsent = nowhere.run(tinyWorkflow({ seed: 10 }));
    assert.equal((await failure(unsent)).kind, 'connection');
    assert.equal(unsent.submission, 'not-sent');

    // Cancelled while waiting for a server with room: nothing reaches any server.
    const held = gate();
    const reached = gate();
    sim.hooks = holdNode('3', held, reached);
    const narrow = pool({ servers: [sim.url], depth: 1 });
    const running = narrow.run(tinyWorkflow({ seed: 11 }));
    await reached.wait();
    const controller = new AbortController();
    const waiting = narrow.run(tinyWorkflow({ seed: 12 }), { signal: controller.signal });
    const before = postsTo(sim, '/prompt');
    controller.abort();
    const cancelled = await failure(waiting);
    assert.equal(cancelled.kind, 'cancelled');
    assert.equal(waiting.submission, 'not-sent');
    assert.equal(waiting.attempts.length, 0);
    held.open();
    await running.result;
    assert.equal(postsTo(sim, '/prompt'), before, 'the cancelled job was never sent');
    assert.equal(await isQueued(sim, waiting.promptId), false);
  });
});
