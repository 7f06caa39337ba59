/**
 * The output folder cannot take the files: the disk is full (ENOSPC) or the folder is read-only.
 * One clear message, exit 7, nothing partial left behind, and the outputs can still be fetched.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  jsonEvents,
  onSmallDisk,
  outputEntries,
  QUICK_CHECKS,
  runPyros,
  tinyWorkflow,
  useFaultSuite,
} from '../support/faults.ts';

describe('faults: the output folder cannot take the files', () => {
  // 512×512: a PNG (about 30 KB) larger than the 16 KiB disk below.
  const suite = useFaultSuite('disk', { stepMs: 0, previews: false, workflow: tinyWorkflow({ steps: 1, size: 512 }) });

  /** The outputs of a failed run can still be fetched into another folder, byte for byte. */
  async function fetchElsewhere(promptId: string, name: string): Promise<void> {
    const elsewhere = join(suite.root, name);
    const fetched = await runPyros(['fetch', promptId, '--server', suite.sim.url, '-o', elsewhere]);
    assert.equal(fetched.code, 0, fetched.stderr);
    await assertSavedIdentical(elsewhere, await suite.produced());
  }

  it('disk full (ENOSPC): exit 7, no partial or temporary file, outputs still fetchable', async (t) => {
    await onSmallDisk(t, suite.root, 16 * 1024, async (disk) => {
      const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', disk.dir, '--json'], { env: QUICK_CHECKS });
      assert.equal(result.code, 7, result.stderr);
      const error = jsonEvents(result.stdout).at(-1);
      assert.equal(error?.kind, 'output');
      assert.equal(error?.exit_code, 7);
      assert.match(String(error?.message), new RegExp(`The disk is full: could not write fault_\\d+_\\.png in ${disk.dir}`));
      const promptId = String(jsonEvents(result.stdout).find((e) => e.event === 'job')?.prompt_id);
      assert.match(String(error?.hint), new RegExp(`pyros fetch ${promptId} -o OTHER_DIR`));
      assert.deepEqual(await outputEntries(disk.dir), [], 'a partial or temporary file was left on the full disk');
      // The journal, beside it, knows the job finished without its files: a resume can save them later.
      await fetchElsewhere(promptId, 'after-full');
    });
  });

  it('read-only output folder: exit 7 with one message, before anything is submitted', async (t) => {
    await onSmallDisk(t, suite.root, 1024 * 1024, async (disk) => {
      await disk.readOnly();
      const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', disk.dir], { env: QUICK_CHECKS });
      assert.equal(result.code, 7, result.stderr);
      assert.equal((result.stderr.match(/✖/g) ?? []).length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`Cannot write to the output folder ${disk.dir}: read-only file system`));
      assert.match(result.stderr, /hint: Choose a folder you can write to with --output DIR\./);
      // The run's journal cannot be written there: nothing is run that could not be saved.
      assert.equal(suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length, 0);
      assert.deepEqual(await readdir(disk.dir), []);
    });
  });

  it('an output path that is a file: exit 7', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', suite.flow], { env: QUICK_CHECKS });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /is not a folder/);
    await assertNoTempFiles(suite.root);
  });
});
