/**
 * Every failure pyros reports is a PyrosError: a kind (which maps to a documented exit code),
 * a message that says what happened, and a hint that says what to do about it.
 */
export type ErrorKind =
  | 'usage' // bad options, config or workflow file
  | 'connection' // cannot reach the server, or it is not ComfyUI
  | 'rejected' // POST /prompt answered 400 (validation)
  | 'execution' // a node failed while the prompt ran
  | 'interrupted' // the prompt was interrupted on the server
  | 'cancelled' // the user cancelled (Ctrl-C)
  | 'output' // an output could not be written
  | 'timeout' // a time limit was reached
  | 'lost' // the server forgot the prompt (restart)
  | 'server' // the server answered with an error or with something malformed
  | 'partial'; // some jobs of a batch failed

export class PyrosError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PyrosError';
    this.kind = kind;
    this.hint = options.hint;
  }
}

export function isPyrosError(error: unknown): error is PyrosError {
  return error instanceof PyrosError;
}
