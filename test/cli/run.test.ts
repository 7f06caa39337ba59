import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { closedPort, isolatedEnv, jsonEvents, PYROS_BIN, runPyros } from '../support/cli.ts';

const EXAMPLE = 'examples/txt2img.json';
const FAILING = 'test/fixtures/traffic/d_execution_error.workflow.json';

describe('pyros run against the simulator', () => {
  let sim: SimServer;
  let root: string;

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 1 });
    root = await mkdtemp(join(tmpdir(), 'pyros-cli-'));
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('saves the image with its prompt and metadata sidecars', async () => {
    const out = join(root, 'ok');
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--prompt', 'a red fox in snow', '--seed', '1234', '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    // Beside the outputs: the run's journal (hidden), which it marked ended.
    const journals = await readdir(join(out, '.pyros-journal'));
    assert.equal(journals.length, 1, `the journal folder holds ${journals.join(', ')}`);
    assert.match(await readFile(join(out, '.pyros-journal', journals[0] as string), 'utf8'), /"type":"end"/);
    const files = (await readdir(out)).filter((f) => f !== '.pyros-journal').sort();
    const png = files.find((f) => f.endsWith('.png'));
    assert.ok(png, `no png in ${files.join(', ')}`);
    const stem = png.slice(0, -4);
    assert.deepEqual(files, [`${stem}.json`, png, `${stem}.txt`].sort());
    assert.equal(await readFile(join(out, `${stem}.txt`), 'utf8'), 'a red fox in snow\n');
    const meta = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8'));
    assert.equal(meta.seed, 1234);
    assert.equal(meta.prompt, 'a red fox in snow');
    assert.equal(meta.workflow['6'].inputs.text, 'a red fox in snow');
    assert.equal(meta.workflow['3'].inputs.seed, 1234);
    assert.match(result.stderr, new RegExp(`prompt ${meta.prompt_id}`));
    assert.match(result.stderr, /seed 1234 → #3 "KSampler"\.seed/);
    assert.match(result.stdout, new RegExp(`prompt ${meta.prompt_id}`));
    assert.ok(result.stdout.includes(join(out, png)), result.stdout);
    const bytes = await readFile(join(out, png));
    assert.equal(bytes.readUInt32BE(0), 0x89504e47, 'a PNG file');
  });

  it('prints NDJSON events and a final result with --json', async () => {
    const out = join(root, 'json');
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--seed', 'random', '-o', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const names = events.map((e) => e.event);
    assert.ok(names.includes('submitted'));
    assert.ok(names.includes('progress'));
    const final = events.at(-1);
    assert.equal(final.event, 'result');
    assert.equal(final.ok, true);
    assert.equal(final.files.length, 1);
    assert.equal(typeof final.seeds[0].value, 'number');
    const saved = events.filter((e) => e.event === 'saved');
    assert.equal(saved.length, 1);
    assert.equal((await readFile(final.files[0].path)).length, final.files[0].bytes);
  });

  it('keeps running and saves the image when the reader of --json goes away', async () => {
    const out = join(root, 'epipe');
    const child = spawn(process.execPath, [PYROS_BIN, 'run', EXAMPLE, '--server', sim.url, '--seed', '5', '-o', out, '--json'], { env: isolatedEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(typeof JSON.parse(first.split('\n')[0] ?? '').event, 'string');
    assert.equal(code, 0);
    assert.equal((await readdir(out)).filter((f) => f.endsWith('.png')).length, 1);
  });

  it('explains a rejected workflow per node and exits 4', async () => {
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--set', '5.width=0', '-o', join(root, 'rejected')]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /rejected the workflow/);
    assert.match(result.stderr, /node #5 "Empty Latent Image" \(EmptyLatentImage\)/);
    assert.match(result.stderr, /smaller than min/);
  });

  it('reports a node that fails at run time and exits 5', async () => {
    const result = await runPyros(['run', FAILING, '--server', sim.url, '-o', join(root, 'failed')]);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /failed in node #4 "ImageBatch"/);
    assert.doesNotMatch(result.stderr, /current_inputs|tensor\(/);
  });

  it('fails fast with exit 3 when nothing listens at the server address', async () => {
    const port = await closedPort();
    const result = await runPyros(['run', EXAMPLE, '--server', `http://127.0.0.1:${port}`, '-o', join(root, 'down')]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /Cannot connect to ComfyUI at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    // Fast: the first refusal ends the run, with no retry, reconnect or wait announced in between,
    // and no prompt id: nothing reached a server.
    const json = await runPyros(['run', EXAMPLE, '--server', `http://127.0.0.1:${port}`, '-o', join(root, 'down'), '--json']);
    assert.equal(json.code, 3, json.stderr);
    const events = jsonEvents(json.stdout).map((event) => (event.event === 'note' ? `note ${String(event.kind)}` : String(event.event)));
    assert.deepEqual(events, ['note seed', 'phase', 'error']);
    assert.doesNotMatch(result.stderr, /^prompt /m);
  });

  it('converts a workflow saved in the editor format; what the server rejects is told per node (exit 4)', async () => {
    const file = join(root, 'ui.json');
    await writeFile(file, JSON.stringify({ last_node_id: 9, nodes: [{ id: 1, type: 'KSampler', mode: 0, inputs: [], outputs: [], widgets_values: [5, 'fixed', 20, 8, 'euler', 'normal', 1] }], links: [] }));
    const result = await runPyros(['run', file, '--server', sim.url, '-o', join(root, 'ui')], { env: { PYROS_CACHE: join(root, 'cache') } });
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /seed 5 → #1 "KSampler"\.seed/, 'the widget values were read in the order of the node definition');
    assert.match(result.stderr, /Prompt has no outputs/);
    assert.match(result.stderr, /hint: The server found no output node to run/);
    assert.doesNotMatch(result.stderr, /listed above/, 'nothing is listed, so no hint points at a list');
  });

  it('names the line and column of invalid JSON', async () => {
    const file = join(root, 'broken.json');
    await writeFile(file, '{\n  "1": {\n    "class_type": "X",,\n  }\n}\n');
    const result = await runPyros(['run', file, '--server', sim.url]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /broken\.json:3:\d+|line 3/);
  });

  it('refuses a server URL with another scheme', async () => {
    const result = await runPyros(['run', EXAMPLE, '--server', 'ftp://127.0.0.1/']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /scheme/);
  });

  it('stops before submitting when --set names an unknown node', async () => {
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--set', 'KSamplr.steps=3']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /KSampler/);
  });
});
