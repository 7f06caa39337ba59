/**
 * `pyros init`: writes the config file by asking (or with --yes, by accepting) the workflow, the
 * prompt and seed inputs found in it, the server (tested, never blocking) and the output folder.
 * Run again, it edits the file: the current values are the defaults.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Client } from '../../client/client.ts';
import { DEFAULT_SERVER, maskSecrets, parseEndpoint } from '../../client/endpoint.ts';
import type { ApiWorkflow } from '../../workflow/types.ts';
import { PyrosError } from '../../errors.ts';
import { CliError } from '../errors/cli-error.ts';
import { formatErrorBlock } from '../../ui/summary.ts';
import { paint } from '../../ui/text.ts';
import { describeInput, detectPrompt, detectSeeds, readWorkflowSource, type DetectedInput } from '../../workflow/index.ts';
import { loadWorkflowInput, nodeDefinitions } from '../workflow-input.ts';
import { resolveTargetArg } from '../set-args.ts';
import { defaultConfigPath, loadConfig, parseHeaders, type FileConfig } from '../config.ts';
import { writeConfig } from '../config-write.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { Prompter } from '../prompter.ts';
import { errorBlock, exitCodeOf } from '../report-error.ts';
import { wantsColor } from '../server-command.ts';
import { formatFields } from '../table.ts';

export interface InitFlags {
  config?: string;
  workflow?: string;
  server?: string;
  output?: string;
  promptInput?: string;
  seedInput?: string;
  header?: string[];
  insecure?: boolean;
  yes?: boolean;
  color?: boolean;
}

/** How long the connection test may take. */
const TEST_TIMEOUT_MS = 5000;
const MAX_LISTED_FILES = 30;

interface Context {
  flags: InitFlags;
  /** Undefined with --yes: every answer is the default. */
  prompter: Prompter | undefined;
  say: (text?: string) => void;
  color: boolean;
}

/** The question, unless --yes: then the default, which must exist. */
async function answer<T>(context: Context, question: string, defaultAnswer: string | undefined, accept: (answer: string) => Promise<T | undefined> | T | undefined, missing: () => PyrosError): Promise<T> {
  if (context.prompter) return context.prompter.askUntil(question, defaultAnswer, accept);
  if (defaultAnswer === undefined) throw missing();
  const result = await accept(defaultAnswer);
  if (result === undefined) throw missing();
  return result;
}

/** Errors while answering are told and the question asked again; with --yes they end init. */
function complain(context: Context, error: unknown): undefined {
  if (!context.prompter) throw error;
  for (const line of formatErrorBlock(errorBlock(error, { verbose: false, secrets: [] }), { color: context.color })) context.say(`  ${line}`);
  return undefined;
}

/** Files that may hold a workflow: JSON, and the images, videos and sounds ComfyUI saves. */
const WORKFLOW_FILE = /\.(json|png|webp|mp4|webm|mov|flac|opus|ogg|mp3)$/i;

async function workflowFiles(): Promise<{ file: string; api: boolean }[]> {
  const names = (await readdir('.', { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isFile() && WORKFLOW_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .slice(0, MAX_LISTED_FILES);
  const listed = await Promise.all(names.map(async (file) => ({ file, api: await readWorkflowSource(file).then(() => true, () => false) })));
  // Images without a workflow are only noise in the list.
  return listed.filter((entry) => entry.api || entry.file.toLowerCase().endsWith('.json'));
}

async function chooseWorkflow(context: Context, current: string | undefined, preset: string | undefined, definitions: () => Promise<unknown>): Promise<{ path: string; workflow: ApiWorkflow }> {
  const load = async (path: string): Promise<{ path: string; workflow: ApiWorkflow } | undefined> => {
    try {
      const input = await loadWorkflowInput(path, definitions);
      return { path: resolve(path), workflow: input.workflow };
    } catch (error) {
      return complain(context, error);
    }
  };
  if (preset !== undefined) {
    const loaded = await load(preset);
    if (loaded) return loaded;
  }
  const files = await workflowFiles();
  const usable = files.filter((f) => f.api);
  if (context.prompter && files.length > 0) {
    context.say('Workflow files in this folder:');
    files.forEach((f, index) => context.say(`  ${index + 1}) ${f.file}${f.api ? '' : paint('dim', '  (not a workflow)', context.color)}`));
  }
  const currentIndex = current === undefined ? -1 : files.findIndex((f) => resolve(f.file) === resolve(current));
  const defaultAnswer = currentIndex >= 0 ? String(currentIndex + 1) : (current ?? (usable.length === 1 ? String(files.indexOf(usable[0]!) + 1) : undefined));
  return answer(
    context,
    files.length > 0 ? 'Workflow (number or path)' : 'Workflow file (saved from ComfyUI, or an image it saved)',
    defaultAnswer,
    async (text) => {
      if (text === '') return complain(context, new PyrosError('usage', 'A workflow file is needed.'));
      const picked = /^\d+$/.test(text) ? files[Number(text) - 1]?.file : text;
      if (picked === undefined) return complain(context, new PyrosError('usage', `There is no file number ${text}.`));
      return load(picked);
    },
    () => new CliError('usage', 'No workflow to set up: none is configured and this folder has no single workflow.', { hint: 'Pass one: pyros init FLOW.json --yes' }),
  );
}

/** Numbered choice among inputs; Enter keeps the default; NODE.INPUT names any other input. */
async function chooseInput(
  context: Context,
  workflow: ApiWorkflow,
  options: { what: string; option: string; candidates: (DetectedInput & { note?: string })[]; all?: string; current: string | undefined; preset: string | undefined; detected: DetectedInput | undefined },
): Promise<string | undefined> {
  const { candidates } = options;
  const resolveSpec = (spec: string): string | undefined => {
    try {
      const ref = resolveTargetArg(workflow, spec, options.option);
      return `${ref.nodeId}.${ref.input}`;
    } catch (error) {
      return complain(context, error);
    }
  };
  if (options.preset !== undefined) {
    const resolved = resolveSpec(options.preset);
    if (resolved !== undefined) return resolved;
  }
  const choices: { label: string; value: string | undefined }[] = [];
  if (options.all !== undefined) choices.push({ label: options.all, value: undefined });
  for (const c of candidates) choices.push({ label: `${describeInput(workflow, c)}${c.note ? paint('dim', `  ${c.note}`, context.color) : ''}`, value: `${c.nodeId}.${c.input}` });
  if (choices.length === 0) {
    context.say(`No ${options.what} input was found in this workflow; ${options.option} NODE.INPUT names one at run time.`);
    return undefined;
  }
  const currentResolved = options.current === undefined ? undefined : quietResolve(workflow, options.current);
  if (currentResolved !== undefined && !choices.some((c) => c.value === currentResolved)) {
    const [nodeId = '', input = ''] = [currentResolved.slice(0, currentResolved.lastIndexOf('.')), currentResolved.slice(currentResolved.lastIndexOf('.') + 1)];
    choices.push({ label: `${describeInput(workflow, { nodeId, input })}${paint('dim', '  current setting', context.color)}`, value: currentResolved });
  }
  // The current setting, else "all detected" (seeds), else the detected input; none when nothing stands out.
  const wanted = currentResolved ?? (options.all !== undefined ? undefined : options.detected ? `${options.detected.nodeId}.${options.detected.input}` : undefined);
  const defaultIndex = currentResolved === undefined && options.all !== undefined ? 0 : wanted === undefined ? -1 : choices.findIndex((c) => c.value === wanted);
  if (context.prompter) {
    context.say(`${options.what === 'prompt' ? 'Prompt' : 'Seed'} input (where ${options.what === 'prompt' ? '--prompt' : '--seed'} goes):`);
    choices.forEach((c, index) => context.say(`  ${index + 1}) ${c.label}`));
  }
  if (defaultIndex < 0 && !context.prompter) {
    context.say(`No ${options.what} input stands out among ${choices.length}; none saved (name one with ${options.option} NODE.INPUT).`);
    return undefined;
  }
  const picked = await answer(
    context,
    `Choose 1-${choices.length}, or type NODE.INPUT${defaultIndex < 0 ? ' (Enter: decide at run time)' : ''}`,
    defaultIndex >= 0 ? String(defaultIndex + 1) : undefined,
    (text) => {
      if (text === '') return { value: undefined };
      if (/^\d+$/.test(text)) {
        const choice = choices[Number(text) - 1];
        if (!choice) return complain(context, new PyrosError('usage', `There is no choice ${text}.`));
        return { value: choice.value };
      }
      const resolved = resolveSpec(text);
      return resolved === undefined ? undefined : { value: resolved };
    },
    () => new PyrosError('usage', `No ${options.what} input.`),
  );
  return picked.value;
}

function quietResolve(workflow: ApiWorkflow, spec: string): string | undefined {
  try {
    const ref = resolveTargetArg(workflow, spec);
    return `${ref.nodeId}.${ref.input}`;
  } catch {
    return undefined;
  }
}

async function testServer(context: Context, server: string, config: FileConfig): Promise<void> {
  let client: Client | undefined;
  try {
    client = new Client({ server, headers: config.headers, token: process.env.COMFYUI_TOKEN || undefined, insecure: config.insecure, requestTimeoutMs: TEST_TIMEOUT_MS });
    const stats = await Promise.race([
      client.api.systemStats(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new PyrosError('connection', `No answer from ${server} within ${TEST_TIMEOUT_MS / 1000}s.`)), TEST_TIMEOUT_MS).unref()),
    ]);
    const system = (stats.system ?? {}) as Record<string, unknown>;
    const devices = Array.isArray(stats.devices) ? (stats.devices as Record<string, unknown>[]) : [];
    const version = typeof system.comfyui_version === 'string' ? ` ComfyUI ${system.comfyui_version}` : ' ComfyUI';
    const device = typeof devices[0]?.name === 'string' ? ` on ${devices[0].name}` : '';
    context.say(`  ${paint('green', '✔', context.color)} connected:${version}${device}`);
  } catch (error) {
    const message = maskSecrets(error instanceof Error ? error.message : String(error), client?.endpoint.secrets ?? []);
    context.say(`  ${paint('yellow', '!', context.color)} connection test failed: ${message}`);
    context.say('    The address is saved anyway; check that ComfyUI is running there before `pyros run`.');
  } finally {
    client?.close();
  }
}

export async function initCommand(workflowArg: string | undefined, flags: InitFlags): Promise<number> {
  const color = wantsColor(flags, process.stdout);
  const prompter = flags.yes ? undefined : new Prompter();
  const context: Context = { flags, prompter, say: (text = '') => process.stdout.write(`${text}\n`), color };
  try {
    const path = resolve(flags.config ?? defaultConfigPath());
    const current = existsSync(path) ? (await loadConfig(path)).config : {};
    context.say(`pyros init: ${existsSync(path) ? 'editing' : 'creating'} ${path}${prompter ? ' (Enter keeps the value in brackets)' : ''}`);
    const gap = (): void => {
      if (prompter) context.say();
    };
    gap();

    // An editor-format workflow is converted with the node definitions of the server given (or configured).
    const definitionsServer = flags.server ?? current.server ?? current.servers?.[0] ?? DEFAULT_SERVER;
    const definitions = async (): Promise<unknown> => {
      const client = new Client({ server: definitionsServer, headers: current.headers, token: process.env.COMFYUI_TOKEN || undefined, insecure: flags.insecure ?? current.insecure, requestTimeoutMs: TEST_TIMEOUT_MS });
      try {
        return await nodeDefinitions({ clients: () => [client] });
      } finally {
        client.close();
      }
    };
    const { path: workflowPath, workflow } = await chooseWorkflow(context, current.workflow, workflowArg ?? flags.workflow, definitions);
    context.say(`  ${paint('green', '✔', color)} ${workflowPath}: ${Object.keys(workflow).length} nodes`);
    gap();
    // Inputs saved for another workflow mean nothing in this one.
    const sameWorkflow = current.workflow !== undefined && resolve(current.workflow) === workflowPath;

    const prompt = detectPrompt(workflow);
    const promptCandidates = prompt.candidates.map((c) => ({ ...c, note: c.nodeId === prompt.target?.nodeId && c.input === prompt.target.input ? 'detected' : c.feedsPositive ? 'feeds positive conditioning' : undefined }));
    const promptInput = await chooseInput(context, workflow, {
      what: 'prompt',
      option: '--prompt-input',
      candidates: promptCandidates,
      current: sameWorkflow ? current.promptInput : undefined,
      preset: flags.promptInput,
      detected: prompt.target,
    });
    gap();

    const seeds = detectSeeds(workflow);
    const seedCandidates = [...seeds.targets.map((t) => ({ ...t, note: 'detected' })), ...seeds.candidates.map((c) => ({ ...c, note: c.how }))];
    const seedInput = await chooseInput(context, workflow, {
      what: 'seed',
      option: '--seed-input',
      candidates: seedCandidates,
      all: seeds.targets.length > 1 ? `all ${seeds.targets.length} detected seed inputs` : undefined,
      current: sameWorkflow ? current.seedInput : undefined,
      preset: flags.seedInput,
      detected: seeds.targets[0],
    });
    gap();

    const headers = { ...current.headers, ...parseHeaders(flags.header ?? []) };
    const connection: FileConfig = { headers, insecure: flags.insecure ?? current.insecure };
    const server = await answer(
      context,
      'ComfyUI server',
      flags.server ?? current.server ?? current.servers?.[0] ?? DEFAULT_SERVER,
      (text) => {
        try {
          parseEndpoint(text);
          return text;
        } catch (error) {
          return complain(context, error);
        }
      },
      () => new PyrosError('usage', 'No server.'),
    );
    await testServer(context, server, connection);
    if (current.servers?.length) context.say(`  note: the config also lists "servers" (${current.servers.join(', ')}), which take precedence over "server".`);
    gap();

    const output = await answer(context, 'Output folder', flags.output ?? current.output ?? 'images', (text) => text || undefined, () => new PyrosError('usage', 'No output folder.'));

    const next: FileConfig = { ...current, server, workflow: workflowPath, output, promptInput, seedInput };
    if (Object.keys(headers).length > 0) next.headers = headers;
    if (flags.insecure) next.insecure = true;
    await writeConfig(path, next);
    gap();
    context.say(`${paint('green', '✔', color)} saved ${path}`);
    for (const line of formatFields(
      [
        ['workflow', next.workflow],
        ['prompt input', next.promptInput ?? 'detected at run time'],
        ['seed input', next.seedInput ?? 'every detected seed'],
        ['server', next.server],
        ['output', next.output],
        ['headers', next.headers ? Object.keys(next.headers).join(', ') : undefined],
      ],
      '  ',
    )) {
      context.say(line);
    }
    context.say(`Next: pyros run --prompt "a lighthouse at dusk" --seed random`);
    return EXIT_CODES.ok;
  } catch (error) {
    const block = errorBlock(error, { verbose: false, secrets: [] });
    process.stderr.write(`${formatErrorBlock(block, { color: wantsColor(flags, process.stderr) }).join('\n')}\n`);
    return exitCodeOf(error);
  } finally {
    prompter?.close();
  }
}
