import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../src/client/job.ts';
import { DeferredReporter } from '../../src/cli/interactive/deferred-reporter.ts';
import type { Reporter } from '../../src/cli/reporters/reporter.ts';
import type { SavedFile } from '../../src/outputs/save.ts';
import { FakeJob, node } from '../ui/fixtures/fake-job.ts';
import { until } from '../support/wait.ts';

/** Writes down every call, and every event of the job it follows, as it happens. */
function recorder(): { reporter: Reporter; calls: string[] } {
  const calls: string[] = [];
  const reporter: Reporter = {
    note: (message) => calls.push(`note ${message}`),
    debug: (message) => calls.push(`debug ${message}`),
    phase: (phase) => calls.push(`phase ${phase}`),
    dispatched: (info) => calls.push(`dispatched ${info.promptId}`),
    moved: (info) => calls.push(`moved ${info.promptId}`),
    follow: (job) => {
      calls.push(`follow ${job.promptId}`);
      job.on('started', () => calls.push('event started'));
      job.on('progress', (info) => calls.push(`event progress ${info.value}`));
      job.on('preview', (info) => calls.push(`event preview ${info.image.toString()}`));
      job.result.then(
        () => calls.push('result settled'),
        () => calls.push('result failed'),
      );
    },
    saved: (file) => calls.push(`saved ${file.path}`),
    result: (lines) => calls.push(`result ${lines.join('|')}`),
    error: (block) => calls.push(`error ${block.title}`),
    close: () => calls.push('close'),
  };
  return { reporter, calls };
}

const sampler = node('3', 'KSampler');

describe('deferred reporter', () => {
  it('holds calls and job events back, then plays them in order and passes the rest through', async () => {
    const { reporter, calls } = recorder();
    const deferred = new DeferredReporter(reporter);
    const job = new FakeJob('p-1');
    deferred.phase('connecting');
    deferred.follow(job as unknown as Job);
    job.emit('started');
    job.emit('progress', { node: sampler, value: 1, max: 2 });
    job.emit('preview', { mime: 'image/jpeg', image: Buffer.from('first'), node: sampler });
    job.emit('progress', { node: sampler, value: 2, max: 2 });
    job.emit('preview', { mime: 'image/jpeg', image: Buffer.from('second'), node: sampler });
    job.resolve();
    await job.result;
    deferred.phase('downloading');
    deferred.saved({ path: 'images/a.png' } as SavedFile);
    // A full turn of the event loop: whatever was queued meanwhile has run.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [], 'nothing reaches the reporter before its turn');
    assert.equal(deferred.active, false);

    await deferred.activate();
    assert.deepEqual(calls, [
      'phase connecting',
      'follow p-1',
      'event started',
      'event progress 1',
      'event progress 2',
      'event preview second',
      'result settled',
      'phase downloading',
      'saved images/a.png',
    ]);
    assert.equal(deferred.active, true);
    deferred.result(['done'], {});
    deferred.close();
    assert.deepEqual(calls.slice(-2), ['result done', 'close']);
  });

  it('passes events straight through once active, and a failed job settles as failed', async () => {
    const { reporter, calls } = recorder();
    const deferred = new DeferredReporter(reporter);
    const job = new FakeJob('p-2');
    deferred.follow(job as unknown as Job);
    await deferred.activate();
    job.emit('started');
    assert.deepEqual(calls, ['follow p-2', 'event started']);
    job.reject(new Error('boom'));
    await until(() => calls.length > 2, undefined, 'the result to reach the reporter');
    assert.deepEqual(calls.slice(2), ['result failed']);
  });
});
