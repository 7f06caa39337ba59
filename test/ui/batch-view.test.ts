/** The batch view's model and rows: totals, rate and time left, one row per server. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchModel } from '../../src/ui/batch/model.ts';
import { batchLines } from '../../src/ui/batch/view.ts';

const spinner = { frames: ['-'], interval: 80 };

describe('batch view', () => {
  it('counts done, failed and left, and estimates the time left from the observed rate', () => {
    let now = 0;
    const model = new BatchModel({ total: 10, servers: ['http://a:1', 'http://b:2'], now: () => now });
    assert.equal(model.remainingMs(), undefined, 'no estimate before a job finished');
    now = 2_000;
    model.finished(0, true);
    model.finished(1, true);
    model.finished(2, false);
    model.finished(2, true); // a second report of the same job changes nothing
    assert.deepEqual([model.done, model.failed, model.remaining], [2, 1, 7]);
    assert.equal(model.jobsPerSecond(), 1.5);
    assert.equal(Math.round(model.remainingMs() ?? 0), Math.round((7 / 1.5) * 1000));
  });

  it('shows each server with its state, the job it runs and that job’s step', () => {
    let now = 0;
    const model = new BatchModel({ total: 30, servers: ['http://127.0.0.1:8188', 'http://127.0.0.1:8189'], now: () => now });
    model.server({ server: 'http://127.0.0.1:8188', state: 'up', finished: 4 });
    model.server({ server: 'http://127.0.0.1:8189', state: 'down', reason: 'connection refused', retryInMs: 3_000 });
    model.dispatched(12, 'http://127.0.0.1:8188');
    model.dispatched(13, 'http://127.0.0.1:8188');
    model.node(12, 'KSampler');
    model.progress(12, 7, 20);
    now = 1_000;
    model.finished(0, true);
    const rows = batchLines(model, { width: 100, color: false, timeMs: now, spinner });
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, /^- 1\/30 done · 29 left · 1\.0 jobs\/s · ~0:29 left · 0:01 elapsed$/);
    assert.match(rows[1]!, /^ {2}127\.0\.0\.1:8188 {2}up {8}job 13\/30 {2}KSampler 7\/20 {2}\(\+1 queued\) {2}4 run$/);
    assert.match(rows[2]!, /^ {2}127\.0\.0\.1:8189 {2}down {6}retry in 2s · connection refused$/);
  });

  it('forgets the server of a job that moved, and fits every row to the width', () => {
    const model = new BatchModel({ total: 2, servers: ['http://127.0.0.1:8188'] });
    model.server({ server: 'http://127.0.0.1:8188', state: 'up' });
    model.dispatched(0, 'http://127.0.0.1:8188');
    model.started(0);
    model.moved(0);
    assert.equal(model.activityOf('http://127.0.0.1:8188').running, undefined);
    for (const row of batchLines(model, { width: 20, color: false, timeMs: 0, spinner })) assert.ok(row.length <= 20, row);
  });
});
