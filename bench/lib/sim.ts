/** `pyros sim` in its own process (on the server's core), for the benchmark. */
import { spawn, type ChildProcess } from 'node:child_process';
import { pinned } from './proc.ts';

export interface SimProcess {
  urls: string[];
  /** The simulator process's id (taskset execs node, so this is node's). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startSimProcess(options: { root: string; core: string | undefined; instances?: number; stepMs?: number; outputSize?: string; dataDir?: string }): Promise<SimProcess> {
  const args = ['bin/pyros.js', 'sim', '--port', '0', '--no-previews', '--step-ms', String(options.stepMs ?? 0), '--instances', String(options.instances ?? 1)];
  if (options.outputSize) args.push('--output-size', options.outputSize);
  if (options.dataDir) args.push('--data-dir', options.dataDir);
  const argv = pinned(options.core, [process.execPath, ...args]);
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), { cwd: options.root, stdio: ['ignore', 'pipe', 'pipe'] });
  const wanted = options.instances ?? 1;
  const urls = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    let err = '';
    const found: string[] = [];
    const timer = setTimeout(() => reject(new Error(`pyros sim did not start: ${out}${err}`)), 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      found.length = 0;
      for (const match of out.matchAll(/listening on (http:\/\/\S+)/g)) found.push(match[1] as string);
      if (found.length >= wanted) {
        clearTimeout(timer);
        resolve([...found]);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pyros sim exited with ${code}: ${err}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    urls,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
