/** `pyros gallery` as a command: prints its address, serves, stops cleanly on Ctrl-C. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runPyros, startPyros } from '../support/cli.ts';
import { writeOutput } from './fixtures/outputs.ts';

describe('pyros gallery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyros-gallery-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the folder, prints the address on stdout and stops with Ctrl-C (exit 0)', async () => {
    writeOutput(dir, { name: 'pyros_00001_.png', prompt: 'a lighthouse', savedAt: '2026-01-01T10:00:00.000Z' });
    const running = startPyros(['gallery', dir, '--no-open']);
    const [, url] = (await running.waitFor(/^(http:\/\/127\.0\.0\.1:\d+\/)\n/)) as unknown as [string, string];
    try {
      const listing = (await (await fetch(`${url}api/outputs`)).json()) as { items: { file: string }[] };
      assert.deepEqual(listing.items.map((item) => item.file), ['pyros_00001_.png']);
      assert.match(running.stderr, /Gallery of .* at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops it\)/);
    } finally {
      running.signal('SIGINT');
    }
    assert.equal((await running.result).code, 0);
  });

  it('explains a folder that does not exist (exit 2)', async () => {
    const result = await runPyros(['gallery', join(dir, 'nothing'), '--no-open']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /✖ No folder .*nothing: nothing has been saved there yet\.\n {2}hint: Run `pyros run` \(or `pyros`\) first, or name the folder: pyros gallery DIR\./);
  });
});
