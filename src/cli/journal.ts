/**
 * The journal every run keeps in its output folder (see src/pipeline/run-journal.ts), as the
 * command line starts and ends it, and the command that resumes it.
 */
import { relative, resolve } from 'node:path';
import type { Pool } from '../client/pool.ts';
import { RunJournal } from '../pipeline/index.ts';

export async function startJournal(outputDir: string, command: string, pool: Pool): Promise<RunJournal> {
  return RunJournal.create(outputDir, { command, servers: pool.servers().map((info) => info.server) });
}

/**
 * Closes the journal (releasing its lock); when every job of the run has ended for good, it is
 * marked ended first, so that a resume has nothing to do.
 */
export async function finishJournal(journal: RunJournal | undefined, everyJobEnded: boolean): Promise<void> {
  if (!journal) return;
  if (everyJobEnded) await journal.end().catch(() => undefined);
  await journal.close().catch(() => undefined);
}

/** `pyros resume DIR`, with DIR as short as it can be said from here. */
export function resumeCommand(outputDir: string): string {
  const rel = relative(process.cwd(), resolve(outputDir));
  const shown = rel === '' ? '.' : rel.startsWith('..') ? resolve(outputDir) : rel;
  return `pyros resume ${/^[\w./@:+-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`}`;
}
