/** `pyros` with prompts on standard input (not a terminal): one prompt per line, for scripts. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSim } from '../../src/sim/index.ts';
import { closedPort, runPyros } from '../support/cli.ts';
import { png } from '../gallery/fixtures/outputs.ts';

const WORKFLOW = fileURLToPath(new URL('../../examples/txt2img.json', import.meta.url));

describe('piped input', () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let dir = '';
  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'pyros-piped-'));
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs one job per line, in order, and exits 0', async () => {
    const output = join(dir, 'two');
    const result = await runPyros(['--server', sim.url, '--workflow', WORKFLOW, '--output', output], { input: 'a red fox\n\na blue whale\n' });
    assert.equal(result.code, 0, result.stderr);
    const pngs = readdirSync(output).filter((name) => name.endsWith('.png')).sort();
    assert.deepEqual(pngs, ['pyros_00001_.png', 'pyros_00002_.png']);
    assert.equal(readFileSync(join(output, 'pyros_00001_.txt'), 'utf8'), 'a red fox\n');
    assert.equal(readFileSync(join(output, 'pyros_00002_.txt'), 'utf8'), 'a blue whale\n');
    const done = result.stdout.split('\n').filter((line) => line.startsWith('done: 1 file saved'));
    assert.equal(done.length, 2, result.stdout);
    assert.match(result.stdout, /pyros_00001_\.png[\s\S]*pyros_00002_\.png/);
    assert.doesNotMatch(result.stderr, /\x1b\[/, 'plain lines, no escape sequences');
  });

  it('runs /commands between prompts, joins lines ending in \\, and goes on after a bad command', async () => {
    const output = join(dir, 'commands');
    const input = ['/count 2', '/seed 1000+', '/set KSampler.steps=2', '/nonsense', 'a cat \\', 'on a mat', '/quit', 'never run'].join('\n');
    const result = await runPyros(['--server', sim.url, '--workflow', WORKFLOW, '--output', output], { input });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /✖ Unknown command \/nonsense\./);
    const sidecars = readdirSync(output)
      .filter((name) => /^pyros_\d+_\.json$/.test(name))
      .sort()
      .map((name) => JSON.parse(readFileSync(join(output, name), 'utf8')) as { prompt: string; seed: number; workflow: Record<string, { inputs: Record<string, unknown> }> });
    assert.deepEqual(
      sidecars.map((s) => [s.prompt, s.seed, s.workflow['3']?.inputs.steps]),
      [
        ['a cat \non a mat', 1000, 2],
        ['a cat \non a mat', 1001, 2],
      ],
    );
  });

  it('expands prompt variables with each job\'s seed, keeping the template in the sidecar', async () => {
    const output = join(dir, 'vars');
    const vars = join(dir, 'my-vars');
    mkdirSync(vars);
    writeFileSync(join(vars, 'hue.txt'), 'crimson\n');
    const result = await runPyros(['--server', sim.url, '--workflow', WORKFLOW, '--output', output, '--vars', vars, '--seed', '7'], { input: 'a __hue__ fox\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^prompt: a crimson fox$/m);
    const [sidecar] = readdirSync(output).filter((name) => name.endsWith('.json'));
    const meta = JSON.parse(readFileSync(join(output, sidecar ?? ''), 'utf8')) as { prompt: string; prompt_template: string; seed: number };
    assert.deepEqual([meta.prompt, meta.prompt_template, meta.seed], ['a crimson fox', 'a __hue__ fox', 7]);
    assert.equal(readFileSync(join(output, (sidecar ?? '').replace(/\.json$/, '.txt')), 'utf8'), 'a crimson fox\n');
  });

  it('uploads --input once per server and sets it in every job', async () => {
    const output = join(dir, 'inputs');
    const flow = JSON.parse(readFileSync(WORKFLOW, 'utf8')) as Record<string, unknown>;
    flow['10'] = { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Load Image' } };
    flow['11'] = { class_type: 'SaveImage', inputs: { images: ['10', 0], filename_prefix: 'loaded' } };
    const workflow = join(dir, 'with-input.json');
    writeFileSync(workflow, JSON.stringify(flow));
    const photo = join(dir, 'photo.png');
    writeFileSync(photo, png([10, 200, 30]));
    const result = await runPyros(['--server', sim.url, '--workflow', workflow, '--output', output, '--input', photo], { input: 'first\nsecond\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.split(`input ${photo} → #10 "Load Image".image (uploaded as photo.png)`).length - 1, 1, result.stderr);
    const metas = readdirSync(output)
      .filter((name) => /^pyros_\d+_\.json$/.test(name))
      .map((name) => JSON.parse(readFileSync(join(output, name), 'utf8')) as { prompt: string; workflow: Record<string, { inputs: Record<string, unknown> }>; inputs: { node_id: string; value: string }[] });
    assert.deepEqual(metas.map((m) => m.prompt).sort(), ['first', 'second']);
    for (const meta of metas) {
      assert.equal(meta.workflow['10']?.inputs.image, 'photo.png');
      assert.deepEqual(meta.inputs.map((i) => [i.node_id, i.value]), [['10', 'photo.png']]);
    }
    assert.equal(readdirSync(output).filter((name) => name.startsWith('loaded') && name.endsWith('.png')).length, 2);
  });

  it('prints NDJSON with --json, each event tagged with its job', async () => {
    const output = join(dir, 'json');
    const result = await runPyros(['--server', sim.url, '--workflow', WORKFLOW, '--output', output, '--json'], { input: 'one\ntwo\n' });
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event?: string; job?: number; ok?: boolean });
    const results = events.filter((e) => e.event === 'result');
    assert.deepEqual(
      results.map((e) => [e.job, e.ok]),
      [
        [1, true],
        [2, true],
      ],
    );
    assert.ok(events.filter((e) => e.event === 'saved').every((e) => e.job === 1 || e.job === 2));
  });

  it('exits with the failure when every job fails, and 2 without a workflow', async () => {
    const port = await closedPort();
    const down = await runPyros(['--server', `http://127.0.0.1:${port}`, '--workflow', WORKFLOW, '--output', join(dir, 'down')], { input: 'a\nb\n' });
    assert.equal(down.code, 3, down.stderr);
    assert.equal(down.stderr.match(/✖ Cannot connect/g)?.length, 2, down.stderr);

    const none = await runPyros(['--server', sim.url, '--output', join(dir, 'none')], { input: 'a prompt\n' });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /✖ No workflow given\./);
  });
});
