/**
 * Smoke check of `npm run bench` (`npm run bench:smoke`, run by CI after the tests, not part of
 * `npm test`: it installs the peer clients from the registry). The quick mode with one peer runs
 * to the end and writes every section to bench/out, leaving the committed bench/results alone.
 * No timing is asserted: the bench measures, this checks that it works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAVED = join(ROOT, 'bench', 'results');
const OUT = join(ROOT, 'bench', 'out');

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Name → content hash of every file in `dir`. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) files[name] = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
  return files;
}

describe('npm run bench -- --quick', () => {
  it('refuses --save together with --out before doing anything', async () => {
    const result = await runBench(['--save', '--out', OUT]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--save writes to bench\/results; --out names another folder/);
  });

  it('runs with one peer, writes every section to bench/out and leaves bench/results alone', async () => {
    const saved = await fingerprint(SAVED);
    const started = new Date().toISOString();
    const result = await runBench(['--quick', '--peers', 'comfy-ui-client']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await fingerprint(SAVED), saved, 'the committed results are unchanged');
    assert.ok(result.stderr.includes(`results: ${join(OUT, 'latest.json')}`), result.stderr);

    const json = JSON.parse(await readFile(join(OUT, 'latest.json'), 'utf8'));
    assert.equal(json.meta.quick, true);
    assert.ok(json.meta.date >= started, 'this run wrote the file');
    assert.ok(json.meta.machine.cpu && json.meta.machine.cores > 0);
    const { perJob, process: whole, memory, throughput, coldStart, editor, scale } = json.sections;
    const names = ['floor (ws + http)', 'pyros', 'comfy-ui-client'];
    assert.deepEqual(perJob.clients.map((c: { name: string }) => c.name), names);
    for (const client of perJob.clients) {
      assert.equal(client.samples.length, client.summary.n, 'raw samples kept');
      assert.ok(['median', 'p95'].every((key) => key in client.summary));
    }
    assert.equal(whole.clients.length, 3);
    for (const client of whole.clients) assert.ok('wall' in client && 'rssMb' in client && Array.isArray(client.samples));
    assert.ok(memory.sizes.length >= 1 && memory.sizes[0].clients.length === 3);
    assert.deepEqual(throughput.runs.map((run: { servers: number }) => run.servers), [1, 4]);
    assert.ok('scaling' in throughput);
    assert.deepEqual(coldStart.commands.map((c: { name: string }) => c.name), ['node -e "" (floor)', 'pyros --help', 'pyros run --help']);
    assert.ok(editor.conversion.nodes >= 1000 && editor.conversion.convertMs.n > 0, 'the 1,000-node conversion was measured');
    assert.equal(editor.process.failures, 0, editor.process.errors.join('\n'));
    assert.ok(editor.process.api.n > 0 && editor.process.editor.n > 0 && typeof editor.process.ratio === 'number');
    // Scale: every planned batch ran to its end, every job saved its image; the numbers are only measured.
    assert.deepEqual(scale.runs.map((run: { servers: number; jobs: number }) => `${run.servers}×${run.jobs}`), ['1×200', '2×200', '8×200', '8×2000']);
    for (const run of scale.runs) {
      assert.ok(run.ok, `scale run ${run.servers}×${run.jobs}: ${run.error}`);
      assert.equal(run.files, run.jobs);
      for (const key of ['seconds', 'jobsPerSecond', 'idealJobsPerSecond', 'efficiency']) assert.equal(typeof run[key], 'number', `${key} measured`);
      // CPU time and peak RSS come from /usr/bin/time and /proc: null where those are missing.
      for (const key of ['clientCpuMsPerJob', 'simCpuMsPerJob', 'rssMb']) assert.ok(typeof run[key] === 'number' || run[key] === null, `${key}: ${run[key]}`);
      assert.ok(['client', 'simulator process', 'servers', 'latency'].includes(run.bottleneck), run.bottleneck);
    }
    assert.equal(scale.summary.failures, 0);
    assert.equal(scale.summary.scaling[0].to, 8);
    assert.deepEqual([scale.summary.memory[0].from, scale.summary.memory[0].to], [200, 2000]);

    const table = await readFile(join(OUT, 'latest.md'), 'utf8');
    for (const heading of ['**1.', '**2.', '**3.', '**4.', '**5.', '**6.', '**7.']) assert.ok(table.includes(heading), `table has ${heading}`);
    assert.equal(result.stdout.trim(), table.trim(), 'the table is printed');
    const png = await readFile(join(OUT, 'latest.png'));
    assert.equal(png.readUInt32BE(0), 0x89504e47);
    assert.ok((await stat(join(OUT, 'latest.png'))).size > 1000);
  });
});
