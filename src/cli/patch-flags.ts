/**
 * `--prompt`, `--seed`, `--prompt-input`, `--seed-input` and `--set` applied to a workflow: the
 * strings are parsed here, the library patches, and its notes and errors are worded with the
 * flags that caused them.
 */
import type { ApiWorkflow } from '../workflow/types.ts';
import { isPyrosError } from '../errors.ts';
import { applyPatches, describeInput, kindOf, showValue, type InputSet, type PatchNote, type PatchResult } from '../workflow/index.ts';
import { CliError } from './errors/cli-error.ts';
import { inOptionContext } from './errors/explain.ts';
import { parseSetArg, parseTarget, type SetArg, type TargetSpec } from './set-args.ts';

export interface PatchFlagValues {
  prompt?: string;
  /** A number, or text such as "123" or "random". */
  seed?: number | string;
  /** `NODE.INPUT` */
  promptInput?: string;
  /** `NODE.INPUT` */
  seedInput?: string;
  /** `NODE.INPUT=VALUE`, applied last in order. File references (`=@FILE`) must be uploaded first. */
  sets?: readonly (string | SetArg)[];
}

/** The library's PatchResult with its notes worded for people. */
export interface PatchedWorkflow extends Omit<PatchResult, 'notes'> {
  notes: string[];
}

export function patchWithFlags(workflow: ApiWorkflow, flags: PatchFlagValues): PatchedWorkflow {
  const result = patchFlags(workflow, flags);
  return { ...result, notes: result.notes.map((note) => wordNote(result.workflow, note)) };
}

/** As patchWithFlags, with the library's notes as data (`wordNote` words them). */
export function patchFlags(workflow: ApiWorkflow, flags: PatchFlagValues): PatchResult {
  const promptInput = flags.promptInput === undefined ? undefined : parseTarget(flags.promptInput);
  const seedInput = flags.seedInput === undefined ? undefined : parseTarget(flags.seedInput);
  const setArgs = (flags.sets ?? []).map((entry) => (typeof entry === 'string' ? parseSetArg(entry) : entry));
  const sets: InputSet[] = setArgs.map((set) => {
    if (set.kind === 'file') throw new CliError('usage', `--set "${set.text}" names a file to upload; upload it first and set the uploaded name instead.`);
    return { node: set.target.node, input: set.target.input, value: set.value };
  });
  let result: PatchResult;
  try {
    result = applyPatches(workflow, { prompt: flags.prompt, seed: flags.seed, promptInput, seedInput, sets });
  } catch (error) {
    const context = optionContext(error, { promptInput, seedInput, sets: setArgs.map((set) => set.target) });
    throw context === undefined ? error : inOptionContext(error, context);
  }
  return result;
}

/** `--set "X.y"`, `--prompt-input "X.y"`, `--prompt` …: the flag behind a failure of applyPatches. */
function optionContext(error: unknown, given: { promptInput?: TargetSpec; seedInput?: TargetSpec; sets: TargetSpec[] }): string | undefined {
  if (!isPyrosError(error)) return undefined;
  const { option, index } = error.fields;
  switch (option) {
    case 'prompt':
      return '--prompt';
    case 'seed':
      return '--seed';
    case 'promptInput':
      return `--prompt-input "${given.promptInput?.text}"`;
    case 'seedInput':
      return `--seed-input "${given.seedInput?.text}"`;
    case 'sets':
      return `--set "${given.sets[index ?? 0]?.text}"`;
    default:
      return undefined;
  }
}

/** The sentence for one note, naming the flag it is about. */
export function wordNote(workflow: ApiWorkflow, note: PatchNote): string {
  switch (note.kind) {
    case 'other-positive-inputs':
      return `Also feeding positive conditioning, left unchanged: ${note.inputs.map((ref) => describeInput(workflow, ref)).join(', ')}.`;
    case 'other-text-inputs':
      return `${describeInput(workflow, note)} also holds text and was left unchanged (--set ${note.nodeId}.${note.input}=… changes it).`;
    case 'kind-changed': {
      const option = note.option === 'prompt' ? '--prompt' : `--set ${note.nodeId}.${note.input}`;
      return `${option}: ${describeInput(workflow, note)} held ${kindOf(note.previous)} (${showValue(note.previous)}) and now holds ${kindOf(note.value)} (${showValue(note.value)}).`;
    }
    case 'set-repeated':
      return `--set ${note.nodeId}.${note.input} is given more than once; the last value (${showValue(note.value)}) is used.`;
    case 'set-overrides-prompt':
      return `--set ${note.nodeId}.${note.input} replaces the text --prompt put there.`;
    case 'set-overrides-seed':
      return `--set ${note.nodeId}.${note.input} replaces the seed --seed put there.`;
  }
}
