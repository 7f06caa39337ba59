/** `pyros gallery` as a command: prints its address, serves, stops cleanly on Ctrl-C. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isolatedEnv, PYROS_BIN, runPyros } from '../support/cli.ts';
import { writeOutput } from './fixtures/outputs.ts';

describe('pyros gallery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyros-gallery-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the folder, prints the address on stdout and stops with Ctrl-C (exit 0)', async () => {
    writeOutput(dir, { name: 'pyros_00001_.png', prompt: 'a lighthouse', savedAt: '2026-01-01T10:00:00.000Z' });
    const child = spawn(process.execPath, [PYROS_BIN, 'gallery', dir, '--no-open'], { env: isolatedEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = /^(http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stdout);
        if (line?.[1]) resolve(line[1]);
      });
      child.on('close', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const listing = (await (await fetch(`${url}api/outputs`)).json()) as { items: { file: string }[] };
      assert.deepEqual(listing.items.map((item) => item.file), ['pyros_00001_.png']);
      assert.match(stderr, /Gallery of .* at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops it\)/);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });

  it('explains a folder that does not exist (exit 2)', async () => {
    const result = await runPyros(['gallery', join(dir, 'nothing'), '--no-open']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /✖ No folder .*nothing: nothing has been saved there yet\.\n {2}hint: Run `pyros run` \(or `pyros`\) first, or name the folder: pyros gallery DIR\./);
  });
});
