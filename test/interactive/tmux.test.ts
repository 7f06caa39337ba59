/**
 * Interactive mode in a real terminal: the built `pyros` runs in a tmux pane against the
 * simulator; keys are sent with send-keys and the screen is read back with capture-pane.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startSim } from '../../src/sim/index.ts';
import { isolatedEnv, PYROS_BIN } from '../support/cli.ts';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const root = fileURLToPath(new URL('../..', import.meta.url));
const socket = `pyros-interactive-${process.pid}-${Date.now()}`;
const session = 'interactive';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-u', '-L', socket, ...args], { encoding: 'utf8' });
}

/** The screen (or the screen and its history), without the blank rows below the last one. */
function capture(history = false): string[] {
  const args = ['capture-pane', '-p', '-J', '-t', session, ...(history ? ['-S', '-2000'] : [])];
  // -J joins wrapped rows (and keeps trailing spaces, dropped here).
  const lines = tmux(...args).split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1)?.trim() === '') lines.pop();
  return lines;
}

const keys = (...input: string[]): void => void tmux('send-keys', '-t', session, ...input);
const type = (text: string): void => void tmux('send-keys', '-t', session, '-l', text);

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${capture(true).slice(-60).join('\n')}`);
    await sleep(40);
  }
}

const count = (lines: string[], pattern: RegExp): number => lines.filter((line) => pattern.test(line)).length;
const lastLine = (): string => capture().at(-1) ?? '';

describe('interactive mode in a real terminal (tmux)', { skip: hasTmux ? false : 'tmux is not installed' }, () => {
  let dir = '';
  let output = '';
  let sim: Awaited<ReturnType<typeof startSim>> | undefined;
  /** While set, samplers wait for it before they run (their node shows as running meanwhile). */
  let samplersHeld: { released: Promise<void>; release: () => void } | undefined;
  const holdSamplers = (): void => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    samplersHeld = { released, release };
  };
  const releaseSamplers = (): void => {
    samplersHeld?.release();
    samplersHeld = undefined;
  };
  let broken = false;
  // The stages share one session: once one fails, the later ones fail at once.
  function stage(title: string, body: () => Promise<void>): void {
    it(title, async () => {
      if (broken) throw new Error('an earlier stage failed');
      broken = true;
      await body();
      broken = false;
    });
  }

  const images = (): string[] => (existsSync(output) ? readdirSync(output).filter((name) => name.endsWith('.png')).sort() : []);
  const sidecar = (png: string): { prompt: string; seed: number; workflow: Record<string, { inputs: Record<string, unknown> }> } =>
    JSON.parse(readFileSync(join(output, png.replace(/\.png$/, '.json')), 'utf8'));
  /** Waits until `n` jobs have ended (saved or failed) in the whole transcript. */
  const jobsEnded = (n: number): Promise<string[]> =>
    waitFor(`${n} finished jobs`, () => {
      const lines = capture(true);
      return count(lines, /^(done: \d+ files? saved|✖ Cancelled)/) >= n && /^pyros>/.test(lines.at(-1) ?? '') ? lines : undefined;
    });

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 60, previews: true, hooks: { onNodeStart: (node) => (node.classType === 'KSampler' ? samplersHeld?.released : undefined) } });
    dir = mkdtempSync(join(tmpdir(), 'pyros-interactive-tmux-'));
    output = join(dir, 'images');
    // A stand-in for the system's opener: writes down what it was asked to open.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'xdg-open'), `#!/bin/sh\necho "$@" >> '${join(dir, 'opened')}'\n`, { mode: 0o755 });
    const env = isolatedEnv({ XDG_DATA_HOME: join(dir, 'data'), PYROS_HISTORY: join(dir, 'history'), TERM: 'xterm-256color', PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` });
    delete env.NO_COLOR;
    const exports = Object.entries(env)
      .filter(([key, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      .map(([key, value]) => `export ${key}='${String(value).replace(/'/g, `'\\''`)}'`)
      .join('\n');
    const script = join(dir, 'run.sh');
    writeFileSync(
      script,
      `${exports}\ncd '${root}'\n'${process.execPath}' '${PYROS_BIN}' --server ${sim.url} --workflow examples/txt2img.json --output '${output}'\necho "exit=$?" > '${join(dir, 'exit')}'\nsleep 60\n`,
    );
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', `sh '${script}'`);
  });

  after(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  stage('starts with a prompt line', async () => {
    const lines = await waitFor('the prompt', () => (/^pyros>\s*$/.test(lastLine()) ? capture() : undefined));
    assert.ok(lines.some((line) => line.startsWith('pyros interactive · workflow examples/txt2img.json')), lines.join('\n'));
  });

  stage('runs a typed prompt through the workflow with the live display and saves the file', async () => {
    type('a lighthouse at dusk');
    keys('Enter');
    const live = await waitFor('the live display', () => {
      const lines = capture();
      return lines.some((line) => /\[job 1\] Running KSampler/.test(line)) ? lines : undefined;
    });
    assert.match(live.at(-1) ?? '', /^pyros>\s*$/, 'the prompt is below the live area while the job runs');
    const lines = await jobsEnded(1);
    assert.ok(lines.includes('pyros> a lighthouse at dusk'));
    assert.equal(count(lines, /^✔ \[job 1\] Done in/), 1);
    assert.ok(lines.some((line) => /^✔ 512×512 .*images\/pyros_00001_\.png$/.test(line)), lines.join('\n'));
    assert.deepEqual(images(), ['pyros_00001_.png']);
    assert.equal(readFileSync(join(output, 'pyros_00001_.txt'), 'utf8'), 'a lighthouse at dusk\n');
  });

  stage('/last draws the last image again, /open and /gallery hand it to the system opener', async () => {
    type('/last');
    keys('Enter');
    const lines = await waitFor('the image', () => {
      const screen = capture();
      return screen.at(-2)?.endsWith('images/pyros_00001_.png') && /^pyros>\s*$/.test(screen.at(-1) ?? '') ? screen : undefined;
    });
    const image = lines.slice(0, -2).reverse();
    assert.ok(image.slice(0, 8).every((line) => /^▀{8,}$/.test(line)), `half-block rows above the path:\n${lines.join('\n')}`);
    type('/open');
    keys('Enter');
    await waitFor('the opener', () => existsSync(join(dir, 'opened')));
    assert.equal(readFileSync(join(dir, 'opened'), 'utf8').trim(), join(output, 'pyros_00001_.png'));
    type('/gallery');
    keys('Enter');
    const url = await waitFor('the gallery', () => /^Gallery of .*images at (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(capture().at(-2) ?? '')?.[1]);
    await waitFor('the browser', () => readFileSync(join(dir, 'opened'), 'utf8').includes(url));
    const listing = (await (await fetch(`${url}api/outputs`)).json()) as { items: { file: string; prompt: string }[] };
    assert.deepEqual(
      listing.items.map((item) => [item.file, item.prompt]),
      [['pyros_00001_.png', 'a lighthouse at dusk']],
    );
  });

  stage('/count 2 runs two jobs, and a prompt typed while they render queues behind them', async () => {
    type('/count 2');
    keys('Enter');
    await waitFor('the count', () => capture().includes('Each prompt now runs 2 jobs.'));
    // Job 2 stays at its sampler until the third prompt is queued, however slow the machine.
    holdSamplers();
    type('two foxes in the snow');
    keys('Enter');
    await waitFor('job 2 running', () => capture().some((line) => /\[job 2\] Running KSampler/.test(line)));
    type('/count 1');
    keys('Enter');
    type('a third one');
    keys('Enter');
    await waitFor('the queued note', () => capture(true).includes('job 4 queued (2 ahead)')).finally(releaseSamplers);
    const lines = await jobsEnded(4);
    assert.equal(count(lines, /^✔ \[job [234]\] Done in/), 3);
    assert.deepEqual(images(), ['pyros_00001_.png', 'pyros_00002_.png', 'pyros_00003_.png', 'pyros_00004_.png']);
    const [two, three, four] = [sidecar('pyros_00002_.png'), sidecar('pyros_00003_.png'), sidecar('pyros_00004_.png')];
    assert.equal(two.prompt, 'two foxes in the snow');
    assert.equal(three.prompt, 'two foxes in the snow');
    assert.notEqual(two.seed, three.seed, 'each job of /count has its own seed');
    assert.equal(four.prompt, 'a third one');
  });

  stage('/set stays for every job until /unset', async () => {
    type('/set KSampler.steps=3');
    keys('Enter');
    await waitFor('the set', () => capture().some((line) => line.startsWith('#3 (KSampler).steps = 3 for every job')));
    type('quick one');
    keys('Enter');
    await jobsEnded(5);
    type('quick two');
    keys('Enter');
    await jobsEnded(6);
    type('/unset KSampler.steps');
    keys('Enter');
    await waitFor('the unset', () => capture().includes('Removed the /set of KSampler.steps.'));
    type('full steps again');
    keys('Enter');
    await jobsEnded(7);
    assert.deepEqual(
      ['pyros_00005_.png', 'pyros_00006_.png', 'pyros_00007_.png'].map((png) => sidecar(png).workflow['3']?.inputs.steps),
      [3, 3, 20],
    );
  });

  stage('a pasted block of lines, or lines ending in \\, make one prompt', async () => {
    tmux('set-buffer', '-b', 'pyros', 'a pasted prompt\nover two lines');
    tmux('paste-buffer', '-p', '-b', 'pyros', '-t', session);
    await waitFor('the continuation prompt', () => lastLine() === '  ...> over two lines');
    keys('Enter');
    await jobsEnded(8);
    type('ends with a backslash \\');
    keys('Enter');
    await waitFor('the continuation prompt', () => /^ {2}\.\.\.>\s*$/.test(lastLine()));
    type('and goes on');
    keys('Enter');
    await jobsEnded(9);
    assert.equal(readFileSync(join(output, 'pyros_00008_.txt'), 'utf8'), 'a pasted prompt\nover two lines\n');
    assert.equal(readFileSync(join(output, 'pyros_00009_.txt'), 'utf8'), 'ends with a backslash \nand goes on\n');
  });

  stage('answers a bad command with one line and goes on', async () => {
    type('/frobnicate now');
    keys('Enter');
    const lines = await waitFor('the answer', () => {
      const screen = capture();
      return screen.at(-2) === '✖ Unknown command /frobnicate. Type /help for the list.' ? screen : undefined;
    });
    assert.equal(lines.at(-3), 'pyros> /frobnicate now');
    assert.match(lines.at(-1) ?? '', /^pyros>\s*$/);
    type('/seed banana');
    keys('Enter');
    await waitFor('the seed answer', () => capture().at(-2)?.startsWith('✖ Invalid seed "banana": expected a whole number or "random".'));
    type('/count 1');
    keys('Enter');
    await waitFor('the loop going on', () => capture().at(-2) === 'Each prompt now runs 1 job.');
  });

  stage('completes a /command and a node title after /set with Tab', async () => {
    type('/co');
    keys('Tab');
    await waitFor('the completed command', () => lastLine() === 'pyros> /count');
    keys('C-u');
    type('/set Pos');
    keys('Tab');
    await waitFor('the completed title', () => lastLine() === 'pyros> /set Positive Prompt.text=');
    keys('C-u');
    type('/set KSampler.s');
    keys('Tab');
    const lines = await waitFor('the listed inputs', () => {
      const screen = capture();
      return screen.at(-1) === 'pyros> /set KSampler.s' && screen.some((line) => /KSampler\.seed= +KSampler\.steps= /.test(line)) ? screen : undefined;
    });
    assert.ok(lines.length > 0);
    keys('C-u');
    await waitFor('an empty prompt', () => /^pyros>\s*$/.test(lastLine()));
  });

  stage('Ctrl-C cancels the running job and the prompt comes back', async () => {
    type('/set KSampler.steps=200');
    keys('Enter');
    type('a long render');
    keys('Enter');
    await waitFor('the job running', () => capture().some((line) => /\[job 10\] Running KSampler/.test(line)));
    keys('C-c');
    const lines = await jobsEnded(10);
    assert.ok(lines.some((line) => /^✖ Cancelled: prompt [0-9a-f-]+ was stopped while node #3 "KSampler" was running\.$/.test(line)), lines.join('\n'));
    assert.equal(images().length, 9, 'nothing saved for the cancelled job');
    type('/unset');
    keys('Enter');
    await waitFor('the unset', () => capture().at(-2)?.startsWith('Removed 1 /set;'));
  });

  stage('Ctrl-D leaves with exit code 0 and the history is kept', async () => {
    keys('C-d');
    const code = await waitFor('the exit', () => (existsSync(join(dir, 'exit')) ? readFileSync(join(dir, 'exit'), 'utf8').trim() : undefined));
    assert.equal(code, 'exit=0');
    const history = readFileSync(join(dir, 'history'), 'utf8').split('\n');
    assert.ok(history.includes('a lighthouse at dusk') && history.includes('/count 2') && history.includes('a long render'), history.join('\n'));
  });
});
