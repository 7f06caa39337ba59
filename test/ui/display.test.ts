import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../src/client/job.ts';
import { chooseDisplayMode, createDisplay, type JobSource } from '../../src/ui/index.ts';
import { FakeJob, node } from './fixtures/fake-job.ts';
import { JPEG_PREVIEW } from './fixtures/frames.ts';
import { VirtualTerminal } from './fixtures/virtual-terminal.ts';
import { until } from '../support/wait.ts';

// A real Job is something the display can follow (fails to compile if the two drift apart).
const jobIsFollowable = (job: Job): JobSource => job;
void jobIsFollowable;

function collect() {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY: false, write: (text: string) => (chunks.push(text), true) }, text: () => chunks.join('') };
}

const sampler = node('3', 'My sampler', 'KSampler');

/** A typical run: queue, cached nodes, a sampler with 20 steps and previews, a decode. */
async function runJob(job: FakeJob): Promise<void> {
  job.emit('submitted', { promptId: job.promptId, number: 1, warnings: [{ nodeId: '9', title: 'Save', message: 'output skipped' }] });
  job.emit('queued', { position: 2, ahead: 1, pending: 2, running: 1 });
  job.emit('queued', { position: 2, ahead: 1, pending: 2, running: 1 });
  job.emit('queued', { position: 1, ahead: 1, pending: 1, running: 1 });
  job.emit('started');
  job.emit('cached', { nodes: [node('1', 'Load')] });
  job.emit('overall', { done: 1, total: 4 });
  job.emit('node', sampler);
  for (let value = 1; value <= 20; value++) {
    job.emit('progress', { node: sampler, value, max: 20 });
    job.emit('preview', { mime: 'image/jpeg', image: JPEG_PREVIEW, node: sampler });
  }
  job.emit('connection', { state: 'reconnecting', attempt: 1, delayMs: 100, reason: 'closed' });
  job.emit('connection', { state: 'reconnected' });
  job.emit('overall', { done: 3, total: 4 });
  job.emit('node', node('8', 'VAE Decode'));
  job.resolve();
  // The display's own reaction to the result was registered first (attach), so it has run.
  await job.result;
}

describe('display mode', () => {
  it('is live only on a colour terminal', () => {
    assert.equal(chooseDisplayMode({ isTTY: true, env: { TERM: 'xterm-256color' } }), 'live');
    assert.equal(chooseDisplayMode({ isTTY: false, env: {} }), 'plain');
    assert.equal(chooseDisplayMode({ isTTY: true, env: { TERM: 'dumb' } }), 'plain');
    assert.equal(chooseDisplayMode({ isTTY: true, env: { NO_COLOR: '1' } }), 'plain');
    assert.equal(chooseDisplayMode({ isTTY: true, env: { NO_COLOR: '' } }), 'live', 'an empty NO_COLOR does not count');
    assert.equal(chooseDisplayMode({ isTTY: true, env: {}, color: false }), 'plain');
    assert.equal(chooseDisplayMode({ isTTY: true, env: {}, json: true }), 'none');
  });
});

describe('plain display', () => {
  it('writes one line per state change and no escape sequence at all', async () => {
    const out = collect();
    const display = createDisplay({ stream: out.stream, env: {} });
    assert.equal(display.mode, 'plain');
    display.phase('connecting', { text: 'http://127.0.0.1:8188' });
    const job = new FakeJob();
    display.attach(job);
    await runJob(job);
    display.log('\x1b[31mcoloured\x1b[0m log line');
    display.phase('downloading', { done: 0, total: 2 });
    display.phase('downloading', { done: 1, total: 2 });
    display.phase('downloading', { done: 2, total: 2 });
    display.phase('saving', { text: 'images/' });
    display.stop({ outcome: 'done', lines: ['saved images/a.png'] });
    const text = out.text();
    assert.doesNotMatch(text, /[\x1b\x07\x9b]/, 'no escape, bell or CSI byte');
    const lines = text.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 6), [
      'Connecting to http://127.0.0.1:8188',
      `Submitted`,
      'Warning: Save: output skipped',
      'Queued at position 2 of 2 (1 running)',
      'Queued at position 1 (1 running)',
      'Running "My sampler" (KSampler) [2/4]',
    ]);
    const percents = lines.filter((line) => /^\s+\d+%/.test(line)).map((line) => Number(/(\d+)%/.exec(line)![1]));
    assert.deepEqual(percents, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 'every 10 %');
    assert.ok(lines.includes('Connection lost, reconnecting (attempt 1, next try in 0.1 s)'));
    assert.ok(lines.includes('Reconnected'));
    assert.ok(lines.includes('Running VAE Decode [4/4]'));
    assert.ok(lines.includes('coloured log line'));
    assert.ok(lines.includes('Downloading outputs 2/2'));
    assert.ok(lines.includes('Saving images/'));
    assert.match(lines.at(-2)!, /^Done in \d/);
    assert.equal(lines.at(-1), 'saved images/a.png');
    assert.equal(new Set(lines).size, lines.length, 'no line repeated');
  });

  it('writes nothing in JSON mode', async () => {
    const out = collect();
    const display = createDisplay({ stream: out.stream, mode: 'none' });
    const job = new FakeJob();
    display.attach(job);
    await runJob(job);
    display.log('x');
    display.stop({ outcome: 'done', lines: ['y'] });
    assert.equal(out.text(), '');
  });
});

describe('createDisplay', () => {
  it('follows a job in a live terminal, then the next job from scratch', async () => {
    const vt = new VirtualTerminal(70, 30);
    const stream = { isTTY: true, columns: 70, rows: 30, write: (text: string) => (vt.write(text), true) };
    const display = createDisplay({ stream, mode: 'live', preview: 'blocks', env: {}, guardExit: false });
    const first = new FakeJob('first-prompt');
    display.attach(first, { label: '1/2' });
    await runJob(first);
    // Every frame received is rendered or dropped, and one of them is on the screen.
    await until(() => {
      const preview = display.stats().preview;
      return preview.drawn >= 1 && preview.rendered + preview.dropped + preview.failed === preview.received;
    }, undefined, 'the preview pipeline to settle');
    const stats = display.stats();
    assert.equal(stats.preview.received, 20);
    assert.ok(stats.preview.drawn >= 1 && stats.preview.drawn <= stats.preview.rendered);
    assert.equal(stats.preview.protocol, 'blocks');
    // Events after the end of the run are stale.
    first.emit('node', node('5', 'Late'));
    assert.equal(display.model.state.node?.nodeId, '8');
    display.stop({ outcome: 'done' });
    const afterFirst = vt.lines().join('\n');
    assert.match(afterFirst, /\[1\/2\] Done in/);
    assert.match(afterFirst, /⚠ Save: output skipped/);

    const second = new FakeJob('second-prompt');
    display.attach(second, { label: '2/2' });
    assert.equal(display.model.state.promptId, undefined, 'fresh state for the next job');
    assert.equal(display.model.state.label, '2/2');
    second.emit('submitted', { promptId: 'second-prompt', number: 2, warnings: [] });
    await until(() => /\[2\/2\] Queued/.test(vt.lines().join('\n')), undefined, 'the second job on the screen');
    second.reject(new Error('boom'));
    await second.result.catch(() => undefined);
    display.stop({ outcome: 'failed', message: 'Failed: boom' });
    assert.match(vt.lines().join('\n'), /✖ \[2\/2\] Failed: boom/);
    assert.equal(vt.cursorVisible, true);
  });
});
