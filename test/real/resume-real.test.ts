/**
 * Optional, against a real ComfyUI server (PYROS_REAL_COMFYUI, with the tiny models): a batch
 * killed with SIGKILL mid-way is finished by `pyros resume` with every seed run once (the server's
 * history says so) and every file saved once, byte for byte; and an answer to POST /prompt cut by
 * a proxy does not lose the job.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.ts';
import { runPyros, startPyros } from '../support/cli.ts';
import { startCutProxy } from '../support/cut-proxy.ts';
import { untilAsync } from '../support/wait.ts';

const server = process.env.PYROS_REAL_COMFYUI;
const SAMPLER = 'test/fixtures/workflows/real_tiny_sampler.json';

/** Each seed's runs in the server's history (node 4 is the sampler), with the files they made. */
async function runsBySeed(client: Client, seeds: number[]): Promise<Map<number, { status: string | undefined; files: { filename: string; subfolder: string; type: string }[] }[]>> {
  const history = await client.api.historyList(10_000);
  const runs = new Map<number, { status: string | undefined; files: { filename: string; subfolder: string; type: string }[] }[]>(seeds.map((seed) => [seed, []]));
  for (const entry of Object.values(history)) {
    const prompt = entry.prompt?.[2] as Record<string, { inputs: Record<string, unknown> }> | undefined;
    const files = Object.values((entry.outputs ?? {}) as Record<string, { images?: { filename: string; subfolder: string; type: string }[] }>).flatMap((output) => output.images ?? []);
    runs.get(prompt?.['4']?.inputs.seed as number)?.push({ status: entry.status?.status_str, files });
  }
  return runs;
}

const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function assertOnce(client: Client, out: string, seeds: number[]): Promise<void> {
  const saved = new Map<string, string>();
  for (const name of (await readdir(out)).filter((f) => f.endsWith('.png'))) saved.set(name, digest(await readFile(join(out, name))));
  let files = 0;
  for (const [seed, runs] of await runsBySeed(client, seeds)) {
    assert.deepEqual(runs.map((run) => run.status), ['success'], `seed ${seed} ran ${runs.length} times`);
    for (const file of runs[0]?.files ?? []) {
      files += 1;
      const chunks: Buffer[] = [];
      for await (const chunk of await client.api.view(file)) chunks.push(chunk as Buffer);
      const copies = [...saved.values()].filter((hash) => hash === digest(Buffer.concat(chunks)));
      assert.equal(copies.length, 1, `${file.filename} (seed ${seed}) saved ${copies.length} times`);
    }
  }
  assert.equal(saved.size, files);
}

describe('resume against a real ComfyUI server', { skip: server ? false : 'set PYROS_REAL_COMFYUI=http://HOST:PORT to run' }, () => {
  let root: string;
  let client: Client;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pyros-real-resume-'));
    client = new Client({ server });
  });
  after(async () => {
    client.close();
    await rm(root, { recursive: true, force: true });
  });

  it('a 10-job batch killed with SIGKILL after 4 jobs is finished by pyros resume, each seed once', async () => {
    const base = 100_000 + Math.floor(Math.random() * 1_000_000) * 10;
    const seeds = Array.from({ length: 10 }, (_, i) => base + i);
    const out = join(root, 'batch');
    const running = startPyros(['run', SAMPLER, '--server', server ?? '', '--count', '10', '--seed', `${base}+`, '-o', out], { timeoutMs: 300_000 });
    await running.whileRunning(untilAsync(async () => (await readdir(out).catch(() => [])).filter((f) => f.endsWith('.png')).length >= 4, 240_000, 'four saved files'));
    running.signal('SIGKILL');
    assert.equal((await running.result).code, null);
    const resumed = await runPyros(['resume', out, '--server', server ?? ''], { timeoutMs: 300_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /run \S+ is finished/);
    await assertOnce(client, out, seeds);
  });

  it('an answer to POST /prompt cut by a proxy: found by its id, run once, even with --retry', async () => {
    const port = Number(new URL(server ?? 'http://127.0.0.1:8188').port || 80);
    const proxy = await startCutProxy({ port, host: new URL(server ?? 'http://127.0.0.1').hostname }, { mode: 'cut', times: 1 });
    try {
      const seed = 200_000 + Math.floor(Math.random() * 1_000_000);
      const out = join(root, 'cut');
      const result = await runPyros(['run', SAMPLER, '--server', proxy.url, '--seed', String(seed), '--retry', '2', '-o', out], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(proxy.treated, 1);
      assert.doesNotMatch(result.stderr, /resubmitting/);
      await assertOnce(client, out, [seed]);
    } finally {
      await proxy.close();
    }
  });
});
