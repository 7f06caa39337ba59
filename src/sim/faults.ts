/**
 * Scripted faults for `pyros sim --instances N --fault SPEC`: one instance dies (or hangs) when
 * it reaches its Nth prompt, and optionally comes back later, so a batch over several servers
 * can be tested from the command line. Tests in-process use `kill()`, `freeze()` and the hooks.
 *
 *   2:kill@5        instance 2 dies when its 5th prompt is about to save its output
 *   2:kill@5+3000   … and restarts on the same port 3 s later (queue and history empty)
 *   1:hang@3+2000   instance 1 stops answering at its 3rd prompt, and answers again 2 s later
 */
import { PyrosError } from '../errors.ts';
import { CliError } from '../cli/errors/cli-error.ts';
import type { SimHooks } from './hooks.ts';

export interface FaultSpec {
  /** 1-based instance number. */
  instance: number;
  action: 'kill' | 'hang';
  /** The fault strikes during this prompt (1 = the first the instance runs). */
  atPrompt: number;
  /** Comes back after this many milliseconds; undefined = stays down. */
  backAfterMs: number | undefined;
}

const OUTPUT_CLASSES = new Set(['SaveImage', 'PreviewImage', 'SaveImageWebsocket']);

export function parseFaultSpec(text: string, instances: number): FaultSpec {
  const match = /^(\d+):(kill|hang)@(\d+)(?:\+(\d+))?$/.exec(text.trim());
  if (!match) {
    throw new CliError('usage', `--fault "${text}" is not a fault: expected INSTANCE:kill@N or INSTANCE:hang@N, optionally +MS to come back.`, {
      hint: 'e.g. --fault 2:kill@5 (instance 2 dies at its 5th prompt) or --fault 2:kill@5+3000 (and restarts 3 s later).',
    });
  }
  const instance = Number(match[1]);
  if (instance < 1 || instance > instances) {
    throw new PyrosError('usage', `--fault names instance ${instance}, but there ${instances === 1 ? 'is 1 instance' : `are ${instances} instances`}.`);
  }
  const atPrompt = Number(match[3]);
  if (atPrompt < 1) throw new PyrosError('usage', `--fault "${text}": the prompt number starts at 1.`);
  return { instance, action: match[2] as 'kill' | 'hang', atPrompt, backAfterMs: match[4] === undefined ? undefined : Number(match[4]) };
}

/**
 * Hooks that call `strike` once, when the `atPrompt`th distinct prompt is about to run its first
 * output node (sampling done, nothing saved yet). The node waits for what `strike` returns: a
 * hung server that recovers carries on, a dead one never does.
 */
export function faultHooks(spec: Pick<FaultSpec, 'atPrompt'>, strike: () => Promise<void>): SimHooks {
  const seen = new Set<string>();
  let struck = false;
  return {
    onNodeStart: async ({ promptId, classType }) => {
      seen.add(promptId);
      if (struck || seen.size < spec.atPrompt || !OUTPUT_CLASSES.has(classType)) return;
      struck = true;
      await strike();
    },
  };
}
