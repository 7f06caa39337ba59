/**
 * A lost answer to POST /prompt does not lose the job: the client chose the prompt id, so it
 * asks the server for it. Real sockets: a proxy in front of the simulator cuts the answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.ts';
import { isPyrosError } from '../../src/errors.ts';
import { startFaultSim, tinyWorkflow, type FaultSim } from '../support/faults.ts';
import { startCutProxy, type CutProxy } from '../support/cut-proxy.ts';

function postsOf(sim: FaultSim): number {
  return sim.requests.filter((request) => request.method === 'POST' && request.path === '/prompt').length;
}

describe('a lost answer to POST /prompt', () => {
  let sim: FaultSim;
  let proxy: CutProxy;
  before(async () => {
    sim = await startFaultSim({ stepMs: 0, previews: false });
    proxy = await startCutProxy({ port: sim.port }, { times: 0 });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it('is found by its id when the server queued the prompt: the job follows it to its outputs', async () => {
    sim.requests.length = 0;
    proxy.mode = 'cut';
    proxy.left = 1;
    const client = new Client({ server: proxy.url });
    try {
      const job = client.run(tinyWorkflow({ seed: 5101 }), { lostAnswerCheckMs: 2_000 });
      let submitted = 0;
      job.on('submitted', () => submitted++);
      const result = await job.result;
      assert.equal(proxy.treated >= 1, true);
      assert.equal(job.submission, 'accepted');
      assert.equal(submitted, 1);
      assert.equal(result.promptId, job.promptId);
      assert.equal(result.outputs.length, 1);
      assert.equal(postsOf(sim), 1, 'submitted once');
    } finally {
      client.close();
    }
  });

  it('fails as not queued when the server, asked since, does not have it', async () => {
    sim.requests.length = 0;
    proxy.mode = 'drop';
    proxy.left = 1;
    const client = new Client({ server: proxy.url });
    try {
      const job = client.run(tinyWorkflow({ seed: 5102 }), { lostAnswerCheckMs: 300 });
      const error = await job.result.then(
        () => assert.fail('the job should fail'),
        (e: unknown) => e,
      );
      assert.ok(isPyrosError(error));
      assert.equal(error.kind, 'lost');
      assert.equal(error.reason, 'not-queued');
      assert.equal(error.fields.promptId, job.promptId);
      assert.equal(job.submission, 'absent');
      assert.equal(postsOf(sim), 0, 'the request never reached the server');
      // It was asked more than once before that was decided.
      assert.ok(sim.requests.filter((request) => request.path === `/history/${job.promptId}`).length >= 2);
    } finally {
      client.close();
    }
  });

  it('stays unknown (and is not called absent) when the server cannot be asked', async () => {
    sim.requests.length = 0;
    proxy.mode = 'cut';
    proxy.left = 1;
    const before = proxy.treated;
    // After the cut, the server leaves every question about its queue and history unanswered.
    sim.hooks = { onRequest: ({ path }) => proxy.treated > before && (path.startsWith('/history') || path === '/queue') };
    const client = new Client({ server: proxy.url });
    try {
      const job = client.run(tinyWorkflow({ seed: 5103 }), { lostAnswerCheckMs: 300 });
      const error = await job.result.then(
        () => assert.fail('the job should fail'),
        (e: unknown) => e,
      );
      assert.ok(isPyrosError(error));
      assert.equal(error.kind, 'connection');
      assert.equal(error.reason, 'submission-unknown');
      assert.equal(job.submission, 'unknown');
      assert.equal(postsOf(sim), 1);
    } finally {
      sim.hooks = {};
      client.close();
    }
  });
});
