/**
 * The one place that turns any failure into what a person reads: a title, detail lines and a
 * hint, in the command line's words (flags, commands). Library errors are explained from their
 * kind, reason and fields; errors the command line words itself (CliError) carry their hint.
 */
import { PromptRejectedError } from '../../client/api.ts';
import { ExecutionError } from '../../client/job-errors.ts';
import type { ApiWorkflow } from '../../workflow/types.ts';
import { isPyrosError, type PyrosError } from '../../errors.ts';
import { CliError } from './cli-error.ts';
import { rejectionLines } from './details.ts';
import { hintFor } from './hints.ts';

export interface Explanation {
  title: string;
  details: string[];
  hint: string | undefined;
}

export interface ExplainOptions {
  /** Adds the server's traceback and the underlying cause. */
  verbose?: boolean;
  /** The submitted workflow, to name the nodes of a rejection by their titles. */
  workflow?: ApiWorkflow;
}

const BUG_HINT = 'This is a bug in pyros; please report it with the command you ran (run with --verbose for details).';

export function explain(error: unknown, options: ExplainOptions = {}): Explanation {
  if (!isPyrosError(error)) {
    const err = error instanceof Error ? error : new Error(String(error));
    const details = options.verbose && err.stack ? err.stack.split('\n').slice(1) : [];
    return { title: `unexpected failure: ${err.message}`, details, hint: BUG_HINT };
  }
  const details: string[] = [];
  if (error instanceof PromptRejectedError) details.push(...rejectionLines(error, options.workflow).map((line) => line.slice(2)));
  if (error instanceof ExecutionError && options.verbose && error.traceback.length > 0) {
    details.push('traceback (from the server):', ...error.traceback.join('').trimEnd().split('\n'));
  }
  if (options.verbose && error.cause instanceof Error) details.push(`cause: ${error.cause.message}`);
  return { title: titleOf(error), details, hint: hintOf(error) };
}

/** The hint alone (e.g. for a one-line report). */
export function hintOf(error: PyrosError): string | undefined {
  if (error instanceof CliError) return error.hint;
  return hintFor(error.kind, error.reason, error.fields);
}

/** The message, with the flag that set a limit where the command line knows it. */
export function titleOf(error: PyrosError): string {
  if (error instanceof CliError || error.kind !== 'timeout' || error.fields.limitMs === undefined) return error.message;
  const within = `The job did not finish within ${formatSeconds(error.fields.limitMs)} (--timeout)`;
  if (error.reason === 'job') return `${within}; it was cancelled on the server.`;
  if (error.reason === 'job-not-accepted') return `${within}: the server did not accept it in that time.`;
  return error.message;
}

/**
 * The same failure seen from the option that caused it, e.g. `--set "X.y": no node "X" …`:
 * kind, reason and fields stay, the hint is the library error's.
 */
export function inOptionContext(error: unknown, context: string): unknown {
  if (!isPyrosError(error) || error instanceof CliError) return error;
  return CliError.rewording(error, `${context}: ${lowerFirst(titleOf(error))}`, { hint: hintOf(error), cause: error.cause });
}

/** The same failure with one more sentence of advice after its hint. */
export function withMoreHint(error: unknown, more: string): unknown {
  if (!isPyrosError(error)) return error;
  const hint = hintOf(error);
  return CliError.rewording(error, titleOf(error), { hint: hint ? `${hint} ${more}` : more, cause: error.cause ?? error });
}

/** "No node …" → "no node …"; names and quoted text keep their case. */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
