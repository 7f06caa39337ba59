/** Running the built CLI with answers on its stdin, and reading --json documents. */
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { isolatedEnv, PYROS_BIN, type CliResult } from '../support/cli.ts';

export function runPyrosWithInput(args: string[], input: string, options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PYROS_BIN, ...args], { cwd: options.cwd, env: isolatedEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pyros ${args.join(' ')} did not exit\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** The single JSON document a server command prints with --json. */
export function jsonDocument(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `expected one JSON line, got:\n${stdout}`);
  return JSON.parse(lines[0] as string);
}
