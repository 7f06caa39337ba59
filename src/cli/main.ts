/**
 * The `pyros` command: parses arguments and hands each command to its own module, loaded only
 * when that command runs (start-up stays fast).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_CODE_HELP } from './exit-codes.ts';
import { VERSION } from './version.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function connectionOptions(command: Command): Command {
  return command
    .option('--server <url>', 'ComfyUI server URL (env COMFYUI_URL; default http://127.0.0.1:8188); repeat it for a pool (run)', collect)
    .option('--header <header>', "extra request header 'Name: value' (repeatable; never printed)", collect)
    .option('--insecure', 'skip TLS certificate verification (not recommended)')
    .option('--request-timeout <duration>', 'fail an HTTP request that is silent this long (default 30s)')
    .option('--config <file>', 'config file (default: env PYROS_CONFIG, else the user config folder)')
    .option('--json', 'print NDJSON events and a final result object on stdout')
    .option('-v, --verbose', 'print diagnostics (tracebacks, skipped frames) on stderr')
    .option('--no-color', 'plain output without colours or escape sequences');
}

async function exitWith(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

export function buildProgram(): Command {
  const program = new Command('pyros')
    .description('Run ComfyUI workflows from the terminal: submit, watch them render, save every output.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${EXIT_CODE_HELP}\n`);

  connectionOptions(
    program
      .command('run')
      .description('patch a workflow (API format), submit it, follow it and save its outputs')
      .argument('[workflow]', 'workflow file exported from ComfyUI with "Export (API)" (default: from the config file)')
      .option('-p, --prompt <text>', 'prompt text, put into the detected or configured prompt input (repeatable: a batch of every prompt × --count)', collect)
      .option('--prompts <file>', 'a batch of prompts, one per line')
      .option('-n, --count <n>', 'run N jobs (of every prompt)')
      .option('-s, --seed <n|n+|random>', 'seed for every sampler: N, "random" (a fresh one per job), or N+ (N, N+1, … per job)')
      .option('--prompt-input <node.input>', 'input that takes --prompt, NODE being an id or a title (env PYROS_PROMPT_INPUT)')
      .option('--seed-input <node.input>', 'input that takes --seed (env PYROS_SEED_INPUT)')
      .option('--set <node.input=value>', 'set any input; VALUE is JSON when it parses, else a string (repeatable)', collect)
      .option('-o, --output <dir>', 'folder for the outputs and their .txt/.json sidecars (default ./images)')
      .option('--timeout <duration>', 'give up (and cancel the job) after this long, e.g. 90s, 10m (per job in a batch)')
      .addOption(new Option('--preview <mode>', 'live preview image in the terminal').choices(['auto', 'kitty', 'iterm', 'sixel', 'blocks', 'off']).default('auto')),
  )
    .addHelpText(
      'after',
      `
Examples:
  pyros run flow.json --prompt "a lighthouse at dusk" --seed random
  pyros run flow.json --set "KSampler.steps=30" --set 5.width=768 -o renders
  pyros run flow.json --json | jq -c 'select(.event == "saved")'
  pyros run flow.json --count 8 --seed 1000+ --server http://gpu1:8188 --server http://gpu2:8188
  pyros run flow.json --prompts prompts.txt --count 2 --seed random

Several --server (or "servers" in the config file) make a pool: each job goes to the live
server with the fewest jobs ahead of it; jobs of a server that dies move to the others.

Outputs are saved as they are named on the server (never overwriting a file), each with
NAME.txt (the prompt as submitted) and NAME.json (prompt id, seed, server, timings, workflow).

${EXIT_CODE_HELP}
`,
    )
    .action(async (workflow: string | undefined, flags) => {
      const { runCommand } = await import('./commands/run.ts');
      await exitWith(runCommand(workflow, flags));
    });

  connectionOptions(
    program
      .command('fetch')
      .description('download the outputs of a prompt that already ran (resume after a crash or Ctrl-C)')
      .argument('<prompt-id>', 'the prompt id that `pyros run` printed')
      .option('-o, --output <dir>', 'folder for the outputs (default ./images)')
      .option('--no-wait', 'fail instead of waiting when the prompt is still queued or running'),
  ).action(async (promptId: string, flags) => {
    const { fetchCommand } = await import('./commands/fetch.ts');
    await exitWith(fetchCommand(promptId, flags));
  });

  program
    .command('sim')
    .description('start a ComfyUI-compatible simulator on 127.0.0.1 (procedural images, real protocol)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8188')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--step-ms <ms>', 'time per sampler step', '30')
    .option('--no-previews', 'send no preview frames (like ComfyUI without --preview-method)')
    .option('--data-dir <dir>', 'where outputs, temp files and uploads are kept (default: a temporary folder)')
    .option('--instances <n>', 'start N simulators on consecutive ports (from --port; 0 picks free ones)', '1')
    .option('--fault <spec>', 'make an instance die or hang mid-batch: INSTANCE:kill@N or INSTANCE:hang@N, +MS to come back (repeatable)', collect)
    .option('--output-size <size>', 'pad every saved output to this size (e.g. 256M, 1G; sparse, for download tests)')
    .action(async (flags) => {
      const { simCommand } = await import('./commands/sim.ts');
      await exitWith(simCommand(flags));
    });

  program
    .command('demo')
    .description('start the simulator in-process and run the bundled example workflow against it')
    .addOption(new Option('-o, --output <dir>', 'folder for the images').default('images'))
    .option('--json', 'print NDJSON events')
    .option('--no-color', 'plain output')
    .action(async (flags) => {
      const { demoCommand } = await import('./commands/demo.ts');
      await exitWith(demoCommand(flags));
    });

  return program;
}

await buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // Commander has printed its message; help and --version are not errors.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
