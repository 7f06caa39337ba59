/** The notes that say what a job sets before it is sent: the prompt input, the seeds, `--set`s, an expanded prompt. */
import type { Expansion } from '../vars/index.ts';
import type { PatchResult } from '../workflow/index.ts';
import { wordNote } from './patch-flags.ts';
import type { Reporter } from './reporters/reporter.ts';

type Notes = Pick<Reporter, 'note'>;

/** Which inputs were patched (and with what seed): told before submitting. */
export function reportPatches(reporter: Notes, patched: PatchResult, options: { seeds?: string } = {}): void {
  const { prompt, seeds, sets } = patched.applied;
  if (prompt) {
    reporter.note(`prompt → #${prompt.nodeId} "${prompt.title}".${prompt.input}${prompt.detected ? ' (detected)' : ''}`, { kind: 'prompt', node_id: prompt.nodeId, input: prompt.input, detected: prompt.detected });
  }
  for (const seed of seeds) {
    const where = `#${seed.nodeId} "${seed.title}".${seed.input}${seed.detected ? ' (detected)' : ''}`;
    // A batch tells its seed policy once instead of every job's seed.
    if (options.seeds) reporter.note(`seed → ${where}: ${options.seeds}`, { kind: 'seed', node_id: seed.nodeId, input: seed.input, detected: seed.detected });
    else reporter.note(`seed ${seed.value} → ${where}`, { kind: 'seed', node_id: seed.nodeId, input: seed.input, value: seed.value, detected: seed.detected });
  }
  for (const set of sets) {
    reporter.note(`set #${set.nodeId} "${set.title}".${set.input} = ${JSON.stringify(set.value)}`, { kind: 'set', node_id: set.nodeId, input: set.input, value: set.value });
  }
  for (const note of patched.notes) reporter.note(wordNote(patched.workflow, note));
}

/** `prompt: a crimson red fox …`, with the template and choices in the JSON event. */
export function reportExpansion(reporter: Notes, expansion: Expansion | undefined): void {
  if (!expansion) return;
  reporter.note(`prompt: ${expansion.text}`, { kind: 'prompt_expanded', text: expansion.text, template: expansion.template, variables: expansion.choices });
}
