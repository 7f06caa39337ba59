/**
 * Optional: the same end states against a real ComfyUI server. Runs only when
 * PYROS_REAL_COMFYUI names one (e.g. http://127.0.0.1:8188 started with the tiny random-weight
 * models: UNETLoader "tiny-sd2-unet.safetensors", VAELoader "taesd", LotusConditioning).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.ts';
import { isolatedEnv, PYROS_BIN, runPyros } from '../support/cli.ts';

const server = process.env.PYROS_REAL_COMFYUI;
const SAMPLER = 'test/fixtures/workflows/real_tiny_sampler.json';
const FAILING = 'test/fixtures/traffic/d_execution_error.workflow.json';

describe('against a real ComfyUI server', { skip: server ? false : 'set PYROS_REAL_COMFYUI=http://HOST:PORT to run' }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pyros-real-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs the sampler workflow and saves the bytes the server serves', async () => {
    const out = join(root, 'ok');
    const result = await runPyros(['run', SAMPLER, '--server', server ?? '', '--seed', 'random', '-o', out, '--json'], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.ok(events.some((e) => e.event === 'progress'), 'progress events from the real sampler');
    const final = events.at(-1);
    assert.equal(final.event, 'result');
    const png = (await readdir(out)).find((f) => f.endsWith('.png'));
    assert.ok(png);
    const client = new Client({ server });
    try {
      const [file] = final.files;
      const meta = JSON.parse(await readFile(join(out, png.replace(/\.png$/, '.json')), 'utf8'));
      const response = await client.api.view(meta.output);
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      assert.deepEqual(await readFile(file.path), Buffer.concat(chunks));
    } finally {
      client.close();
    }
  });

  it('reports validation errors per node with exit 4', async () => {
    const result = await runPyros(['run', SAMPLER, '--server', server ?? '', '--set', '3.width=0', '-o', join(root, 'bad')]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /node #3 .*EmptyLatentImage/);
  });

  it('reports a node failing at run time with exit 5', async () => {
    const result = await runPyros(['run', FAILING, '--server', server ?? '', '-o', join(root, 'fail')]);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /ImageBatch/);
  });

  it('cancels its own running job on Ctrl-C and exits 130', async () => {
    const child = spawn(process.execPath, [PYROS_BIN, 'run', SAMPLER, '--server', server ?? '', '--set', '4.steps=400', '--seed', 'random', '-o', join(root, 'cancel'), '--json'], {
      env: isolatedEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"event":"progress"')) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130);
    const client = new Client({ server });
    try {
      const queue = await client.api.queue();
      assert.equal(queue.running.length + queue.pending.length, 0, 'nothing left running');
    } finally {
      client.close();
    }
  });
});
