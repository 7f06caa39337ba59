/** Runs the built `pyros` command in a child process, as a user would. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

export const PYROS_BIN = fileURLToPath(new URL('../../bin/pyros.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PyrosOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long pyros may run before it is killed and the result rejects (default 30 s). */
  timeoutMs?: number;
  /** Written to pyros' stdin, which is then closed (without it, stdin is empty). */
  input?: string;
}

/** A `pyros` child process and the output it has written so far. */
export interface PyrosProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once pyros exits; rejects (and kills it) when it runs longer than `timeoutMs`. */
  result: Promise<CliResult>;
}

/**
 * Starts `pyros ARGS` with an isolated environment and collects its output. With `openStdin` its
 * stdin is a pipe left open (for a test that signals it while it runs).
 */
export function spawnPyros(args: string[], options: PyrosOptions & { openStdin?: boolean } = {}): PyrosProcess {
  const piped = options.openStdin === true || options.input !== undefined;
  const child = spawn(process.execPath, [PYROS_BIN, ...args], {
    cwd: options.cwd,
    env: isolatedEnv(options.env),
    stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (options.input !== undefined) {
    // pyros may exit before it has read everything: that is not the test's failure.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input);
  }
  const limit = options.timeoutMs ?? 30_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pyros ${args.join(' ')} did not exit within ${limit} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, limit);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  result.catch(() => undefined);
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    result,
  };
}

/** Runs `pyros ARGS` to the end (with `input` on its stdin, if given). */
export function runPyros(args: string[], options: PyrosOptions = {}): Promise<CliResult> {
  return spawnPyros(args, options).result;
}

export interface RunningPyros extends PyrosProcess {
  /** Resolves once `pattern` appears on stdout or stderr (rejects when the process ends first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  signal(signal: NodeJS.Signals): void;
  /** Waits for `promise`, but fails when the process ends first (a test never hangs on a hook that is not reached). */
  whileRunning<T>(promise: Promise<T>): Promise<T>;
}

/** Starts `pyros ARGS` and lets the test watch its output and signal it while it runs. */
export function startPyros(args: string[], options: Omit<PyrosOptions, 'input'> = {}): RunningPyros {
  const running = spawnPyros(args, { ...options, openStdin: true });
  const { child, result } = running;
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      const match = running.stdout.match(waiter.pattern) ?? running.stderr.match(waiter.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  // Registered after spawnPyros' own listeners: the output already holds the new chunk.
  child.stdout!.on('data', check);
  child.stderr!.on('data', check);
  child.on('close', (code, signal) => {
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`pyros exited (${code ?? signal}) before ${waiter.pattern} appeared\nstdout: ${running.stdout}\nstderr: ${running.stderr}`));
    }
  });
  return {
    child,
    get stdout() {
      return running.stdout;
    },
    get stderr() {
      return running.stderr;
    },
    result,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
      });
    },
    signal(signal) {
      child.kill(signal);
    },
    whileRunning(promise) {
      const ended = result.then((r) => {
        throw new Error(`pyros exited (${r.code}) while the test was waiting\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      });
      return Promise.race([promise, ended]);
    },
  };
}

/** The NDJSON events of a `--json` run (stdout). */
export function jsonEvents(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The single JSON document a command prints with --json. */
export function jsonDocument(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `expected one JSON line, got:\n${stdout}`);
  return JSON.parse(lines[0] as string);
}

/** The caller's environment without any pyros settings, so the user's config never leaks in. */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: '/nonexistent-pyros-config-home' };
  for (const key of Object.keys(env)) if (key.startsWith('PYROS_') || key.startsWith('COMFYUI_')) delete env[key];
  return { ...env, ...extra };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
