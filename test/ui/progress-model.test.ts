import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeQueue, ProgressModel } from '../../src/ui/progress-model.ts';
import { StepRate } from '../../src/ui/step-rate.ts';
import { node } from './fixtures/fake-job.ts';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const sampler = node('3', 'My sampler', 'KSampler');

describe('StepRate', () => {
  it('estimates steps per second from the recent ticks', () => {
    const rate = new StepRate(4);
    assert.equal(rate.perSecond(), undefined);
    rate.add(1, 20, 0);
    assert.equal(rate.perSecond(), undefined, 'one tick is not a rate');
    for (let step = 2; step <= 6; step++) rate.add(step, 20, (step - 1) * 500);
    assert.equal(rate.perSecond(), 2);
    // The window forgets an early slow phase.
    const warm = new StepRate(4);
    warm.add(1, 20, 0);
    warm.add(2, 20, 5000);
    for (let step = 3; step <= 8; step++) warm.add(step, 20, 5000 + (step - 2) * 250);
    assert.equal(warm.perSecond(), 4);
  });

  it('counts down between ticks but never below the unstarted steps, never negative or NaN', () => {
    const rate = new StepRate();
    rate.add(1, 5, 0);
    rate.add(2, 5, 1000);
    assert.equal(rate.remainingMs(1000), 3000);
    assert.equal(rate.remainingMs(1500), 2500);
    assert.equal(rate.remainingMs(60_000), 2000, 'a slow step holds at the steps not yet started');
    rate.add(5, 5, 2000);
    assert.equal(rate.remainingMs(2500), 0);
    assert.equal(rate.remainingMs(500), 0);
  });

  it('starts over on a new pass and ignores nonsense', () => {
    const rate = new StepRate();
    rate.add(1, 10, 0);
    rate.add(5, 10, 1000);
    rate.add(1, 10, 1100); // value went back: second sampler pass
    assert.equal(rate.perSecond(), undefined);
    rate.add(2, 10, 1100); // no time between ticks
    assert.equal(rate.perSecond(), undefined);
    rate.add(Number.NaN, 10, 1200);
    rate.add(3, Number.POSITIVE_INFINITY, 1300);
    assert.equal(rate.remainingMs(2000), undefined);
    rate.add(3, 10, 1600);
    assert.equal(rate.perSecond(), 4);
    const remaining = rate.remainingMs(1600);
    assert.ok(remaining !== undefined && Number.isFinite(remaining) && remaining >= 0);
  });
});

describe('ProgressModel', () => {
  it('follows a run: queued, node, steps with time left, nodes done', () => {
    const time = clock();
    const model = new ProgressModel({ now: time.now });
    model.setPhase('connecting', { text: 'http://127.0.0.1:8188' });
    model.submitted({ promptId: 'p1', warnings: [{ nodeId: '9', title: 'Save', message: 'output skipped' }] });
    assert.equal(model.state.phase, 'queued');
    assert.deepEqual(model.state.warnings, ['Save: output skipped']);
    model.queued({ position: 2, ahead: 2, pending: 3, running: 1 });
    assert.equal(describeQueue(model.state.queue), 'Queued at position 2 of 3 (1 running)');
    time.advance(2000);
    model.started();
    assert.equal(model.state.phase, 'running');
    assert.equal(model.state.runStartedAt, time.now());
    model.cached([node('1', 'Load'), node('2', 'Encode')]);
    model.overall({ done: 2, total: 7 });
    model.node(sampler);
    assert.equal(model.state.node?.title, 'My sampler');
    assert.equal(model.remainingMs(), undefined, 'no estimate before steps');
    for (let value = 1; value <= 5; value++) {
      time.advance(250);
      model.progress({ node: sampler, value, max: 20 });
    }
    assert.deepEqual(model.state.step, { value: 5, max: 20 });
    assert.equal(model.stepsPerSecond(), 4);
    assert.equal(model.remainingMs(), 3750);
    time.advance(1000);
    assert.equal(model.remainingMs(), 3500, 'holds at the 14 unstarted steps while a step is slow');
    assert.equal(model.elapsedMs(), 2000 + 1250 + 1000);
    model.overall({ done: 9, total: 7 });
    assert.deepEqual(model.state.overall, { done: 7, total: 7 }, 'never more done than total');
  });

  it('moves to running on the first node or progress even without a started event', () => {
    const model = new ProgressModel({ now: clock().now });
    model.submitted({ promptId: 'p' });
    model.progress({ node: sampler, value: 3, max: 8 });
    assert.equal(model.state.phase, 'running');
    assert.equal(model.state.node?.nodeId, '3');
  });

  it('ignores progress of a node it already left, and everything after the run ended', () => {
    const time = clock();
    const model = new ProgressModel({ now: time.now });
    model.submitted({ promptId: 'p' });
    model.node(sampler);
    model.progress({ node: sampler, value: 8, max: 8 });
    const decode = node('8', 'VAE Decode');
    model.node(decode);
    model.progress({ node: sampler, value: 7, max: 8 }); // late tick of the previous node
    assert.equal(model.state.node?.nodeId, '8');
    assert.equal(model.state.step, undefined);
    model.runEnded();
    model.node(node('9', 'Save'));
    model.progress({ node: node('9', 'Save'), value: 1, max: 2 });
    model.overall({ done: 1, total: 9 });
    model.preview({ mime: 'image/jpeg', image: Buffer.alloc(1), node: undefined });
    assert.equal(model.state.node?.nodeId, '8');
    assert.equal(model.state.step, undefined);
    assert.equal(model.state.overall, undefined);
    assert.equal(model.state.preview, undefined);
    model.setPhase('downloading', { done: 0, total: 2 });
    model.queued({ position: 1, ahead: 0, pending: 1, running: 0 });
    assert.equal(model.state.phase, 'downloading', 'a late queue refresh does not go back');
  });

  it('stops the clock at the end and starts fresh on reset', () => {
    const time = clock();
    const model = new ProgressModel({ now: time.now });
    model.submitted({ promptId: 'p' });
    time.advance(5000);
    model.finish('done');
    time.advance(5000);
    assert.equal(model.elapsedMs(), 5000);
    assert.equal(model.remainingMs(), undefined);
    const changes: string[] = [];
    model.subscribe((change) => changes.push(change));
    model.reset('2/3');
    assert.equal(model.state.phase, 'idle');
    assert.equal(model.state.label, '2/3');
    assert.equal(model.state.promptId, undefined);
    assert.equal(model.elapsedMs(), 0);
    model.node(sampler);
    assert.equal(model.state.node?.nodeId, '3', 'a reset model takes events again');
    assert.deepEqual(changes, ['reset', 'phase', 'node']);
  });

  it('shows a lost connection until it is back, and not the routine checks', () => {
    const model = new ProgressModel({ now: clock().now });
    model.connection({ state: 'checking' });
    assert.equal(model.state.connection, undefined);
    model.connection({ state: 'reconnecting', attempt: 2 });
    assert.deepEqual(model.state.connection, { state: 'reconnecting', attempt: 2 });
    model.connection({ state: 'reconnected' });
    assert.equal(model.state.connection, undefined);
  });

  it('describes queue positions', () => {
    assert.equal(describeQueue(undefined), 'Queued');
    assert.equal(describeQueue({ position: 1, ahead: 0, pending: 1, running: 0 }), 'Queued at position 1');
    assert.equal(describeQueue({ position: 1, ahead: 1, pending: 1, running: 1 }), 'Queued at position 1 (1 running)');
    assert.equal(describeQueue({ position: 4, ahead: 4, pending: 6, running: 1 }), 'Queued at position 4 of 6 (1 running)');
  });
});
