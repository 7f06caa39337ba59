/**
 * The `pyros` command: parses arguments and hands each command to its own module, loaded only
 * when that command runs (start-up stays fast).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_CODE_HELP } from './exit-codes.ts';
import { VERSION } from '../version.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function connectionOptions(command: Command): Command {
  return command
    .option('--server <url>', 'ComfyUI server URL (env COMFYUI_URL; default http://127.0.0.1:8188); repeat it for a pool', collect)
    .option('--header <header>', "extra request header 'Name: value' (repeatable; never printed; env COMFYUI_TOKEN sends a bearer token)", collect)
    .option('--insecure', 'skip TLS certificate verification (not recommended; prints a warning)')
    .option('--request-timeout <duration>', 'fail an HTTP request that is silent this long (default 30s)')
    .option('--config <file>', 'config file (default: env PYROS_CONFIG, else the user config folder)')
    .option('--json', 'print NDJSON events and a final result object on stdout')
    .option('-v, --verbose', 'print diagnostics (tracebacks, skipped frames) on stderr')
    .option('--no-color', 'plain output without colours or escape sequences');
}

/** The options of `pyros run`: every one means the same for one job, a batch, a pool and interactive mode. */
function runOptions(command: Command, interactive = false): Command {
  return command
    .option('-p, --prompt <text>', interactive ? 'a prompt to run first, before the ones typed (repeatable)' : 'prompt text, put into the detected or configured prompt input (repeatable: a batch of every prompt × --count)', collect)
    .option('--prompts <file>', interactive ? 'prompts to run first, one per line' : 'a batch of prompts, one per line')
    .option('-n, --count <n>', 'jobs of every prompt (each with its own seed)')
    .option('-s, --seed <n|n+|random|keep>', `seed for every sampler: N, N+ (N, N+1, … per job), "random" (a fresh one per job) or "keep" (the workflow's)${interactive ? '; default random' : ''}`)
    .option('--prompt-input <node.input>', 'input that takes the prompt, NODE being an id or a title (env PYROS_PROMPT_INPUT)')
    .option('--seed-input <node.input>', 'input that takes the seed (env PYROS_SEED_INPUT)')
    .option('--set <node.input=value>', 'set any input; VALUE is JSON when it parses, else a string; =@FILE uploads FILE (repeatable)', collect)
    .option('--input <file>', 'upload an image into the next image loader (LoadImage, LoadImageMask…) in node-id order (repeatable)', collect)
    .option('--vars <dir>', 'folder of prompt variables (__name__ → a line of name.txt), searched before the user and bundled ones (env PYROS_VARS)')
    .option('-o, --output <dir>', 'folder for the outputs and their .txt/.json sidecars (default ./images)')
    .option('--timeout <duration>', 'give up on a job (and cancel it) after this long, e.g. 90s, 10m')
    .option('--retry <n>', 'resubmit a job up to N times when its server lost it (restart) or it never reached a server')
    .addOption(new Option('--preview <mode>', 'live preview image in the terminal').choices(['auto', 'kitty', 'iterm', 'sixel', 'blocks', 'off']))
    .option('--object-info <file>', 'node definitions (the answer of GET /object_info) for converting an editor-format workflow without asking the server')
    .option('--front', 'queue the jobs ahead of the prompts already waiting on the server')
    .option('--only <node>', 'run only what this output node needs (id or title; repeatable)', collect)
    .option('--show', interactive ? 'draw each finished image in the terminal' : 'draw the finished image once in the terminal (one job)')
    .option('--open', interactive ? 'open each finished image in the system viewer' : 'open the finished image in the system viewer (one job)');
}

/** `pyros` alone: interactive mode, with the options of `pyros run` (the workflow given with --workflow). */
function interactiveOptions(command: Command): Command {
  return runOptions(command.allowExcessArguments().option('-w, --workflow <file>', 'workflow: editor or API format, or an image ComfyUI saved (default: from the config file)'), true);
}

async function exitWith(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

export function buildProgram(): Command {
  const program = new Command('pyros')
    .description('Run ComfyUI workflows from the terminal: submit, watch them render, save every output.\nWithout a command: interactive mode (type prompts, each runs through the workflow).')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    // Options before a command are interactive mode's; those after it belong to the command.
    .enablePositionalOptions()
    .addHelpText('after', `\n${EXIT_CODE_HELP}\n`);

  // `pyros --server X run …` would leave run without the server: say where the option goes.
  program.hook('preSubcommand', (root, sub) => {
    const given = root.options.filter((option) => root.getOptionValueSource(option.attributeName()) === 'cli');
    const flag = given[0]?.long ?? given[0]?.flags;
    if (flag) root.error(`error: ${flag} must come after the command name: pyros ${sub.name()} ${flag} …`, { exitCode: 2 });
  });

  interactiveOptions(connectionOptions(program)).action(async (flags, command: Command) => {
    if (command.args.length > 0) command.error(`error: unknown command '${command.args[0]}'`, { exitCode: 2 });
    const { interactiveCommand } = await import('./commands/interactive.ts');
    await exitWith(interactiveCommand(flags));
  });

  runOptions(
    connectionOptions(
      program
        .command('run')
        .description('patch a workflow, submit it, follow it and save its outputs (one job, a batch, a pool of servers)')
        .argument('[workflow]', 'a workflow saved from ComfyUI (editor or API format), or an image, video or sound ComfyUI saved (default: from the config file)'),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  pyros run flow.json --prompt "a lighthouse at dusk" --seed random
  pyros run flow.json --set "KSampler.steps=30" --set 5.width=768 -o renders
  pyros run flow.json --json | jq -c 'select(.event == "saved")'
  pyros run flow.json --prompt "a __color__ __animal__, __style__" --seed random
  pyros run img2img.json --input photo.png --set "Load Image (as Mask).image=@mask.png"
  pyros run flow.json --count 8 --seed 1000+ --server http://gpu1:8188 --server http://gpu2:8188
  pyros run flow.json --prompts prompts.txt --count 2 --seed random
  pyros run ComfyUI_00042_.png --seed 7          (re-run an image ComfyUI saved, another seed)
  pyros run editor-flow.json --object-info object_info.json --only "Save Image"

Every option means the same for one job, a batch, a pool and interactive mode (pyros alone).
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
      .description('follow a prompt by its id and save its outputs with the sidecars the run would have written')
      .argument('<prompt-id>', 'the prompt id that `pyros run` printed')
      .option('-o, --output <dir>', 'folder for the outputs (default ./images)')
      .option('--no-wait', 'fail instead of waiting when the prompt is still queued or running'),
  ).action(async (promptId: string, flags) => {
    const { fetchCommand } = await import('./commands/fetch.ts');
    await exitWith(fetchCommand(promptId, flags));
  });

  connectionOptions(
    program
      .command('convert')
      .description('print the API prompt of a workflow saved in the editor format (or of an image ComfyUI saved), as the editor would queue it')
      .argument('<workflow>', 'an editor-format workflow (.json), or a PNG, WebP, video or audio file ComfyUI saved')
      .option('--object-info <file>', 'node definitions (the answer of GET /object_info) instead of asking the server')
      .option('-o, --output <file>', 'write the prompt to this file instead of printing it'),
  ).action(async (workflow: string, flags) => {
    const { convertCommand } = await import('./commands/convert.ts');
    await exitWith(convertCommand(workflow, flags));
  });

  connectionOptions(
    program
      .command('resume')
      .description('finish the runs of an output folder that were killed or cut off, from their journals: each job runs once, its files are saved once')
      .argument('[dir]', 'the output folder of the run (default: the configured output folder, ./images), or one journal in its .pyros-journal/')
      .option('--retry <n>', 'resubmit a job up to N times when its server lost it or it never reached a server (default: as the run had it)')
      .addOption(new Option('--preview <mode>', 'live preview image in the terminal').choices(['auto', 'kitty', 'iterm', 'sixel', 'blocks', 'off'])),
  ).action(async (dir: string | undefined, flags) => {
    const { resumeCommand } = await import('./commands/resume.ts');
    await exitWith(resumeCommand(dir, flags));
  });

  program
    .command('init')
    .description('write the config file: workflow, prompt and seed inputs, server (tested), output folder')
    .argument('[workflow]', 'the workflow to use (default: ask, listing the .json files here)')
    .option('--workflow <file>', 'the workflow to use')
    .option('--server <url>', 'the ComfyUI server')
    .option('-o, --output <dir>', 'the output folder')
    .option('--prompt-input <node.input>', 'the input that takes --prompt')
    .option('--seed-input <node.input>', 'the input that takes --seed')
    .option('--header <header>', "a request header 'Name: value' to save (repeatable)", collect)
    .option('--insecure', 'save insecure: skip TLS certificate verification')
    .option('-y, --yes', 'ask nothing: accept the current values and what is detected')
    .option('--config <file>', 'the config file to write (default: env PYROS_CONFIG, else the user config folder)')
    .option('--no-color', 'plain output')
    .action(async (workflow: string | undefined, flags) => {
      const { initCommand } = await import('./commands/init.ts');
      await exitWith(initCommand(workflow, flags));
    });

  const serverCommand = (name: string, description: string): Command => {
    const command = connectionOptions(program.command(name).description(description));
    const json = command.options.find((option) => option.long === '--json');
    if (json) json.description = 'print one JSON document on stdout';
    return command;
  };

  serverCommand('queue', 'show the running and pending prompts of the server, in order').action(async (flags) => {
    const { queueCommand } = await import('./commands/queue.ts');
    await exitWith(queueCommand(flags));
  });

  serverCommand('history', "list the server's recent prompts, or show one prompt in full")
    .argument('[prompt-id]', 'show this prompt: status, timings, output files, error')
    .option('--limit <n>', 'how many recent prompts to list', '20')
    .action(async (promptId: string | undefined, flags) => {
      const { historyCommand } = await import('./commands/history.ts');
      await exitWith(historyCommand(promptId, flags));
    });

  serverCommand('cancel', 'cancel one prompt: remove it from the queue if pending, interrupt it if running')
    .argument('<prompt-id>', 'the prompt to cancel (`pyros queue` lists them)')
    .action(async (promptId: string, flags) => {
      const { cancelCommand } = await import('./commands/cancel.ts');
      await exitWith(cancelCommand(promptId, flags));
    });

  serverCommand('interrupt', 'interrupt whatever the server is running, whoever queued it').action(async (flags) => {
    const { interruptCommand } = await import('./commands/cancel.ts');
    await exitWith(interruptCommand(flags));
  });

  serverCommand('stats', 'show the server: ComfyUI, Python and PyTorch versions, OS, RAM and VRAM per device').action(async (flags) => {
    const { statsCommand } = await import('./commands/stats.ts');
    await exitWith(statsCommand(flags));
  });

  serverCommand('nodes', 'list the node classes of the server; one class in detail (inputs, outputs)')
    .argument('[filter]', 'part of a class or display name (case-insensitive); a class name shows its inputs')
    .option('--inputs', 'show inputs and outputs of every matching class')
    .action(async (filter: string | undefined, flags) => {
      const { nodesCommand } = await import('./commands/nodes.ts');
      await exitWith(nodesCommand(filter, flags));
    });

  program
    .command('gallery')
    .description('serve a web page of the saved outputs (prompts, seeds, reproduce commands) on 127.0.0.1')
    .argument('[dir]', 'folder of outputs (default: the configured output folder, ./images)')
    .option('--port <port>', 'port to listen on (default: a free one)')
    .option('--no-open', 'do not open the page in the browser')
    .option('--config <file>', 'config file (default: env PYROS_CONFIG, else the user config folder)')
    .option('--no-color', 'plain output')
    .action(async (dir: string | undefined, flags) => {
      const { galleryCommand } = await import('./commands/gallery.ts');
      await exitWith(galleryCommand(dir, flags));
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

// A reader that goes away (`pyros run --json | head -1`) must not kill a job that is still
// producing images: further output is dropped, the job runs on and its files are saved.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
});

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
