/**
 * Bad input: each problem with the workflow file or with --set ends with one clear message and
 * exit 2, before anything is sent to the server.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonEvents, runPyros, tinyWorkflow, useFaultSuite, writeWorkflow } from '../support/faults.ts';

describe('faults: bad input', () => {
  const suite = useFaultSuite('badinput');

  /** Runs pyros and checks the usage exit code, one error block, and that the server heard nothing. */
  async function refused(args: string[]): Promise<string> {
    const result = await runPyros(['run', ...args, '--server', suite.sim.url, '-o', join(suite.root, 'out')]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal((result.stderr.match(/✖/g) ?? []).length, 1, `not one error block:\n${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.equal(suite.sim.requests.length + suite.sim.upgrades.length, 0, 'the server was contacted');
    await assert.rejects(stat(join(suite.root, 'out')), 'the output folder was created');
    return result.stderr;
  }

  it('a missing workflow file', async () => {
    const path = join(suite.root, 'missing.json');
    assert.match(await refused([path]), new RegExp(`Workflow file not found: ${path}`));
  });

  it('a workflow path that cannot be read (a symlink loop)', async () => {
    const path = join(suite.root, 'loop.json');
    await symlink(path, path);
    assert.match(await refused([path]), new RegExp(`Cannot read workflow file ${path}`));
  });

  it('a workflow file without read permission', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root: file permissions do not stop root (the symlink-loop test covers unreadable files)');
      return;
    }
    const path = await writeWorkflow(suite.root, 'secret.json', tinyWorkflow());
    await chmod(path, 0o000);
    assert.match(await refused([path]), /Cannot read workflow file .*permission denied/);
  });

  it('a folder given as the workflow', async () => {
    const path = join(suite.root, 'a-folder');
    await mkdir(path, { recursive: true });
    assert.match(await refused([path]), /is a directory, not a workflow file/);
  });

  it('invalid JSON, with the line and column', async () => {
    const path = await writeWorkflow(suite.root, 'broken.json', '{\n  "3": {\n    "class_type": "KSampler",,\n  }\n}\n');
    assert.match(await refused([path]), /broken\.json:3:\d+/);
  });

  it('an empty file', async () => {
    const path = await writeWorkflow(suite.root, 'empty.json', '');
    assert.match(await refused([path]), /empty\.json is empty/);
  });

  it('JSON that is neither an API nor an editor workflow', async () => {
    const path = await writeWorkflow(suite.root, 'other.json', JSON.stringify({ name: 'my notes', items: [1, 2] }));
    const stderr = await refused([path]);
    assert.match(stderr, /is JSON but not a ComfyUI workflow/);
    assert.match(stderr, /saved from ComfyUI/);
  });

  it('an editor workflow converted with --object-info that names node classes the server lacks', async () => {
    const ui = JSON.parse(await readFile(new URL('../fixtures/workflows/ui_format.json', import.meta.url), 'utf8'));
    const path = await writeWorkflow(suite.root, 'ui.json', JSON.stringify(ui));
    const definitions = await writeWorkflow(suite.root, 'object_info.json', JSON.stringify({ SaveImage: {} }));
    const stderr = await refused([path, '--object-info', definitions]);
    assert.match(stderr, /The workflow uses 5 node classes the server does not have/);
    assert.match(stderr, /KSampler: node 3/);
  });

  it('an unknown node in --set', async () => {
    assert.match(await refused([suite.flow, '--set', 'KSamplr.steps=3']), /KSampler/);
  });

  it('an unknown input in --set', async () => {
    const stderr = await refused([suite.flow, '--set', 'KSampler.stepz=3']);
    assert.match(stderr, /has no input "stepz"/);
    assert.match(stderr, /steps/);
  });

  it('the same problems as one JSON error object with --json', async () => {
    const result = await runPyros(['run', join(suite.root, 'missing.json'), '--server', suite.sim.url, '--json']);
    assert.equal(result.code, 2);
    const events = jsonEvents(result.stdout);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event, 'error');
    assert.equal(events[0]?.kind, 'usage');
    assert.equal(events[0]?.exit_code, 2);
  });
});
