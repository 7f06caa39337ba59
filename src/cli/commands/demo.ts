/** `pyros demo` (`npm run demo`): the simulator in-process and the bundled example through `pyros run`. */
import { join } from 'node:path';
import { startSim } from '../../sim/index.ts';
import { packageRoot } from '../../package-root.ts';
import { runCommand } from './run.ts';

export interface DemoFlags {
  output: string;
  json?: boolean;
  color?: boolean;
}

/** The example ships beside the package: examples/txt2img.json. */
export const exampleWorkflow = (): string => join(packageRoot(), 'examples', 'txt2img.json');

export async function demoCommand(flags: DemoFlags): Promise<number> {
  const sim = await startSim({ port: 0, stepMs: 60 });
  try {
    if (!flags.json) {
      process.stdout.write(`Simulator (no GPU needed) started at ${sim.url}\n`);
      process.stdout.write(`Running: pyros run examples/txt2img.json --prompt "…" --seed random --server ${sim.url}\n\n`);
    }
    return await runCommand(exampleWorkflow(), {
      server: [sim.url],
      prompt: ['a lighthouse on a cliff at dusk, oil painting, warm light'],
      seed: 'random',
      output: flags.output,
      json: flags.json,
      color: flags.color,
    });
  } finally {
    await sim.close();
  }
}
