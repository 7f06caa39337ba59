/**
 * The examples of the README's "As a library" section, taken from README.md itself: compiled with
 * tsc against the built library (imported as 'pyros', the way an installed package is), then run
 * against the simulator. Needs the build of `npm test` (node scripts/build.mjs).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isolatedEnv } from '../support/cli.ts';
import { serverOutputs, startFaultSim, tinyWorkflow, type FaultSim } from '../support/faults.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The ```ts blocks of the section that carry a file name (```ts render.mts), by name. */
export function readmeExamples(readme: string): Map<string, string> {
  const start = readme.indexOf('\n## As a library\n');
  assert.ok(start >= 0, 'README.md has an "As a library" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const examples = new Map<string, string>();
  for (const match of section.matchAll(/^```ts ([\w-]+\.mts)\n([\s\S]*?)^```$/gm)) examples.set(match[1] as string, match[2] as string);
  return examples;
}

interface History {
  prompt: [number, string, Record<string, { inputs: Record<string, unknown> }>];
  outputs: Record<string, { images?: { filename: string }[] }>;
}

async function historyOf(sim: FaultSim, promptId: string): Promise<History | undefined> {
  const all = (await (await fetch(`${sim.url}/history/${promptId}`)).json()) as Record<string, History>;
  return all[promptId];
}

describe('the README library examples', () => {
  let dir: string;
  const sims: FaultSim[] = [];
  let examples: Map<string, string>;

  before(async () => {
    examples = readmeExamples(await readFile(join(ROOT, 'README.md'), 'utf8'));
    assert.deepEqual([...examples.keys()], ['render.mts', 'pool.mts'], 'the examples the README shows');
    assert.ok(existsSync(join(ROOT, 'dist', 'lib', 'index.d.mts')), 'the library is built (node scripts/build.mjs)');
    sims.push(...(await Promise.all([startFaultSim({ stepMs: 1 }), startFaultSim({ stepMs: 1 })])));
    dir = await mkdtemp(join(tmpdir(), 'pyros-readme-'));
    // 'pyros' resolves as an installed package: package.json's exports, dist/lib and its types.
    await mkdir(join(dir, 'node_modules'));
    await symlink(ROOT, join(dir, 'node_modules', 'pyros'), 'dir');
    for (const [name, code] of examples) await writeFile(join(dir, name), code);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: [...examples.keys()],
      }),
    );
    await writeFile(join(dir, 'flow.json'), JSON.stringify(tinyWorkflow({ prefix: 'readme' })));
    await run(process.execPath, [TSC, '-p', dir]).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`the README examples do not compile:\n${error.stdout ?? error.message}`);
    });
  });
  after(async () => {
    await Promise.all(sims.map((sim) => sim.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function runExample(name: string, servers: FaultSim[]): Promise<string> {
    const { stdout, stderr } = await run(process.execPath, [join(dir, name.replace(/\.mts$/, '.mjs'))], {
      cwd: dir,
      env: isolatedEnv({ COMFYUI_URL: servers.map((sim) => sim.url).join(',') }),
      timeout: 60_000,
    });
    assert.equal(stderr, '');
    return stdout;
  }

  it('render.mts runs one job, reports its events and seeds, and saves its outputs with sidecars', async () => {
    const [sim] = sims as [FaultSim];
    const before = await serverOutputs(sim);
    const stdout = await runExample('render.mts', [sim]);
    const promptId = /^prompt ([0-9a-f-]{36})$/m.exec(stdout)?.[1];
    assert.ok(promptId, stdout);
    assert.match(stdout, /^KSampler 3\/3$/m);
    assert.match(stdout, /^preview image\/jpeg, \d+ bytes$/m);
    assert.match(stdout, /^seeds #3\.seed=1234$/m);
    // What the server received: the prompt and the seed, set by applyPatches.
    const history = await historyOf(sim, promptId);
    assert.equal(history?.prompt[2]['6']?.inputs.text, 'a lighthouse at dusk, oil painting');
    assert.equal(history?.prompt[2]['3']?.inputs.seed, 1234);
    // What was saved: the server's file, byte for byte, with its two sidecars.
    const saved = [...stdout.matchAll(/^saved (\S+) \((\d+) bytes\)$/gm)];
    assert.equal(saved.length, 1, stdout);
    const path = join(dir, saved[0]?.[1] as string);
    assert.equal(path, join(dir, 'renders', 'readme_00001_.png'));
    const produced = [...(await serverOutputs(sim, before)).values()];
    assert.equal(produced.length, 1);
    const bytes = await readFile(path);
    assert.ok(bytes.equals(produced[0] as Buffer));
    assert.equal(Number(saved[0]?.[2]), bytes.length);
    assert.equal(await readFile(join(dir, 'renders', 'readme_00001_.txt'), 'utf8'), 'a lighthouse at dusk, oil painting\n');
    const meta = JSON.parse(await readFile(join(dir, 'renders', 'readme_00001_.json'), 'utf8'));
    assert.equal(meta.prompt_id, promptId);
    assert.deepEqual(meta.seeds, [{ nodeId: '3', input: 'seed', value: 1234 }]);
    assert.equal(meta.workflow['6'].inputs.text, 'a lighthouse at dusk, oil painting');
    assert.equal(meta.file, 'readme_00001_.png');
  });

  it('pool.mts runs four seeds over a pool of two servers and saves every output', async () => {
    await rm(join(dir, 'renders'), { recursive: true, force: true });
    const stdout = await runExample('pool.mts', sims);
    for (const sim of sims) assert.match(stdout, new RegExp(`^${sim.url} is up$`, 'm'));
    const dispatched = [...stdout.matchAll(/^job (\d) → (\S+) \(prompt ([0-9a-f-]{36})\)$/gm)].map((m) => ({ job: Number(m[1]), server: m[2] as string, promptId: m[3] as string }));
    assert.deepEqual(dispatched.map((d) => d.job).sort(), [1, 2, 3, 4]);
    const done = [...stdout.matchAll(/^job (\d): seed (\d+) on (\S+) → (\S+)$/gm)].map((m) => ({ job: Number(m[1]), seed: Number(m[2]), server: m[3] as string, file: join(dir, m[4] as string) }));
    assert.deepEqual(done.map((d) => [d.job, d.seed]), [[1, 1], [2, 2], [3, 3], [4, 4]]);
    for (const job of done) {
      const sent = dispatched.find((d) => d.job === job.job);
      assert.equal(sent?.server, job.server);
      const sim = sims.find((s) => s.url === job.server) as FaultSim;
      const history = await historyOf(sim, sent?.promptId ?? '');
      assert.equal(history?.prompt[2]['3']?.inputs.seed, job.seed, `job ${job.job} ran with its seed on ${job.server}`);
      const name = history?.outputs['9']?.images?.[0]?.filename as string;
      assert.ok((await readFile(job.file)).equals(await readFile(join(sim.dataDir, 'output', name))));
      const meta = JSON.parse(await readFile(job.file.replace(/\.png$/, '.json'), 'utf8'));
      assert.equal(meta.server, job.server);
    }
    assert.equal((await readdir(join(dir, 'renders'))).filter((f) => f.endsWith('.png')).length, 4);
  });
});
