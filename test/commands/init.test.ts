import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { closedPort, runPyros } from '../support/cli.ts';

const EXAMPLE = resolve('examples/txt2img.json');
const HIRES = resolve('test/fixtures/workflows/hires_fix.json');
const UI_FORMAT = resolve('test/fixtures/workflows/ui_format.json');

async function readConfig(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8'));
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('pyros init', () => {
  let sim: SimServer;
  let root: string;
  let cwd: string;

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0 });
    root = await mkdtemp(join(tmpdir(), 'pyros-init-'));
    cwd = join(root, 'project');
    await mkdir(cwd);
    await copyFile(EXAMPLE, join(cwd, 'flow.json'));
    await copyFile(HIRES, join(cwd, 'hires.json'));
    await copyFile(UI_FORMAT, join(cwd, 'ui.json'));
    await writeFile(join(cwd, 'notes.json'), JSON.stringify({ todo: ['render more foxes'] }));
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('asks for each setting on stdin and writes the config file with mode 0600', async () => {
    const config = join(root, 'asked', 'config.json');
    // workflow 1 (flow.json), prompt: Enter (detected), seed: Enter, server, output.
    const result = await runPyros(['init', '--config', config], { cwd, input: `1\n\n\n${sim.url}\nrenders\n` });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /1\) flow\.json/);
    assert.match(result.stdout, /3\) notes\.json {2}\(not a workflow\)/);
    assert.match(result.stdout, /4\) ui\.json$/m, 'an editor-format workflow is a workflow too');
    assert.match(result.stdout, /1\) #6 "Positive Prompt" \(CLIPTextEncode\)\.text {2}detected/);
    assert.match(result.stdout, /✔ connected: ComfyUI 0\.3\.64/);
    assert.deepEqual(await readConfig(config), {
      server: sim.url,
      workflow: join(cwd, 'flow.json'),
      output: 'renders',
      promptInput: '6.text',
      seedInput: '3.seed',
    });
    assert.equal(await modeOf(config), 0o600);
    assert.deepEqual(await readdir(join(root, 'asked')), ['config.json'], 'no temporary file is left');

    // The file works: pyros run takes its workflow, server, inputs and output from it.
    const run = await runPyros(['run', '--config', config, '--prompt', 'a configured fox', '--seed', '3'], { cwd });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /prompt → #6 "Positive Prompt"\.text\n/);
    const files = await readdir(join(cwd, 'renders'));
    assert.ok(files.some((f) => f.endsWith('.png')), files.join(', '));
  });

  it('asks again after a wrong answer, and takes NODE.INPUT typed in', async () => {
    const config = join(root, 'retry', 'config.json');
    const answers = ['7', 'missing.json', 'notes.json', '2', '', 'KSamplr.seed', '11.seed', sim.url, ''].join('\n');
    const result = await runPyros(['init', '--config', config], { cwd, input: `${answers}\n` });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /There is no file number 7/);
    assert.match(result.stdout, /Workflow file not found: missing\.json/);
    assert.match(result.stdout, /notes\.json is JSON but not a ComfyUI workflow/);
    assert.match(result.stdout, /1\) all 2 detected seed inputs/);
    assert.match(result.stdout, /no node "KSamplr"/);
    const saved = await readConfig(config);
    assert.equal(saved.workflow, join(cwd, 'hires.json'));
    assert.equal(saved.seedInput, '11.seed');
    assert.equal(saved.output, 'images');
  });

  it('takes a workflow saved in the editor format, converted with the server\'s node definitions', async () => {
    const config = join(root, 'editor', 'config.json');
    const result = await runPyros(['init', 'ui.json', '--yes', '--config', config, '--server', sim.url], { cwd, env: { PYROS_CACHE: join(root, 'cache') } });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /ui\.json: 7 nodes/);
    const saved = await readConfig(config);
    assert.equal(saved.workflow, join(cwd, 'ui.json'));
    assert.equal(saved.promptInput, '6.text');
    assert.equal(saved.seedInput, '3.seed');
  });

  it('--yes accepts the detections and the flags, reports a failed connection test and still saves', async () => {
    const config = join(root, 'yes', 'config.json');
    const server = `http://127.0.0.1:${await closedPort()}`;
    const result = await runPyros(['init', 'flow.json', '--yes', '--config', config, '--server', server, '-o', 'out', '--prompt-input', 'Positive Prompt.text'], { cwd });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /connection test failed: .*connection refused/);
    assert.deepEqual(await readConfig(config), { server, workflow: join(cwd, 'flow.json'), output: 'out', promptInput: '6.text', seedInput: '3.seed' });
    assert.equal(await modeOf(config), 0o600);
  });

  it('edits an existing config: the current values are the defaults, other keys are kept', async () => {
    const dir = join(root, 'edit');
    await mkdir(dir);
    const config = join(dir, 'config.json');
    const existing = { timeout: '5m', headers: { 'X-Api-Key': 'k-123456' }, server: sim.url, workflow: join(cwd, 'hires.json'), seedInput: '11.seed', output: 'kept' };
    await writeFile(config, JSON.stringify(existing));
    await chmod(config, 0o644);
    // Enter everywhere: the workflow, its prompt, the current seed choice, the server, the output.
    const result = await runPyros(['init', '--config', config], { cwd, input: '\n\n\n\n\n' });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /editing/);
    assert.match(result.stdout, /Workflow \(number or path\) \[2\]/);
    assert.match(result.stdout, /Output folder \[kept\]/);
    assert.doesNotMatch(result.stdout, /k-123456/);
    const saved = await readConfig(config);
    assert.deepEqual(saved, { ...existing, promptInput: '7.text' });
    assert.equal(await modeOf(config), 0o600);

    const yes = await runPyros(['init', '--yes', '--config', config], { cwd });
    assert.equal(yes.code, 0, yes.stderr);
    assert.deepEqual(await readConfig(config), saved);
  });

  it('stops without writing when --yes cannot decide or a preset is wrong', async () => {
    const config = join(root, 'refused', 'config.json');
    const noWorkflow = await runPyros(['init', '--yes', '--config', config], { cwd });
    assert.equal(noWorkflow.code, 2, noWorkflow.stdout);
    assert.match(noWorkflow.stderr, /No workflow to set up/);
    const badInput = await runPyros(['init', 'flow.json', '--yes', '--config', config, '--prompt-input', 'Nope.text', '--server', sim.url], { cwd });
    assert.equal(badInput.code, 2);
    assert.match(badInput.stderr, /--prompt-input "Nope\.text": no node "Nope"/);
    const ended = await runPyros(['init', '--config', config], { cwd, input: '1\n' });
    assert.equal(ended.code, 2);
    assert.match(ended.stderr, /input ended before every question was answered/);
    await assert.rejects(stat(config));
  });
});
