import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { closedPort, jsonDocument, runPyros } from '../support/cli.ts';

const EXAMPLE = 'examples/txt2img.json';
const FAILING = 'test/fixtures/traffic/d_execution_error.workflow.json';
const CLIENT = 'c0ffee42-1111-2222-3333-444455556666';

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

describe('server commands against the simulator', () => {
  let sim: SimServer;
  let example: Record<string, any>;

  async function submit(workflow: Record<string, any>, clientId = CLIENT): Promise<string> {
    const response = await fetch(`${sim.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: workflow, client_id: clientId }) });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { prompt_id: string }).prompt_id;
  }

  /** A job that samples until it is interrupted. */
  const slow = (): Record<string, any> => {
    const workflow = structuredClone(example);
    workflow['3'].inputs.steps = 10000;
    workflow['3'].inputs.seed = Math.floor(Math.random() * 1e9);
    return workflow;
  };

  async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 500; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async function queueState(): Promise<{ running: string[]; pending: string[] }> {
    const body = (await (await fetch(`${sim.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
    return { running: body.queue_running.map((item) => String(item[1])), pending: body.queue_pending.map((item) => String(item[1])) };
  }

  async function historyStatus(id: string): Promise<string | undefined> {
    const body = (await (await fetch(`${sim.url}/history/${id}`)).json()) as Record<string, { status?: { status_str?: string } }>;
    return body[id]?.status?.status_str;
  }

  const pyros = (...args: string[]) => runPyros([...args, '--server', sim.url]);

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 20 });
    example = JSON.parse(await readFile(EXAMPLE, 'utf8'));
  });
  after(async () => {
    await sim.close();
  });

  it('queue: says when the queue is empty', async () => {
    const human = await pyros('queue');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /The queue of http:\/\/127\.0\.0\.1:\d+ is empty\./);
    assert.deepEqual(jsonDocument((await pyros('queue', '--json')).stdout), { ok: true, server: sim.url, running: [], pending: [] });
  });

  describe('a running prompt and pending ones', () => {
    let running: string;
    let first: string;
    let second: string;

    before(async () => {
      running = await submit(slow());
      await until('the slow prompt to run', async () => ((await queueState()).running.includes(running) ? true : undefined));
      first = await submit(slow(), 'another-client-9999');
      second = await submit(slow());
    });

    it('queue lists them in order with positions, client ids, node counts and outputs', async () => {
      const human = await pyros('queue');
      assert.equal(human.code, 0, human.stderr);
      const lines = human.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /1 running, 2 pending/);
      assert.match(lines[1] ?? '', /^POSITION\s+NUMBER\s+PROMPT ID\s+CLIENT\s+NODES\s+OUTPUTS$/);
      assert.match(lines[2] ?? '', new RegExp(`^running\\s+\\d+\\s+${running}\\s+c0ffee42\\s+7\\s+Save Image$`));
      assert.match(lines[3] ?? '', new RegExp(`^1\\s+\\d+\\s+${first}\\s+another-\\s+7\\s+Save Image$`));
      assert.match(lines[4] ?? '', new RegExp(`^2\\s+\\d+\\s+${second}\\s+c0ffee42`));
      // Columns are aligned: every prompt id starts in the same column.
      const column = (lines[2] ?? '').indexOf(running);
      assert.equal((lines[3] ?? '').indexOf(first), column);
      assert.equal((lines[1] ?? '').indexOf('PROMPT ID'), column);

      const doc = jsonDocument((await pyros('queue', '--json')).stdout);
      assert.equal(doc.ok, true);
      assert.equal(doc.running[0].prompt_id, running);
      assert.equal(doc.running[0].client_id, CLIENT);
      assert.deepEqual(doc.running[0].outputs, [{ node_id: '9', title: 'Save Image', class_type: 'SaveImage' }]);
      assert.deepEqual(
        doc.pending.map((p: { position: number; prompt_id: string }) => [p.position, p.prompt_id]),
        [
          [1, first],
          [2, second],
        ],
      );
      assert.ok(doc.pending[0].number < doc.pending[1].number);
    });

    it('cancel removes a pending prompt and leaves the others alone', async () => {
      const result = await pyros('cancel', first);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Removed prompt ${first} from the queue .*pending at position 1`));
      const state = await queueState();
      assert.deepEqual(state, { running: [running], pending: [second] });
      assert.equal(await historyStatus(first), undefined);
    });

    it('cancel interrupts the running prompt only', async () => {
      const result = await pyros('cancel', running, '--json');
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(jsonDocument(result.stdout), { ok: true, server: sim.url, prompt_id: running, action: 'interrupted', was: 'running' });
      await until('the interrupted prompt in the history', () => historyStatus(running));
      // The next prompt runs; it was not touched.
      await until('the next prompt to run', async () => ((await queueState()).running.includes(second) ? true : undefined));
    });

    it('cancel of a finished or unknown prompt is a usage error (exit 2)', async () => {
      const finished = await pyros('cancel', running);
      assert.equal(finished.code, 2);
      assert.match(finished.stderr, new RegExp(`Prompt ${running} is not queued .*already finished \\(interrupted\\)`));
      const unknown = await pyros('cancel', 'no-such-prompt', '--json');
      assert.equal(unknown.code, 2);
      const doc = jsonDocument(unknown.stdout);
      assert.equal(doc.ok, false);
      assert.equal(doc.kind, 'usage');
      assert.equal(doc.exit_code, 2);
      assert.match(doc.message, /not queued/);
      assert.deepEqual((await queueState()).running, [second]);
    });

    it('interrupt stops whatever runs and says so', async () => {
      const result = await pyros('interrupt');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Interrupted the running prompt ${second} .*queued by client c0ffee42`));
      assert.match(result.stdout, /stops whatever is running, whoever queued it/);
      await until('the interrupted prompt in the history', () => historyStatus(second));
      const idle = jsonDocument((await pyros('interrupt', '--json')).stdout);
      assert.deepEqual(idle, { ok: true, server: sim.url, interrupted: null, pending: 0 });
    });
  });

  describe('history', () => {
    let ok: string;
    let failed: string;

    before(async () => {
      const quick = structuredClone(example);
      quick['3'].inputs.steps = 2;
      ok = await submit(quick);
      failed = await submit(JSON.parse(await readFile(FAILING, 'utf8')));
      await until('both prompts to finish', async () => ((await historyStatus(ok)) && (await historyStatus(failed)) ? true : undefined));
    });

    it('lists recent prompts with status, duration and outputs, newest last', async () => {
      const human = await pyros('history');
      assert.equal(human.code, 0, human.stderr);
      const lines = human.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /the last 4 prompts, newest last/);
      assert.match(lines[1] ?? '', /^NUMBER\s+PROMPT ID\s+STATUS\s+DURATION\s+OUTPUTS\s+FINISHED\s+CLIENT$/);
      assert.match(lines.at(-2) ?? '', new RegExp(`${ok}\\s+success\\s+\\d+\\.\\ds\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+c0ffee42$`));
      assert.match(lines.at(-1) ?? '', new RegExp(`${failed}\\s+error\\s+\\d+\\.\\ds\\s+0\\s`));
      assert.equal(lines.filter((line) => / interrupted /.test(line)).length, 2);

      const doc = jsonDocument((await pyros('history', '--json', '--limit', '2')).stdout);
      assert.deepEqual(
        doc.prompts.map((p: { prompt_id: string; status: string; outputs: number }) => [p.prompt_id, p.status, p.outputs]),
        [
          [ok, 'success', 1],
          [failed, 'error', 0],
        ],
      );
      assert.equal(typeof doc.prompts[0].duration_ms, 'number');
      assert.match(doc.prompts[0].finished_at, /^\d{4}-\d\d-\d\dT/);
      const bad = await pyros('history', '--limit', 'lots');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--limit "lots"/);
    });

    it('shows one successful prompt with its files', async () => {
      const human = await pyros('history', ok);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`^prompt ${ok}\n`));
      assert.match(human.stdout, /status: +success/);
      assert.match(human.stdout, /duration: +\d+\.\ds/);
      assert.match(human.stdout, /outputs \(1\):\n {2}#9 "Save Image" +pyros_\d{5}_\.png +output/);
      assert.match(human.stdout, new RegExp(`pyros fetch ${ok}`));
      const doc = jsonDocument((await pyros('history', ok, '--json')).stdout);
      assert.equal(doc.prompt.status, 'success');
      assert.equal(doc.prompt.nodes, 7);
      assert.equal(doc.prompt.files.length, 1);
      assert.match(doc.prompt.files[0].filename, /^pyros_\d{5}_\.png$/);
      assert.equal(doc.prompt.files[0].node_id, '9');
    });

    it('shows a failed prompt with its error, never the node inputs', async () => {
      const human = await pyros('history', failed);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /status: +error/);
      assert.match(human.stdout, /error in #4 "ImageBatch": RuntimeError: Sizes of tensors must match/);
      assert.doesNotMatch(human.stdout, /tensor\(|current_inputs|Traceback|File "/);
      const verbose = await pyros('history', failed, '--verbose');
      assert.match(verbose.stdout, /traceback \(from the server\)/);
      const json = await pyros('history', failed, '--json');
      assert.doesNotMatch(json.stdout, /current_inputs|tensor\(/);
      const doc = jsonDocument(json.stdout);
      assert.equal(doc.prompt.status, 'error');
      assert.equal(doc.prompt.error.node_id, '4');
      assert.equal(doc.prompt.error.exception_type, 'RuntimeError');
      assert.ok(doc.prompt.error.traceback.length > 0);
    });

    it('refuses an unknown prompt id with exit 2', async () => {
      const result = await pyros('history', 'no-such-prompt');
      assert.equal(result.code, 2);
      assert.match(result.stderr, /knows no prompt no-such-prompt/);
    });
  });

  it('stats shows versions, memory and devices in human units', async () => {
    const human = await pyros('stats');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^server: +http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(human.stdout, /^ComfyUI: +0\.3\.64 \(frontend 1\.27\.10\)$/m);
    assert.match(human.stdout, /^Python: +pyros simulator/m);
    assert.match(human.stdout, /^PyTorch: +none \(simulated\)$/m);
    assert.match(human.stdout, /^RAM: +[\d.]+ [KMGT]iB used of [\d.]+ [KMGT]iB \(\d+%\)$/m);
    assert.match(human.stdout, /^devices \(1\):\n {2}cpu +cpu \(pyros simulator\) +VRAM [\d.]+ [KMGT]iB used of [\d.]+ GiB/m);
    const doc = jsonDocument((await pyros('stats', '--json')).stdout);
    assert.equal(doc.system.comfyui_version, '0.3.64');
    assert.equal(doc.devices[0].vram_used, doc.devices[0].vram_total - doc.devices[0].vram_free);
  });

  it('nodes lists classes matching a filter, aligned', async () => {
    const human = await pyros('nodes', 'IMAGE');
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+DISPLAY NAME\s+CATEGORY$/);
    assert.ok(lines.some((line) => /^LoadImage\s+Load Image\s+image$/.test(line)));
    assert.ok(lines.some((line) => /^LoadImageMask\s+Load Image \(as Mask\)\s+mask$/.test(line)));
    assert.ok(!lines.some((line) => line.startsWith('KSampler')));
    assert.match(lines.at(-1) ?? '', /\d+ of \d+ node classes match "IMAGE"/);
    const column = (lines[0] ?? '').indexOf('DISPLAY NAME');
    for (const line of lines.slice(1, -1)) assert.equal(line[column - 1], ' ', line);

    const doc = jsonDocument((await pyros('nodes', 'sampler', '--json')).stdout);
    assert.deepEqual(
      doc.nodes.map((n: { name: string }) => n.name),
      ['KSampler', 'KSamplerAdvanced'],
    );
    assert.ok(doc.total > 20);
    const none = await pyros('nodes', 'no-such-node-xyz');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No node class .* matches "no-such-node-xyz"/);
  });

  it('nodes shows one class with its inputs (types, defaults, ranges, choices) and outputs', async () => {
    const human = await pyros('nodes', 'ksampler');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^KSampler {2}"KSampler" {2}\(sampling\)/);
    assert.match(human.stdout, /^required inputs:$/m);
    assert.match(human.stdout, /^ {2}seed +INT +default 0, min 0, max 18446744073709551615$/m);
    assert.match(human.stdout, /^ {2}steps +INT +default 20, min 1, max 10000$/m);
    assert.match(human.stdout, /^ {2}sampler_name +COMBO +euler, .*… \(\d+ more\)$/m);
    assert.match(human.stdout, /^ {2}model +MODEL$/m);
    assert.match(human.stdout, /^outputs:\n {2}0 {2}LATENT$/m);
    const doc = jsonDocument((await pyros('nodes', 'KSampler', '--json')).stdout);
    const node = doc.nodes[0];
    assert.equal(doc.nodes.length, 1);
    const steps = node.inputs.required.find((i: { name: string }) => i.name === 'steps');
    assert.deepEqual(steps, { name: 'steps', type: 'INT', default: 20, min: 1, max: 10000, tooltip: 'The number of steps used in the denoising process.' });
    const sampler = node.inputs.required.find((i: { name: string }) => i.name === 'sampler_name');
    assert.ok(sampler.choices.length > 8, 'JSON keeps every choice');
    assert.deepEqual(node.outputs, [{ index: 0, type: 'LATENT', name: 'LATENT', is_list: false }]);

    const both = jsonDocument((await pyros('nodes', 'load image', '--inputs', '--json')).stdout);
    assert.deepEqual(
      both.nodes.map((n: { name: string; inputs: { required: { name: string }[] } }) => [n.name, n.inputs.required.map((i) => i.name)]),
      [
        ['LoadImage', ['image']],
        ['LoadImageMask', ['image', 'channel']],
      ],
    );
  });

  it('every server command exits 3 when nothing listens, with one JSON error document', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [['queue'], ['history'], ['cancel', 'x'], ['interrupt'], ['stats'], ['nodes']]) {
      const human = await runPyros([...args, '--server', server]);
      assert.equal(human.code, 3, `${args[0]}: ${human.stderr}`);
      assert.match(human.stderr, /Cannot connect to ComfyUI/);
      const json = await runPyros([...args, '--server', server, '--json']);
      assert.equal(json.code, 3);
      const doc = jsonDocument(json.stdout);
      assert.equal(doc.ok, false);
      assert.equal(doc.kind, 'connection');
    }
  });
});
