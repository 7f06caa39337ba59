/**
 * The live display in a real terminal: test/ui/fixtures/live-session.ts runs in a tmux pane and
 * stops at checkpoints; each test reads the pane back (text and colours) at one checkpoint.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeBlocks } from '../../src/ui/preview/blocks.ts';
import { decodeImage } from '../../src/ui/preview/decode.ts';
import { textWidth } from '../../src/ui/text.ts';
import { until, WAIT_LIMIT_MS } from '../support/wait.ts';
import { JPEG_PREVIEW } from './fixtures/frames.ts';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const root = fileURLToPath(new URL('../..', import.meta.url));
const socket = `pyros-ui-test-${process.pid}-${Date.now()}`;
const session = `live-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-u', '-L', socket, ...args], { encoding: 'utf8' });
}

function capture(options: { colors?: boolean; history?: boolean } = {}): string[] {
  const args = ['capture-pane', '-p', '-t', session];
  if (options.colors) args.push('-e');
  if (options.history) args.push('-S', '-200');
  return tmux(...args).replace(/\n+$/, '').split('\n');
}

type Rgb = [number, number, number];

/** The fg/bg colour of each `▀` cell in a row captured with -e. */
function blockColors(row: string): { fg: Rgb; bg: Rgb }[] {
  const cells: { fg: Rgb; bg: Rgb }[] = [];
  let fg: Rgb = [-1, -1, -1];
  let bg: Rgb = [-1, -1, -1];
  for (const token of row.match(/\x1b\[[\d;:]*m|▀/g) ?? []) {
    if (token === '▀') {
      cells.push({ fg, bg });
      continue;
    }
    const params = token.slice(2, -1).split(/[;:]/).map(Number);
    for (let i = 0; i < params.length; i++) {
      if ((params[i] === 38 || params[i] === 48) && params[i + 1] === 2) {
        const color: Rgb = [params[i + 2]!, params[i + 3]!, params[i + 4]!];
        if (params[i] === 38) fg = color;
        else bg = color;
        i += 4;
      } else if (params[i] === 0) {
        fg = [-1, -1, -1];
        bg = [-1, -1, -1];
      }
    }
  }
  return cells;
}

/** What the recorded preview looks like as half blocks at a given size (row by row). */
function expectedBlocks(cols: number, rows: number): { fg: Rgb; bg: Rgb }[][] {
  return encodeBlocks(decodeImage('image/jpeg', JPEG_PREVIEW), { cols, rows }, 'truecolor').map(blockColors);
}

describe('live display in a real terminal (tmux)', { skip: hasTmux ? false : 'tmux is not installed' }, () => {
  let dir = '';
  // The stages share one session: once one fails, the later ones fail at once instead of waiting.
  let broken = false;
  function stage(title: string, body: (t: { diagnostic(message: string): void }) => Promise<void>): void {
    it(title, async (t) => {
      if (broken) throw new Error('an earlier stage failed');
      broken = true;
      await body(t);
      broken = false;
    });
  }

  /**
   * Waits until the session reaches checkpoint `name` and tmux shows what it drew there: the
   * session waits for its own frame, but tmux reads the terminal's output in its own time.
   */
  async function reach(name: string, shown: (lines: string[]) => boolean): Promise<Record<string, unknown>> {
    const path = join(dir, 'state.json');
    let state: Record<string, unknown> = {};
    const failure = (): string => `the session did not reach "${name}" (last: ${String(state.name)}):\n${capture().join('\n')}\n${existsSync(join(dir, 'stderr')) ? readFileSync(join(dir, 'stderr'), 'utf8') : ''}`;
    await until(() => {
      if (existsSync(path)) state = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      return state.name === name;
    }, WAIT_LIMIT_MS, `checkpoint ${name}`).catch(() => {
      throw new Error(failure());
    });
    await until(() => shown(capture()), WAIT_LIMIT_MS, `the screen at ${name}`).catch(() => {
      throw new Error(`tmux did not show the "${name}" frame:\n${capture().join('\n')}`);
    });
    return state;
  }

  const proceed = (name: string): void => writeFileSync(join(dir, `go-${name}`), '');

  function assertFits(lines: string[], columns: number): void {
    for (const line of lines) assert.ok(textWidth(line) <= columns, `row wider than ${columns}: ${JSON.stringify(line)}`);
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pyros-ui-tmux-'));
    const command = `'${process.execPath}' --import tsx test/ui/fixtures/live-session.ts '${dir}' 2>'${join(dir, 'stderr')}'`;
    tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '30', '-c', root, command);
  });

  after(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  });

  stage('shows the queue position and the warning above the live area', async () => {
    await reach('queued', (lines) => lines.some((line) => line.includes('Queued at position 2 of 3')));
    const lines = capture();
    assert.ok(lines.includes('⚠ Save: output skipped'), lines.join('\n'));
    assert.ok(lines.some((line) => /^. Queued at position 2 of 3 \(1 running\)$/.test(line)));
    assert.ok(lines.some((line) => line.includes('elapsed · prompt 2a6e3ce1-7f4b-4c1e-9d5a-0b8e6f1c2d3e')));
    assertFits(lines, 80);
    assert.equal(tmux('display', '-p', '-t', session, '#{cursor_flag}').trim(), '0', 'cursor hidden while live');
    proceed('queued');
  });

  stage('shows the preview, the node, both bars and the time left', async () => {
    await reach('running', (lines) => lines.some((line) => line.includes('13/25')) && lines.some((line) => line === '▀'.repeat(48)));
    const lines = capture();
    assertFits(lines, 80);
    const status = lines.findIndex((line) => line.includes('Running "Sampler with a rather long title for the status line" (KSampler)'));
    assert.ok(status > 0, lines.join('\n'));
    // 52 % of a 40-column bar: 20 full cells and a half one.
    assert.match(lines[status + 1]!, /^ {2}steps ━{20}╸━{19} {2}52% {2}13\/25 {2}[\d.]+ it\/s$/);
    assert.match(lines[status + 2]!, /^ {2}nodes ━{40}  42%  3\/7 · 2 cached$/);
    assert.match(lines[status + 3]!, /^ {2}0:0\d elapsed · ~0:0\d left · prompt 2a6e3ce1/);
    // The preview fills the 24 rows above the status, 48 columns wide, with the image's colours.
    const preview = lines.slice(status - 24, status);
    assert.ok(preview.every((line) => line === '▀'.repeat(48)), preview.join('\n'));
    const colored = capture({ colors: true });
    const expected = expectedBlocks(48, 24);
    for (const row of [0, 11, 23]) {
      assert.deepEqual(blockColors(colored[status - 24 + row]!), expected[row], `colours of preview row ${row}`);
    }
    // Filled part of the step bar in cyan.
    assert.match(colored[status + 1]!, /\x1b\[36m(?:\x1b\[[\d;]*m)*━{20}╸\x1b\[90m━{19}/);
    proceed('running');
  });

  stage('keeps up with a burst of 500 previews by drawing only a few', async (t) => {
    const state = (await reach('burst', (lines) => lines.some((line) => / 88%  22\/25/.test(line)))) as {
      stats: { preview: Record<string, number> };
      before: Record<string, number>;
      decodedWhileTakingIn: number;
      turns: number;
      maxLagMs: number;
      burstMs: number;
    };
    const preview = state.stats.preview;
    t.diagnostic(`burst: ${JSON.stringify({ received: preview.received, rendered: preview.rendered, drawn: preview.drawn, dropped: preview.dropped, decodeMeanMs: (preview.decode as unknown as { meanMs: number }).meanMs, maxLagMs: Math.round(state.maxLagMs), burstMs: Math.round(state.burstMs) })}`);
    assert.equal(preview.received, (state.before.received ?? 0) + 500);
    assert.equal(preview.failed, 0);
    assert.equal(preview.rendered! + preview.dropped!, preview.received);
    // What keeps the socket flowing: no frame is decoded while the events come in, and at most one
    // frame is rendered per turn of the event loop (the 8 per second pace: test/ui/pipeline.test.ts).
    assert.equal(state.decodedWhileTakingIn, 0, 'no preview decoded inside the event handlers');
    const renderedInBurst = preview.rendered! - (state.before.rendered ?? 0);
    assert.ok(renderedInBurst >= 1 && renderedInBurst <= state.turns + 1, `rendered ${renderedInBurst} of 500 in ${state.turns} turns`);
    assert.ok(preview.drawn! >= 1 && preview.drawn! <= preview.rendered!, `drawn ${preview.drawn}`);
    const lines = capture();
    assert.ok(lines.some((line) => / 88%  22\/25/.test(line)), lines.join('\n'));
    tmux('resize-window', '-t', session, '-x', '80', '-y', '10');
    proceed('burst');
  });

  stage('crops the preview from the top when the window gets short, keeping the bars', async () => {
    await reach('small', (lines) => lines.length === 10 && lines.filter((line) => line.includes('▀')).length === 6);
    const lines = capture();
    assert.equal(lines.length, 10, lines.join('\n'));
    assertFits(lines, 80);
    // 10 rows - 4 status rows = 6 rows for a preview drawn at its minimum of 8: the top 2 are cut.
    const preview = lines.filter((line) => line.includes('▀'));
    assert.equal(preview.length, 6);
    assert.match(lines[6]!, /Running "Sampler/);
    assert.match(lines[7]!, /^ {2}steps .* 88%/);
    assert.match(lines[8]!, /^ {2}nodes /);
    assert.match(lines[9]!, /elapsed/);
    const colored = capture({ colors: true });
    const expected = expectedBlocks(16, 8);
    assert.deepEqual(blockColors(colored[0]!), expected[2], 'the first visible row is the third row of the image');
    assert.deepEqual(blockColors(colored[5]!), expected[7], 'the bottom row of the image is visible');
    tmux('resize-window', '-t', session, '-x', '60', '-y', '30');
    proceed('small');
  });

  stage('fits a narrower window after a resize', async () => {
    await reach('narrow', (lines) => lines.some((line) => line.includes('Running "Sampler') && line.endsWith('…')));
    const lines = capture();
    assertFits(lines, 60);
    const status = lines.findIndex((line) => line.includes('Running "Sampler'));
    assert.ok(status >= 24, lines.join('\n'));
    assert.ok(lines[status]!.endsWith('…'), 'the long title is cut with an ellipsis');
    assert.equal(lines[status - 1], '▀'.repeat(48), 'the preview was drawn again at the new size');
    assert.equal(lines.filter((line) => line.includes('Running "Sampler')).length, 1, 'no torn copies of the status');
    proceed('narrow');
  });

  stage('prints a log line above the live area without tearing it', async () => {
    await reach('logged', (lines) => lines.includes('a line logged above the live area'));
    const all = capture({ history: true });
    assert.equal(all.filter((line) => line === 'a line logged above the live area').length, 1);
    const lines = capture();
    const status = lines.findIndex((line) => line.includes('Running "Sampler'));
    assert.equal(lines.filter((line) => line.includes('Running "Sampler')).length, 1);
    assert.equal(lines.length, status + 4, 'the status rows stay at the bottom');
    assert.equal(lines[status - 25], 'a line logged above the live area');
    proceed('logged');
  });

  stage('ends with the final frame, the saved files and a visible cursor', async () => {
    await reach('done', (lines) => lines.some((line) => /^✔ Done in /.test(line)) && lines.some((line) => line.endsWith('images/pyros_00002_.png')));
    const lines = capture();
    assertFits(lines, 60);
    const done = lines.findIndex((line) => /^✔ Done in \d+\.\ds$/.test(line));
    assert.ok(done > 0, lines.join('\n'));
    assert.match(lines[done + 2]!, /^ {2}nodes ━+ 100%  7\/7 · 2 cached$/);
    assert.deepEqual(lines.slice(done + 4), ['✔ 512×512  36.1 KiB  images/pyros_00001_.jpg', '✔ 32×32       127 B  images/pyros_00002_.png']);
    assert.equal(tmux('display', '-p', '-t', session, '#{cursor_flag}').trim(), '1', 'cursor visible again');
    const [x, y] = tmux('display', '-p', '-t', session, '#{cursor_x} #{cursor_y}').trim().split(' ').map(Number);
    assert.deepEqual([x, y], [0, lines.length], 'cursor on the line below the output');
    proceed('done');
  });
});
