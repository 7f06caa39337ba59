/**
 * The tools of the option matrix (matrix.test.ts): three fault simulators shared by every case,
 * a workflow with two outputs and two image loaders, a run of the built CLI tagged with its own
 * request header, and the checks every case makes on the server (its history and the requests
 * it recorded) and on disk (files and sidecars).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { NodeError } from '../../src/sim/index.ts';
import { isolatedEnv, jsonEvents, PYROS_BIN, runPyros, type CliResult } from '../support/cli.ts';
import { gate, QUICK_CHECKS, startFaultSim, tinyWorkflow, type FaultSim } from '../support/faults.ts';
import { untilAsync } from '../support/wait.ts';
import { png } from '../gallery/fixtures/outputs.ts';

export { jsonEvents };

/**
 * The header every request of a case carries: `X-Matrix: case=<case>` (not the bare name: a
 * header value is a secret, masked wherever it appears, output paths included). The test's own
 * requests say `test`.
 */
export const TAG_HEADER = 'x-matrix';
const tagValue = (tag: string): string => `case=${tag}`;

export const HUES = ['crimson', 'teal', 'ochre'];
/** The seed the workflow file holds (what `--seed keep` leaves). */
export const WORKFLOW_SEED = 42;

export interface Matrix {
  root: string;
  /** A, B, C. */
  sims: [FaultSim, FaultSim, FaultSim];
  flow: string;
  vars: string;
  photo: string;
  mask: string;
  /** A folder with an `xdg-open` that appends its argument to `openLog`. */
  bin: string;
  openLog: string;
  close(): Promise<void>;
}

/**
 * The workflow: text to image (KSampler #3, prompt #6, saved by #9 "matrix_"), and an image (#10
 * "Load Image") joined with a mask (#11 "Load Mask"), saved by #13 "masked_".
 */
export function matrixWorkflow(): ReturnType<typeof tinyWorkflow> {
  const workflow = tinyWorkflow({ seed: WORKFLOW_SEED, steps: 2, prefix: 'matrix' });
  workflow['10'] = { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Load Image' } };
  workflow['11'] = { class_type: 'LoadImageMask', inputs: { image: 'example.png', channel: 'red' }, _meta: { title: 'Load Mask' } };
  workflow['12'] = { class_type: 'JoinImageWithAlpha', inputs: { image: ['10', 0], alpha: ['11', 0] } };
  workflow['13'] = { class_type: 'SaveImage', inputs: { images: ['12', 0], filename_prefix: 'masked' } };
  return workflow;
}

export async function startMatrix(): Promise<Matrix> {
  const sims = (await Promise.all([0, 1, 2].map(() => startFaultSim({ stepMs: 2, previews: false })))) as Matrix['sims'];
  const root = await mkdtemp(join(tmpdir(), 'pyros-matrix-'));
  const flow = join(root, 'flow.json');
  await writeFile(flow, JSON.stringify(matrixWorkflow(), null, 2));
  const vars = join(root, 'vars');
  await mkdir(vars);
  await writeFile(join(vars, 'hue.txt'), `${HUES.join('\n')}\n`);
  const photo = join(root, 'photo.png');
  const mask = join(root, 'mask.png');
  await writeFile(photo, png([10, 200, 30], 24));
  await writeFile(mask, png([255, 0, 0], 20));
  // What the workflow loads when a run uploads nothing.
  for (const sim of sims) await writeFile(join(sim.dataDir, 'input', 'example.png'), png([90, 90, 90], 12));
  const bin = join(root, 'bin');
  await mkdir(bin);
  const openLog = join(root, 'opened.log');
  await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${openLog}'\n`);
  await chmod(join(bin, 'xdg-open'), 0o755);
  return {
    root,
    sims,
    flow,
    vars,
    photo,
    mask,
    bin,
    openLog,
    async close() {
      await Promise.all(sims.map((sim) => sim.close()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Clears what the simulators recorded and the hooks of the last case. */
export function resetSims(matrix: Matrix): void {
  for (const sim of matrix.sims) {
    sim.hooks = {};
    sim.requests.length = 0;
    sim.upgrades.length = 0;
    sim.logs.length = 0;
  }
}

export interface CaseRun extends CliResult {
  tag: string;
  out: string;
}

/** `pyros ARGS -o OUT --header "X-Matrix: TAG"`, run in the matrix root, with the fake xdg-open first on PATH. */
export async function pyros(matrix: Matrix, tag: string, args: string[], options: { input?: string; out?: string } = {}): Promise<CaseRun> {
  const out = options.out ?? join(matrix.root, 'out', tag);
  const result = await runPyros([...args, '-o', out, '--header', `X-Matrix: ${tagValue(tag)}`], {
    cwd: matrix.root,
    input: options.input,
    env: { ...QUICK_CHECKS, PATH: `${matrix.bin}:${process.env.PATH ?? ''}` },
    timeoutMs: 60_000,
  });
  return { ...result, tag, out };
}

export const hasScript = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0;

/** `pyros ARGS` in a pseudo-terminal (util-linux `script`), colours on: what a person at a terminal sees. */
export async function pyrosInTerminal(matrix: Matrix, tag: string, args: string[]): Promise<CaseRun> {
  const out = join(matrix.root, 'out', tag);
  const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, PYROS_BIN, ...args, '-o', out, '--header', `X-Matrix: ${tagValue(tag)}`].map(quote).join(' ');
  const env = isolatedEnv({ ...QUICK_CHECKS, TERM: 'xterm-256color', COLUMNS: '100', LINES: '40' });
  delete env.NO_COLOR;
  // Not spawnSync: the simulators live in this process and must go on answering.
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: matrix.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr, tag, out };
}

// ---------------------------------------------------------------------------------------------
// The server side.

export interface HistoryEntry {
  prompt: [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>, Record<string, unknown>, string[]];
  outputs: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }>;
  status: { status_str: string; completed: boolean; messages: [string, Record<string, unknown>][] };
}

export async function history(sim: FaultSim, promptId: string): Promise<HistoryEntry | undefined> {
  const response = await fetch(`${sim.url}/history/${promptId}`, { headers: { [TAG_HEADER]: 'test' } });
  return ((await response.json()) as Record<string, HistoryEntry>)[promptId];
}

export async function queued(sim: FaultSim, promptId: string): Promise<boolean> {
  const queue = (await (await fetch(`${sim.url}/queue`, { headers: { [TAG_HEADER]: 'test' } })).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
  return [...queue.queue_running, ...queue.queue_pending].some((item) => item[1] === promptId);
}

export function simOf(matrix: Matrix, url: string | undefined): FaultSim {
  const sim = matrix.sims.find((s) => s.url === url);
  assert.ok(sim, `${url} is none of the simulators`);
  return sim;
}

/** The requests and WebSocket upgrades of one case, per simulator. */
export function traffic(matrix: Matrix, tag: string): { sim: FaultSim; posts: (path: string) => number; upgrades: number }[] {
  return matrix.sims.map((sim) => {
    const mine = sim.requests.filter((request) => request.headers[TAG_HEADER] === tagValue(tag));
    return { sim, posts: (path) => mine.filter((r) => r.method === 'POST' && r.path === path).length, upgrades: sim.upgrades.filter((u) => u.headers[TAG_HEADER] === tagValue(tag)).length };
  });
}

/** Every request and upgrade the simulators recorded carried the matrix header: `--header` reached HTTP and the WebSocket. */
export function assertAllTagged(matrix: Matrix): void {
  for (const sim of matrix.sims) {
    for (const request of sim.requests) assert.ok(request.headers[TAG_HEADER], `${request.method} ${request.path} on ${sim.url} without the --header`);
    for (const upgrade of sim.upgrades) assert.ok(upgrade.headers[TAG_HEADER], `a WebSocket upgrade on ${sim.url} without the --header`);
  }
}

/**
 * What a job that failed on its server left in `dir`: every output its history lists (those it
 * produced before it was stopped), byte for byte, with sidecars naming the prompt. Returns how many.
 */
export async function assertKeptOutputs(matrix: Matrix, dir: string, sim: FaultSim, promptId: string): Promise<number> {
  const entry = await history(sim, promptId);
  const listed = Object.entries(entry?.outputs ?? {}).flatMap(([nodeId, output]) => (output.images ?? []).map((image) => ({ nodeId, image })));
  const sidecars = existsSync(dir) ? [...(await readSidecars(dir)).values()].filter((meta) => meta.prompt_id === promptId) : [];
  assert.equal(sidecars.length, listed.length, `prompt ${promptId}: every output it had produced is kept`);
  for (const { nodeId, image } of listed) {
    const meta = sidecars.find((candidate) => candidate.node_id === nodeId && candidate.output.filename === image.filename);
    assert.ok(meta, `${image.filename} of prompt ${promptId} was saved`);
    assert.equal(meta.server, sim.url);
    assert.equal(meta.workflow_file, matrix.flow);
    assert.ok((await readFile(join(dir, meta.file))).equals(await readFile(join(sim.dataDir, 'output', image.subfolder, image.filename))));
  }
  return listed.length;
}

/** The job was cancelled on its server: interrupted there (and logged so), or deleted from its queue. */
export async function assertCancelledOnServer(sim: FaultSim, promptId: string): Promise<'interrupted' | 'deleted'> {
  await untilAsync(async () => !(await queued(sim, promptId)), undefined, `prompt ${promptId} to leave the queue`);
  const entry = await history(sim, promptId);
  if (!entry) return 'deleted';
  assert.ok(
    entry.status.messages.some(([name]) => name === 'execution_interrupted'),
    `prompt ${promptId} ended without an interrupt: ${JSON.stringify(entry.status)}`,
  );
  assert.ok(sim.logs.includes(`Interrupting prompt ${promptId}`), `the interrupt named prompt ${promptId}: ${sim.logs.join(' | ')}`);
  assert.deepEqual(entry.outputs['9'] ?? {}, {}, 'the sampler never got to save');
  return 'interrupted';
}

// ---------------------------------------------------------------------------------------------
// The disk side.

export interface SavedJob {
  /** The folder it was saved in. */
  dir: string;
  promptId: string;
  server: string;
  /** The .json sidecar of each saved file, by file name. */
  sidecars: Map<string, Record<string, any>>;
  history: HistoryEntry;
  prompt: string;
  seed: number;
}

async function readSidecars(dir: string): Promise<Map<string, Record<string, any>>> {
  const sidecars = new Map<string, Record<string, any>>();
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith('.json')) continue;
    sidecars.set(name, JSON.parse(await readFile(join(dir, name), 'utf8')));
  }
  return sidecars;
}

/**
 * Every job saved in `dir`, checked against the server that ran it: each output the history lists
 * is saved byte for byte with its two sidecars; the `.txt` holds the prompt the server got; the
 * `.json` holds the workflow the server ran, its seed, and the record the prompt carried.
 */
export async function savedJobs(matrix: Matrix, dir: string): Promise<SavedJob[]> {
  const files = (await readdir(dir)).sort();
  assert.deepEqual(files.filter((name) => name.includes('.pyros-tmp-')), [], 'no temporary file is left');
  const sidecars = await readSidecars(dir);
  const byPrompt = new Map<string, Map<string, Record<string, any>>>();
  for (const [name, meta] of sidecars) {
    const group = byPrompt.get(meta.prompt_id) ?? new Map<string, Record<string, any>>();
    group.set(name, meta);
    byPrompt.set(meta.prompt_id, group);
  }
  const jobs: SavedJob[] = [];
  for (const [promptId, group] of byPrompt) {
    const first = [...group.values()][0] as Record<string, any>;
    const sim = simOf(matrix, first.server);
    const entry = await history(sim, promptId);
    assert.ok(entry, `prompt ${promptId} is in the history of ${sim.url}`);
    assert.equal(entry.status.status_str, 'success');
    const workflow = entry.prompt[2];
    const prompt = workflow['6']?.inputs.text as string;
    const seed = workflow['3']?.inputs.seed as number;
    const listed = Object.entries(entry.outputs).flatMap(([nodeId, output]) => (output.images ?? []).map((image) => ({ nodeId, image })));
    assert.equal(group.size, listed.length, `one saved file per output of prompt ${promptId}`);
    const carried = entry.prompt[3].pyros as Record<string, any> | undefined;
    for (const [name, meta] of group) {
      const stem = name.slice(0, -'.json'.length);
      assert.equal(meta.file, `${stem}.png`);
      const output = listed.find((item) => item.nodeId === meta.node_id && item.image.filename === meta.output.filename);
      assert.ok(output, `${name} names an output of the prompt`);
      const bytes = await readFile(join(dir, meta.file));
      assert.ok(bytes.equals(await readFile(join(sim.dataDir, 'output', output.image.subfolder, output.image.filename))), `${meta.file} is the server's ${output.image.filename}, byte for byte`);
      assert.equal(meta.bytes, bytes.length);
      assert.equal(await readFile(join(dir, `${stem}.txt`), 'utf8'), `${prompt}\n`, `${stem}.txt holds the prompt the server got`);
      assert.deepEqual(meta.workflow, workflow, `${name} holds the workflow the server ran`);
      assert.equal(meta.prompt, prompt);
      assert.equal(meta.seed, seed);
      assert.deepEqual(meta.seeds, [{ node_id: '3', input: 'seed', value: seed }]);
      assert.equal(meta.server, sim.url);
      assert.equal(meta.workflow_file, matrix.flow);
      assert.equal(carried?.prompt?.text, prompt, 'the prompt carried its record');
      assert.equal(meta.prompt_template, carried?.variables?.template);
      assert.deepEqual(meta.batch, carried?.batch);
    }
    jobs.push({ dir, promptId, server: sim.url, sidecars: group, history: entry, prompt, seed });
  }
  const images = files.filter((name) => name.endsWith('.png'));
  assert.equal(images.length, sidecars.size, 'every saved file has its sidecars, and nothing else was saved');
  return jobs;
}

/** The uploads of a job: both files went to the server, and the loaders were set to them. */
export async function assertUploaded(matrix: Matrix, job: SavedJob): Promise<void> {
  const workflow = job.history.prompt[2];
  assert.equal(workflow['10']?.inputs.image, 'photo.png');
  assert.equal(workflow['11']?.inputs.image, 'mask.png');
  const sim = simOf(matrix, job.server);
  assert.ok((await readFile(join(sim.dataDir, 'input', 'photo.png'))).equals(await readFile(matrix.photo)));
  assert.ok((await readFile(join(sim.dataDir, 'input', 'mask.png'))).equals(await readFile(matrix.mask)));
  for (const meta of job.sidecars.values()) {
    assert.deepEqual(meta.inputs, [
      { path: matrix.photo, node_id: '10', input: 'image', value: 'photo.png' },
      { path: matrix.mask, node_id: '11', input: 'image', value: 'mask.png' },
    ]);
  }
  // The saved picture of the loaders has the uploaded photo's size: the server really loaded it.
  const masked = [...job.sidecars.values()].find((meta) => meta.node_id === '13') as Record<string, any>;
  const bytes = await readFile(join(job.dir, masked.file));
  assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [24, 24]);
}

/** The variables of a job: the prompt is the template with a hue chosen with the job's seed, and the sidecars say so. */
export function assertVariables(job: SavedJob, template: string): void {
  const hue = HUES.find((candidate) => job.prompt === template.replace('__hue__', candidate));
  assert.ok(hue, `"${job.prompt}" is "${template}" with a hue`);
  for (const meta of job.sidecars.values()) {
    assert.equal(meta.prompt_template, template);
    assert.deepEqual(meta.variables, [{ variable: 'hue', index: HUES.indexOf(hue) + 1, value: hue }]);
    assert.equal(meta.variables_seed, job.seed);
  }
}

/**
 * `pyros fetch ID` of every job writes what the run wrote: the same files (byte for byte) and the
 * same sidecars, saved_at and timings aside (and each file's own name where the run's folder
 * already had one by the server's name).
 */
export async function assertFetchMatches(matrix: Matrix, tag: string, jobs: SavedJob[], servers: FaultSim[]): Promise<void> {
  for (const [index, job] of jobs.entries()) {
    const out = join(matrix.root, 'fetched', `${tag}-${index}`);
    const fetched = await pyros(matrix, `${tag}-fetch`, ['fetch', job.promptId, ...servers.flatMap((sim) => ['--server', sim.url])], { out });
    assert.equal(fetched.code, 0, fetched.stderr);
    const again = await readSidecars(out);
    assert.equal(again.size, job.sidecars.size);
    const runDir = job.dir;
    for (const meta of job.sidecars.values()) {
      const twin = [...again.values()].find((other) => other.node_id === meta.node_id && other.output.filename === meta.output.filename);
      assert.ok(twin, `fetch saved ${meta.output.filename} of prompt ${job.promptId}`);
      assert.ok((await readFile(join(out, twin.file))).equals(await readFile(join(runDir, meta.file))));
      assert.equal(await readFile(join(out, basename(twin.file, '.png') + '.txt'), 'utf8'), await readFile(join(runDir, basename(meta.file, '.png') + '.txt'), 'utf8'));
      // `file` is each copy's own name: the same, unless the run's folder already had that name.
      const renamed = meta.file !== meta.output.filename;
      const comparable = ({ saved_at: _s, timings: _t, file, ...rest }: Record<string, any>): Record<string, any> => (renamed ? rest : { file, ...rest });
      assert.deepEqual(comparable(twin), comparable(meta), `the sidecars of ${meta.output.filename} from the run and from fetch`);
    }
  }
}

/** Holds the first sampler that starts on any of `sims` until the test restarts that server (which loses the prompt). */
export function holdFirstSamplerUntilRestart(sims: FaultSim[]): { reached: Promise<FaultSim>; restart(): Promise<string> } {
  const restarting = gate();
  let victim: FaultSim | undefined;
  let heldPrompt = '';
  let found!: (sim: FaultSim) => void;
  const reached = new Promise<FaultSim>((resolve) => (found = resolve));
  for (const sim of sims) {
    sim.hooks = {
      onNodeStart: async ({ nodeId, promptId }) => {
        if (nodeId !== '3' || victim) return;
        victim = sim;
        heldPrompt = promptId;
        found(sim);
        await restarting.wait();
        throw new NodeError('RuntimeError', 'the server is going down');
      },
    };
  }
  return {
    reached,
    async restart() {
      const sim = await reached;
      restarting.open();
      await sim.restart();
      return heldPrompt;
    },
  };
}

/** The lines `xdg-open` was called with so far. */
export async function opened(matrix: Matrix): Promise<string[]> {
  if (!existsSync(matrix.openLog)) return [];
  return (await readFile(matrix.openLog, 'utf8')).split('\n').filter(Boolean);
}
