/** Turns any failure into the words a person reads, and into the object `--json` prints. */
import { PromptRejectedError } from '../client/api.ts';
import { maskSecrets } from '../client/endpoint.ts';
import { ExecutionError } from '../client/job-errors.ts';
import type { ApiWorkflow } from '../workflow/types.ts';
import { isPyrosError, type ErrorFields } from '../errors.ts';
import { formatErrorBlock, type ErrorBlock } from '../ui/summary.ts';
import { explain } from './errors/explain.ts';
import { EXIT_CODES } from './exit-codes.ts';

export { rejectionLines } from './errors/details.ts';

export function exitCodeOf(error: unknown): number {
  return isPyrosError(error) ? EXIT_CODES[error.kind] : EXIT_CODES.internal;
}

export interface ErrorReportOptions {
  verbose: boolean;
  secrets: readonly string[];
  workflow?: ApiWorkflow;
}

/** Title, details and hint of any failure, masked; `formatErrorBlock` draws it. */
export function errorBlock(error: unknown, options: ErrorReportOptions): ErrorBlock {
  const mask = (text: string): string => maskSecrets(text, options.secrets);
  const { title, details, hint } = explain(error, { verbose: options.verbose, workflow: options.workflow });
  return { title: mask(title), details: details.map(mask), hint: hint === undefined ? undefined : mask(hint) };
}

/** Plain lines of an error, for places without a display. */
export function errorReport(error: unknown, options: ErrorReportOptions): string[] {
  return formatErrorBlock(errorBlock(error, options), { color: false });
}

/**
 * The `--json` form of an error: kind, reason, exit code, the worded message and hint, and the
 * error's fields in snake_case. Never includes a node's current inputs.
 */
export function errorEvent(error: unknown, secrets: readonly string[]): Record<string, unknown> {
  const mask = (text: string): string => maskSecrets(text, secrets);
  const { title, hint } = explain(error);
  const base: Record<string, unknown> = {
    event: 'error',
    kind: isPyrosError(error) ? error.kind : 'internal',
    reason: isPyrosError(error) ? error.reason : undefined,
    exit_code: exitCodeOf(error),
    message: mask(isPyrosError(error) ? title : error instanceof Error ? error.message : String(error)),
  };
  if (isPyrosError(error)) {
    if (hint) base.hint = mask(hint);
    if (Object.keys(error.fields).length > 0) base.fields = snakeCase(error.fields);
  }
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

/** `{ promptId, limitMs, node: { nodeId } }` → `{ prompt_id, limit_ms, node: { node_id } }` */
function snakeCase(fields: Readonly<ErrorFields>): unknown {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, inner]) => inner !== undefined)
        .map(([key, inner]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), convert(inner)]),
    );
  };
  return convert(fields);
}
