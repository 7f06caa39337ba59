/**
 * Smoke test of `npm run bench`: the quick mode with one peer runs to the end and writes every
 * section (no timing is asserted: the bench measures, the tests check behaviour).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the bench did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench --quick', () => {
  let out: string | undefined;
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('runs with one peer and writes every section as JSON, a table and a chart', async () => {
    out = await mkdtemp(join(tmpdir(), 'pyros-bench-test-'));
    const result = await runBench(['--quick', '--no-build', '--peers', 'comfy-ui-client', '--out', out], 240_000);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'));
    assert.equal(json.meta.quick, true);
    assert.ok(json.meta.machine.cpu && json.meta.machine.cores > 0 && json.meta.date);
    const { perJob, process: whole, memory, throughput, coldStart } = json.sections;
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
    const table = await readFile(join(out, 'latest.md'), 'utf8');
    for (const heading of ['**1.', '**2.', '**3.', '**4.', '**5.']) assert.ok(table.includes(heading), `table has ${heading}`);
    assert.equal(result.stdout.trim(), table.trim(), 'the table is printed');
    const png = await readFile(join(out, 'latest.png'));
    assert.equal(png.readUInt32BE(0), 0x89504e47);
    assert.ok((await stat(join(out, 'latest.png'))).size > 1000);
  });
});
