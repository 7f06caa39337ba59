/** Turns any failure into the words a person reads, and into the object `--json` prints. */
import { PromptRejectedError } from '../client/api.ts';
import { maskSecrets } from '../client/endpoint.ts';
import { ExecutionError } from '../client/job-errors.ts';
import { nodeRef } from '../client/node-names.ts';
import type { ApiWorkflow } from '../client/types.ts';
import { isPyrosError } from '../errors.ts';
import { formatErrorBlock, type ErrorBlock } from '../ui/summary.ts';
import { EXIT_CODES } from './exit-codes.ts';

export function exitCodeOf(error: unknown): number {
  return isPyrosError(error) ? EXIT_CODES[error.kind] : EXIT_CODES.internal;
}

function detailText(details: unknown): string {
  if (details === undefined || details === null || details === '') return '';
  return typeof details === 'string' ? details : JSON.stringify(details);
}

/** One line per failing input of a rejected workflow: node id, title, class, message, details. */
export function rejectionLines(error: PromptRejectedError, workflow: ApiWorkflow | undefined): string[] {
  const lines: string[] = [];
  const top = detailText(error.error.details);
  if (top && Object.keys(error.nodeErrors).length === 0) lines.push(`  ${top}`);
  for (const [nodeId, nodeError] of Object.entries(error.nodeErrors)) {
    const ref = workflow ? nodeRef(workflow, nodeId, undefined, nodeError.class_type) : undefined;
    const title = ref?.title ?? nodeError.class_type ?? `#${nodeId}`;
    const cls = nodeError.class_type && nodeError.class_type !== title ? ` (${nodeError.class_type})` : '';
    lines.push(`  node #${nodeId} "${title}"${cls}:`);
    for (const item of nodeError.errors) {
      const details = detailText(item.details);
      lines.push(`    - ${item.message || item.type}${details ? `: ${details}` : ''}`);
    }
  }
  return lines;
}

export interface ErrorReportOptions {
  verbose: boolean;
  secrets: readonly string[];
  workflow?: ApiWorkflow;
}

/** Title, details and hint of any failure, masked; `formatErrorBlock` draws it. */
export function errorBlock(error: unknown, options: ErrorReportOptions): ErrorBlock {
  const mask = (text: string): string => maskSecrets(text, options.secrets);
  const details: string[] = [];
  if (!isPyrosError(error)) {
    const err = error instanceof Error ? error : new Error(String(error));
    if (options.verbose && err.stack) details.push(...err.stack.split('\n').slice(1));
    return {
      title: mask(`unexpected failure: ${err.message}`),
      details: details.map(mask),
      hint: 'This is a bug in pyros; please report it with the command you ran (run with --verbose for details).',
    };
  }
  if (error instanceof PromptRejectedError) details.push(...rejectionLines(error, options.workflow).map((line) => line.slice(2)));
  if (error instanceof ExecutionError && options.verbose && error.traceback.length > 0) {
    details.push('traceback (from the server):', ...error.traceback.join('').trimEnd().split('\n'));
  }
  if (options.verbose && error.cause instanceof Error) details.push(`cause: ${error.cause.message}`);
  return { title: mask(error.message), details: details.map(mask), hint: error.hint === undefined ? undefined : mask(error.hint) };
}

/** Plain lines of an error, for places without a display. */
export function errorReport(error: unknown, options: ErrorReportOptions): string[] {
  return formatErrorBlock(errorBlock(error, options), { color: false });
}

/** The `--json` form of an error; never includes a node's current inputs. */
export function errorEvent(error: unknown, secrets: readonly string[]): Record<string, unknown> {
  const mask = (text: string): string => maskSecrets(text, secrets);
  const base: Record<string, unknown> = {
    event: 'error',
    kind: isPyrosError(error) ? error.kind : 'internal',
    exit_code: exitCodeOf(error),
    message: mask(error instanceof Error ? error.message : String(error)),
  };
  if (isPyrosError(error) && error.hint) base.hint = mask(error.hint);
  if (error instanceof PromptRejectedError) {
    base.error = error.error;
    base.node_errors = error.nodeErrors;
  }
  if (error instanceof ExecutionError) {
    base.node = error.node;
    base.exception_type = error.exceptionType;
    base.exception_message = mask(error.exceptionMessage);
    base.traceback = error.traceback.map(mask);
  }
  return JSON.parse(mask(JSON.stringify(base))) as Record<string, unknown>;
}
