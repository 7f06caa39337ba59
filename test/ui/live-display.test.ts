import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveArea, SYNC_BEGIN, SYNC_END } from '../../src/ui/live-area.ts';
import { LiveDisplay } from '../../src/ui/live-display.ts';
import type { RenderedPreview } from '../../src/ui/preview/render.ts';
import { ProgressModel } from '../../src/ui/progress-model.ts';
import { textWidth } from '../../src/ui/text.ts';
import { until } from '../support/wait.ts';
import { node } from './fixtures/fake-job.ts';
import { JPEG_PREVIEW } from './fixtures/frames.ts';
import { VirtualTerminal } from './fixtures/virtual-terminal.ts';

function terminal(columns: number, rows: number) {
  const vt = new VirtualTerminal(columns, rows);
  const writes: string[] = [];
  const stream = {
    columns,
    rows,
    isTTY: true,
    write(text: string) {
      writes.push(text);
      vt.write(text);
      return true;
    },
  };
  return { vt, writes, stream };
}

function liveDisplay(columns: number, rows: number, options: { preview?: boolean; now?: () => number } = {}) {
  const term = terminal(columns, rows);
  const model = new ProgressModel({ now: options.now });
  const display = new LiveDisplay({
    stream: term.stream,
    model,
    color: true,
    guardExit: false,
    now: options.now,
    preview: options.preview ? { protocol: 'blocks', blockColors: 'truecolor', reason: 'test' } : undefined,
  });
  return { ...term, model, display };
}

const sampler = node('3', 'Sampler', 'KSampler');

describe('live display (virtual terminal)', () => {
  it('draws the status rows in place, one write per frame, wrapped in synchronized updates', async () => {
    const { vt, writes, model, display } = liveDisplay(60, 12);
    model.submitted({ promptId: 'prompt-1' });
    display.start();
    model.node(sampler);
    model.overall({ done: 3, total: 7 });
    for (let value = 1; value <= 10; value++) model.progress({ node: sampler, value, max: 20 });
    await until(() => vt.lines().some((line) => line.includes('10/20')), undefined, 'a frame with step 10');
    const screen = vt.lines().filter(Boolean);
    assert.equal(screen.length, 4, screen.join('\n'));
    assert.match(screen[0]!, /^. Running "Sampler" \(KSampler\)$/);
    assert.match(screen[1]!, / 50%  10\/20/);
    assert.match(screen[2]!, / 42%  3\/7/);
    assert.match(screen[3]!, /elapsed · (?:~\d+:\d\d left · )?prompt prompt-1/);
    assert.equal(vt.cursorVisible, false);
    assert.equal(vt.history.length, 0, 'nothing scrolled: every frame overwrote the last');
    for (const write of writes.slice(1)) {
      assert.ok(write.startsWith(SYNC_BEGIN) && write.endsWith(SYNC_END), 'each frame is one synchronized write');
    }
    model.finish('done');
    display.stop({ lines: ['saved a.png'] });
    assert.equal(vt.cursorVisible, true);
    assert.equal(vt.autowrap, true);
    assert.deepEqual(vt.lines().filter(Boolean).slice(-1), ['saved a.png']);
    assert.match(vt.lines().filter(Boolean)[0]!, /Done in/);
  });

  it('rewrites only rows that changed', async () => {
    // Frozen time: the spinner and the clock stand still, only the step row changes.
    const { writes, model, display } = liveDisplay(60, 12, { now: () => 5000 });
    display.start();
    model.node(sampler);
    model.progress({ node: sampler, value: 1, max: 4 });
    await until(() => writes.join('').includes(' 25%'), undefined, 'the frame with step 1');
    const before = writes.length;
    model.progress({ node: sampler, value: 2, max: 4 });
    await until(() => writes.length > before, undefined, 'the frame with step 2');
    const frame = writes.slice(before).join('');
    assert.ok(frame.includes(' 50%'), 'the step row was rewritten');
    assert.ok(!frame.includes('Running'), 'the unchanged status row was not');
    display.stop();
  });

  it('prints log lines above the area without leaving copies of it behind', async () => {
    const { vt, writes, model, display } = liveDisplay(60, 10);
    display.start();
    model.node(sampler);
    for (let i = 1; i <= 3; i++) {
      display.log(`log line ${i}`);
      // A frame of its own (the spinner turns) between two log lines.
      const logged = writes.length;
      await until(() => writes.length > logged, undefined, `a frame after log line ${i}`);
    }
    display.log('a long log line that is wider than the terminal and therefore wraps onto the next row');
    const all = [...vt.history, ...vt.lines()];
    assert.deepEqual(
      all.filter((line) => line.startsWith('log line')),
      ['log line 1', 'log line 2', 'log line 3'],
    );
    assert.equal(all.filter((line) => line.includes('Running')).length, 1, 'one status row, no torn copies');
    assert.ok(all.some((line) => line.startsWith('a long log line')) && all.some((line) => line.startsWith('next row') || line.includes('onto the next row')));
    const screen = vt.lines().filter(Boolean);
    assert.match(screen.at(-4)!, /Running/);
    display.stop();
  });

  it('never writes a row wider than the terminal', async () => {
    const { vt, model, display } = liveDisplay(30, 10);
    display.start();
    model.submitted({ promptId: '2a6e3ce1-7f4b-4c1e-9d5a-0b8e6f1c2d3e' });
    model.node(node('3', 'A sampler with a title much longer than thirty columns', 'KSamplerAdvanced'));
    model.progress({ node: sampler, value: 3, max: 30 });
    await until(() => vt.lines().some((line) => line.includes('3/30')), undefined, 'a frame with step 3');
    for (const line of vt.lines()) assert.ok(textWidth(line) <= 30, line);
    assert.equal(vt.history.length, 0);
    assert.ok(vt.lines().some((line) => line.endsWith('…')));
    display.stop();
  });

  it('puts the preview above the status and crops it from the top when the terminal is short', async () => {
    const { vt, model, display } = liveDisplay(40, 9, { preview: true });
    display.start();
    model.node(sampler);
    model.progress({ node: sampler, value: 5, max: 10 });
    model.preview({ mime: 'image/jpeg', image: JPEG_PREVIEW, node: sampler });
    await until(() => display.stats().preview.drawn === 1, undefined, 'the preview drawn');
    const lines = vt.lines();
    const previewRows = lines.filter((line) => line.includes('▀'));
    // The 8-row minimum preview leaves room for 5 rows above the 4 status rows: cropped to 5.
    assert.equal(previewRows.length, 5);
    assert.ok(lines.slice(0, 5).every((line) => line.startsWith('▀')));
    assert.match(lines[5]!, /Running/);
    assert.match(lines[6]!, /50%/);
    display.stop({ keepPreview: false });
    assert.equal(vt.lines().filter((line) => line.includes('▀')).length, 0, 'keepPreview: false drops the image');
  });

  it('clears the area on request and can start again for the next job', async () => {
    const { vt, model, display } = liveDisplay(40, 10);
    display.start();
    model.node(sampler);
    await until(() => vt.lines().some((line) => line.includes('Running')), undefined, 'a frame with the node');
    display.stop({ clear: true });
    assert.deepEqual(vt.lines().filter(Boolean), []);
    assert.equal(vt.cursorVisible, true);
    model.reset();
    model.setPhase('connecting', { text: 'server' });
    display.start();
    assert.match(vt.lines().filter(Boolean)[0]!, /Connecting to server/, 'start() draws a frame at once');
    display.dispose();
  });
});

describe('live area with an inline image', () => {
  const kitty = (version: number): { version: number; rendered: RenderedPreview } => ({
    version,
    rendered: { protocol: 'kitty', cols: 10, rows: 3, draw: `<draw ${version}>`, redraw: `<place ${version}>`, clear: `<clear ${version}>` },
  });
  const frame = (preview: ReturnType<typeof kitty> | undefined, status = 'status') => ({ preview, lines: [status], widths: [status.length] });

  it('sends an image once, places it again after a log line, and clears it when it goes', () => {
    const area = new LiveArea({ synchronized: false });
    const first = area.update(frame(kitty(1)), 40, 20).output;
    assert.equal(first.split('<draw 1>').length, 2);
    assert.equal(area.rows, 4);
    const same = area.update(frame(kitty(1), 'status 2'), 40, 20).output;
    assert.ok(!same.includes('<draw') && !same.includes('<place'), 'unchanged image is not sent again');
    const logged = area.print('log\n', frame(kitty(1)), 40, 20).output;
    assert.ok(logged.includes('<clear 1>') && logged.includes('<place 1>') && !logged.includes('<draw'), 'moved: placed again, not re-sent');
    const next = area.update(frame(kitty(2)), 40, 20).output;
    assert.ok(next.includes('<draw 2>'));
    const gone = area.update(frame(undefined), 40, 20).output;
    assert.ok(gone.includes('<clear 2>'));
    assert.equal(area.rows, 1);
  });

  it('leaves out an image that does not fit rather than breaking the layout', () => {
    const area = new LiveArea({ synchronized: false });
    const update = area.update(frame(kitty(1)), 40, 3);
    assert.equal(update.previewRows, 0);
    assert.ok(!update.output.includes('<draw'));
    assert.equal(area.rows, 1);
  });
});
