/**
 * Bad input: each problem with the workflow file or with --set ends with one clear message and
 * exit 2, before anything is sent to the server.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { jsonEvents, runPyros, startFaultSim, tinyWorkflow, writeWorkflow, type FaultSim } from '../support/faults.ts';

describe('faults: bad input', () => {
  let sim: FaultSim;
  let root: string;
  let flow: string;

  before(async () => {
    sim = await startFaultSim();
    root = await mkdtemp(join(tmpdir(), 'pyros-badinput-'));
    flow = await writeWorkflow(root, 'flow.json', tinyWorkflow());
  });
  beforeEach(() => {
    sim.requests.length = 0;
    sim.upgrades.length = 0;
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Runs pyros and checks the usage exit code, one error block, and that the server heard nothing. */
  async function refused(args: string[]): Promise<string> {
    const result = await runPyros(['run', ...args, '--server', sim.url, '-o', join(root, 'out')]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal((result.stderr.match(/✖/g) ?? []).length, 1, `not one error block:\n${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.equal(sim.requests.length + sim.upgrades.length, 0, 'the server was contacted');
    await assert.rejects(stat(join(root, 'out')), 'the output folder was created');
    return result.stderr;
  }

  it('a missing workflow file', async () => {
    const path = join(root, 'missing.json');
    assert.match(await refused([path]), new RegExp(`Workflow file not found: ${path}`));
  });

  it('a workflow path that cannot be read (a symlink loop)', async () => {
    const path = join(root, 'loop.json');
    await symlink(path, path);
    assert.match(await refused([path]), new RegExp(`Cannot read workflow file ${path}`));
  });

  it('a workflow file without read permission', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root: file permissions do not stop root (the symlink-loop test covers unreadable files)');
      return;
    }
    const path = await writeWorkflow(root, 'secret.json', tinyWorkflow());
    await chmod(path, 0o000);
    assert.match(await refused([path]), /Cannot read workflow file .*permission denied/);
  });

  it('a folder given as the workflow', async () => {
    const path = join(root, 'a-folder');
    await mkdir(path, { recursive: true });
    assert.match(await refused([path]), /is a directory, not a workflow file/);
  });

  it('invalid JSON, with the line and column', async () => {
    const path = await writeWorkflow(root, 'broken.json', '{\n  "3": {\n    "class_type": "KSampler",,\n  }\n}\n');
    assert.match(await refused([path]), /broken\.json:3:\d+/);
  });

  it('an empty file', async () => {
    const path = await writeWorkflow(root, 'empty.json', '');
    assert.match(await refused([path]), /empty\.json is empty/);
  });

  it('a workflow saved in the UI format', async () => {
    const ui = await readFile(new URL('../fixtures/workflows/ui_format.json', import.meta.url), 'utf8');
    const path = await writeWorkflow(root, 'ui.json', ui);
    const stderr = await refused([path]);
    assert.match(stderr, /UI|editor/);
    assert.match(stderr, /Export \(API\)/);
  });

  it('an unknown node in --set', async () => {
    assert.match(await refused([flow, '--set', 'KSamplr.steps=3']), /KSampler/);
  });

  it('an unknown input in --set', async () => {
    const stderr = await refused([flow, '--set', 'KSampler.stepz=3']);
    assert.match(stderr, /has no input "stepz"/);
    assert.match(stderr, /steps/);
  });

  it('the same problems as one JSON error object with --json', async () => {
    const result = await runPyros(['run', join(root, 'missing.json'), '--server', sim.url, '--json']);
    assert.equal(result.code, 2);
    const events = jsonEvents(result.stdout);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event, 'error');
    assert.equal(events[0]?.kind, 'usage');
    assert.equal(events[0]?.exit_code, 2);
  });
});
