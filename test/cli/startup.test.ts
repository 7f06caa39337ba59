/**
 * `pyros run` without a terminal must not load what only other paths need (image decoders, the
 * live view, the simulator, the editor-format converter and the readers of images, video and
 * audio for an API-format JSON file): start-up cost is part of every run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { isolatedEnv, PYROS_BIN } from '../support/cli.ts';

const LOG_LOADS = fileURLToPath(new URL('./fixtures/log-loads.mjs', import.meta.url));
/** Code that only the live view, the image previews, the simulator or other kinds of workflow files need. */
const HEAVY = ['JPEGDecoder', 'function decodeImage', 'function startSim', 'function encodeKitty', 'function convertEditorWorkflow', 'function readMatroska'];

describe('start-up of pyros run', () => {
  let sim: SimServer;
  let root: string;
  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0 });
    root = await mkdtemp(join(tmpdir(), 'pyros-startup-'));
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('loads neither image decoders, the live view nor the simulator for a plain run', async () => {
    // Not spawnSync: the simulator runs in this process and must keep answering.
    const child = spawn(process.execPath, ['--import', LOG_LOADS, PYROS_BIN, 'run', 'examples/txt2img.json', '--server', sim.url, '-o', join(root, 'out')], {
      env: isolatedEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const result = { status, stderr };
    assert.equal(result.status, 0, result.stderr);
    const loaded = [...result.stderr.matchAll(/^pyros-load (\S+)$/gm)].map((m) => fileURLToPath(m[1] ?? ''));
    assert.ok(loaded.length > 1, 'the bundle was loaded');
    for (const file of new Set(loaded)) {
      const code = await readFile(file, 'utf8');
      for (const marker of HEAVY) assert.ok(!code.includes(marker), `${file} (loaded by a plain run) contains ${marker}`);
    }
  });
});
