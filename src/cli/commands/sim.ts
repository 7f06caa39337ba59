/** `pyros sim`: the ComfyUI-compatible simulator (one or several instances), in the foreground until Ctrl-C. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PyrosError } from '../../errors.ts';
import { faultHooks, parseFaultSpec, type FaultSpec } from '../../sim/faults.ts';
import { startSim, type SimOptions, type SimServer } from '../../sim/index.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { hintOf } from '../errors/explain.ts';

export interface SimFlags {
  port: string;
  host: string;
  stepMs: string;
  previews: boolean;
  dataDir?: string;
  instances?: string;
  fault?: string[];
  outputSize?: string;
}

function integer(value: string, option: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new PyrosError('usage', `${option} must be an integer from ${min} to ${max} (got "${value}").`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `65536`, `256M`, `1G` (binary units). */
export function parseSize(value: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!match) throw new PyrosError('usage', `${option} must be a size such as 65536, 256M or 1G (got "${value}").`);
  return Math.round(Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1));
}

/** One instance, restarted on the same port and data folder when its fault says it comes back. */
class Instance {
  server!: SimServer;
  private readonly options: SimOptions;
  private readonly label: string;

  constructor(options: SimOptions, label: string) {
    this.options = options;
    this.label = label;
  }

  async start(fault: FaultSpec | undefined): Promise<void> {
    const hooks = fault ? faultHooks(fault, () => this.strike(fault)) : undefined;
    this.server = await startSim({ ...this.options, hooks });
    // A restart listens on the same port.
    this.options.port = this.server.port;
  }

  private async strike(fault: FaultSpec): Promise<void> {
    const { backAfterMs } = fault;
    if (fault.action === 'hang') {
      note(`${this.label} ${this.server.url} stops answering (fault ${fault.instance}:hang@${fault.atPrompt})`);
      this.server.freeze();
      if (backAfterMs === undefined) return new Promise<void>(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, backAfterMs));
      this.server.thaw();
      note(`${this.label} ${this.server.url} answers again`);
      return;
    }
    note(`${this.label} ${this.server.url} killed (fault ${fault.instance}:kill@${fault.atPrompt})`);
    const dead = this.server;
    void dead.kill().then(async () => {
      if (backAfterMs === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, backAfterMs));
      await this.start(undefined);
      note(`${this.label} ${this.server.url} is back`);
    });
    return new Promise<void>(() => undefined);
  }
}

function note(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function simCommand(flags: SimFlags): Promise<number> {
  const instances: Instance[] = [];
  // Data folders made here outlive a killed instance, so that its restart finds its files.
  const ownedDirs: string[] = [];
  const removeOwned = (): Promise<unknown> => Promise.all(ownedDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  try {
    const count = integer(flags.instances ?? '1', '--instances', 1, 64);
    const basePort = integer(flags.port, '--port', 0, 65535);
    const faults = (flags.fault ?? []).map((text) => parseFaultSpec(text, count));
    const common = {
      host: flags.host,
      stepMs: integer(flags.stepMs, '--step-ms', 0, 60_000),
      previews: flags.previews,
      outputBytes: flags.outputSize === undefined ? undefined : parseSize(flags.outputSize, '--output-size'),
    };
    for (let i = 0; i < count; i++) {
      let dataDir = flags.dataDir === undefined ? undefined : count === 1 ? flags.dataDir : join(flags.dataDir, `instance-${i + 1}`);
      if (dataDir === undefined) {
        dataDir = await mkdtemp(join(tmpdir(), 'pyros-sim-'));
        ownedDirs.push(dataDir);
      }
      const instance = new Instance({ ...common, port: basePort === 0 ? 0 : basePort + i, dataDir }, count === 1 ? 'sim' : `sim ${i + 1}`);
      instances.push(instance);
      await instance.start(faults.find((fault) => fault.instance === i + 1));
    }
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.server?.close()));
    await removeOwned();
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `Port ${(error as { port?: number }).port ?? flags.port} is already in use (is ComfyUI or another simulator running?).`
        : error instanceof PyrosError
          ? error.message
          : `Could not start the simulator: ${(error as Error).message}`;
    process.stderr.write(`error: ${message}\nhint: ${(error instanceof PyrosError && hintOf(error)) || 'pick another port with --port, or --port 0 for free ones.'}\n`);
    return error instanceof PyrosError ? EXIT_CODES[error.kind] : EXIT_CODES.usage;
  }
  const first = instances[0]?.server;
  if (instances.length === 1 && first) {
    note(`pyros sim: ComfyUI-compatible simulator listening on ${first.url}`);
    note(`outputs in ${first.dataDir}; try: pyros run examples/txt2img.json --server ${first.url}`);
  } else {
    note(`pyros sim: ${instances.length} ComfyUI-compatible simulators`);
    for (const [i, instance] of instances.entries()) note(`sim ${i + 1} listening on ${instance.server.url} (outputs in ${instance.server.dataDir})`);
    note(`try: pyros run examples/txt2img.json --count 10 ${instances.map((instance) => `--server ${instance.server.url}`).join(' ')}`);
  }
  note('press Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await Promise.all(instances.map((instance) => instance.server.close()));
  await removeOwned();
  return EXIT_CODES.ok;
}
