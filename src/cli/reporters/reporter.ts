/** What a command tells the person (or the script) running it about one job; human and JSON forms. */
import type { SavedFile } from '../../outputs/save.ts';
import type { JobSource } from '../../ui/display-core.ts';
import type { ErrorBlock } from '../../ui/summary.ts';
import type { Phase, PhaseDetail } from '../../ui/progress-model.ts';

export interface Reporter {
  /** A human note (which inputs were patched, warnings); in JSON also an event. */
  note(message: string, data?: Record<string, unknown>): void;
  /** Verbose diagnostics; stderr, only with --verbose. */
  debug(message: string): void;
  phase(phase: Phase, detail?: PhaseDetail): void;
  /** The job goes to a server under this prompt id (printed first, so it can always be fetched later). */
  dispatched(info: { promptId: string; server: string; attempt: number }): void;
  /** The job left its server (it failed, or lost the outputs) and goes to another one under a new prompt id. */
  moved(info: { from: string; promptId: string; reason: string }): void;
  /** Shows the job's progress until its run on the server ends. */
  follow(job: JobSource): void;
  saved(file: SavedFile): void;
  /** The final result (success); `data` is the JSON result object. */
  result(lines: string[], data: Record<string, unknown>): void;
  error(block: ErrorBlock, data: Record<string, unknown>): void;
  close(): void;
}
