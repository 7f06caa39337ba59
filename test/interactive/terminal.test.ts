/**
 * The live display and the readline prompt on one (virtual) terminal: frames, log lines, typed
 * text, Enter, a prompt that wraps, Ctrl-L; the screen is read back row by row.
 */
import assert from 'node:assert/strict';
import { createInterface, type Interface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SharedTerminal } from '../../src/cli/interactive/terminal.ts';
import { createDisplay, type Display } from '../../src/ui/index.ts';
import { FakeJob, node } from '../ui/fixtures/fake-job.ts';
import { VirtualTerminal } from '../ui/fixtures/virtual-terminal.ts';
import { until } from '../support/wait.ts';

const PROMPT = 'pyros> ';
const sampler = node('3', 'KSampler');

interface Rig {
  vt: VirtualTerminal;
  terminal: SharedTerminal;
  rl: Interface;
  input: PassThrough;
  display: Display;
  lines: string[];
}

function rig(columns = 60, rows = 16): Rig {
  const vt = new VirtualTerminal(columns, rows);
  const tty = { write: (text: string) => (vt.write(text), true), columns, rows, isTTY: true, on: () => undefined, off: () => undefined };
  const terminal = new SharedTerminal(tty);
  const input = new PassThrough();
  const rl = createInterface({ input, output: terminal.readlineOutput as unknown as NodeJS.WritableStream, terminal: true, prompt: PROMPT });
  const display = createDisplay({ stream: terminal.displayStream, mode: 'live', color: false, preview: 'off', guardExit: false });
  terminal.attach(rl, (text) => display.log(text.replace(/\n$/, '')));
  const lines: string[] = [];
  rl.on('line', (line) => {
    lines.push(line);
    terminal.showPrompt();
    terminal.print(`${PROMPT}${line}`);
  });
  terminal.showPrompt();
  return { vt, terminal, rl, input, display, lines };
}

/** The screen without the blank rows below the last written one. */
function screen(vt: VirtualTerminal): string[] {
  const lines = vt.lines();
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** Types `text` and waits until readline has taken all of it in. */
async function type(r: Rig, text: string): Promise<void> {
  r.input.write(text);
  await until(() => r.input.readableLength === 0 && r.input.writableLength === 0, undefined, `readline to read ${JSON.stringify(text)}`);
}

function startJob(r: Rig, step: number): FakeJob {
  const job = new FakeJob();
  r.display.phase('connecting', { text: 'http://127.0.0.1:8188' });
  r.display.attach(job);
  job.emit('submitted', { promptId: job.promptId, number: 1, warnings: [] });
  job.emit('started');
  job.emit('overall', { done: 2, total: 5 });
  job.emit('node', sampler);
  job.emit('progress', { node: sampler, value: step, max: 20 });
  return job;
}

/** Waits for the next frame of the display (the spinner turns on its own, so one comes). */
async function frame(r: Rig): Promise<void> {
  const writes = r.display.stats().writes;
  await until(() => r.display.stats().writes > writes, undefined, 'a frame');
}

describe('the prompt and the live display on one terminal', () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });
  afterEach(() => {
    r.display.stop({ clear: true });
    r.rl.close();
  });

  it('keeps the prompt, with what is typed, on the line below the live area', async () => {
    assert.deepEqual(screen(r.vt), [PROMPT.trimEnd()]);
    await type(r, 'a red f');
    const job = startJob(r, 4);
    await frame(r);
    let lines = screen(r.vt);
    assert.equal(lines.at(-1), `${PROMPT}a red f`);
    assert.match(lines.at(-2) ?? '', /elapsed/);
    assert.match(lines.at(-5) ?? '', /Running KSampler/);
    assert.deepEqual([r.vt.x, r.vt.y], [`${PROMPT}a red f`.length, lines.length - 1], 'the cursor is where readline expects it');

    await type(r, 'ox');
    for (let step = 5; step <= 12; step++) {
      job.emit('progress', { node: sampler, value: step, max: 20 });
      await frame(r);
      lines = screen(r.vt);
      assert.equal(lines.at(-1), `${PROMPT}a red fox`);
      assert.equal(lines.filter((line) => line.includes('Running KSampler')).length, 1, 'no torn copies of the status');
      assert.equal(lines.filter((line) => line.startsWith(PROMPT)).length, 1, 'one prompt');
      assert.deepEqual([r.vt.x, r.vt.y], [`${PROMPT}a red fox`.length, lines.length - 1]);
    }
    assert.match(lines.find((line) => line.includes('steps')) ?? '', /12\/20/);
  });

  it('prints log lines and the submitted line above the area, and the prompt comes back empty', async () => {
    const job = startJob(r, 3);
    await frame(r);
    r.display.log('a note from the job');
    await type(r, 'next prompt\r');
    await frame(r);
    const lines = screen(r.vt);
    assert.deepEqual(r.lines, ['next prompt']);
    const status = lines.findIndex((line) => line.includes('Running KSampler'));
    assert.ok(lines.indexOf('a note from the job') < status);
    assert.ok(lines.indexOf(`${PROMPT}next prompt`) < status && lines.indexOf(`${PROMPT}next prompt`) > lines.indexOf('a note from the job'));
    assert.equal(lines.at(-1), PROMPT.trimEnd());
    assert.deepEqual([r.vt.x, r.vt.y], [PROMPT.length, lines.length - 1]);

    job.resolve();
    // The display's own reaction to the result was registered first (attach), so it has run.
    await job.result;
    r.display.stop({ outcome: 'done', lines: ['✔ saved images/pyros_00001_.png'] });
    r.terminal.print('done: 1 file saved');
    const after = screen(r.vt);
    assert.deepEqual(after.slice(-3), ['✔ saved images/pyros_00001_.png', 'done: 1 file saved', PROMPT.trimEnd()]);
    assert.equal(after.filter((line) => /Done in/.test(line)).length, 1, 'the final frame stays once');
    assert.ok(r.vt.cursorVisible, 'the cursor is visible at the prompt');
  });

  it('keeps a prompt that wraps over two rows whole while frames are drawn', async () => {
    const job = startJob(r, 2);
    await frame(r);
    const long = 'a very long prompt that goes on and on past the edge of the window';
    await type(r, long);
    for (let step = 3; step <= 6; step++) {
      job.emit('progress', { node: sampler, value: step, max: 20 });
      await frame(r);
    }
    const lines = screen(r.vt);
    const full = `${PROMPT}${long}`;
    assert.deepEqual(lines.slice(-2), [full.slice(0, 60).trimEnd(), full.slice(60)]);
    assert.match(lines.at(-3) ?? '', /elapsed/);
    assert.deepEqual([r.vt.x, r.vt.y], [full.length - 60, lines.length - 1]);
    // Moving the cursor to the start of the line and redrawing keeps readline's idea of the rows.
    await type(r, '\x01');
    job.emit('progress', { node: sampler, value: 7, max: 20 });
    await frame(r);
    assert.deepEqual(screen(r.vt).slice(-2), [full.slice(0, 60).trimEnd(), full.slice(60)]);
    assert.deepEqual([r.vt.x, r.vt.y], [PROMPT.length, screen(r.vt).length - 2]);
  });

  it('prints on the prompt line when nothing is live, and ignores Ctrl-L under a live area', async () => {
    r.terminal.print('first message');
    r.terminal.print('second\nmessage');
    assert.deepEqual(screen(r.vt), ['first message', 'second', 'message', PROMPT.trimEnd()]);
    startJob(r, 1);
    await frame(r);
    await type(r, '\x0c');
    await frame(r);
    const lines = screen(r.vt);
    assert.equal(lines[0], 'first message', 'the screen was not cleared');
    assert.equal(lines.at(-1), PROMPT.trimEnd());
  });

  it('takes the prompt away for good on hidePrompt, leaving later output in place', async () => {
    await type(r, 'half');
    r.terminal.hidePrompt();
    r.terminal.print('Waiting for 1 job to finish');
    assert.deepEqual(screen(r.vt), ['Waiting for 1 job to finish']);
  });
});
