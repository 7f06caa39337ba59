/** `pyros sim`: the ComfyUI-compatible simulator, in the foreground until Ctrl-C. */
import { PyrosError } from '../../errors.ts';
import { startSim } from '../../sim/index.ts';
import { EXIT_CODES } from '../exit-codes.ts';

export interface SimFlags {
  port: string;
  host: string;
  stepMs: string;
  previews: boolean;
  dataDir?: string;
}

function integer(value: string, option: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new PyrosError('usage', `${option} must be an integer from ${min} to ${max} (got "${value}").`);
  return n;
}

export async function simCommand(flags: SimFlags): Promise<number> {
  let sim;
  try {
    sim = await startSim({
      port: integer(flags.port, '--port', 0, 65535),
      host: flags.host,
      stepMs: integer(flags.stepMs, '--step-ms', 0, 60_000),
      previews: flags.previews,
      dataDir: flags.dataDir,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `Port ${flags.port} is already in use (is ComfyUI or another simulator running?).`
        : error instanceof PyrosError
          ? error.message
          : `Could not start the simulator: ${(error as Error).message}`;
    process.stderr.write(`error: ${message}\nhint: pick another port with --port, or --port 0 for a free one.\n`);
    return error instanceof PyrosError ? EXIT_CODES[error.kind] : EXIT_CODES.usage;
  }
  process.stdout.write(`pyros sim: ComfyUI-compatible simulator listening on ${sim.url}\n`);
  process.stdout.write(`outputs in ${sim.dataDir}; try: pyros run examples/txt2img.json --server ${sim.url}\n`);
  process.stdout.write('press Ctrl-C to stop\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
  return EXIT_CODES.ok;
}
