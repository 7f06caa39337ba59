/**
 * An error worded by the command line itself: its message may name flags and commands, and it
 * carries the hint a person reads under it. The library never throws one.
 */
import { PyrosError, type ErrorKind, type PyrosErrorOptions } from '../../errors.ts';

export type CliErrorOptions<K extends ErrorKind = ErrorKind> = PyrosErrorOptions<K> & { hint?: string };
type CliErrorArgs = { [K in ErrorKind]: [kind: K, message: string, options?: CliErrorOptions<K>] }[ErrorKind];

export class CliError extends PyrosError {
  readonly hint: string | undefined;

  constructor(...args: CliErrorArgs) {
    super(...args);
    this.name = 'CliError';
    this.hint = args[2]?.hint;
  }

  /** The same kind, reason and fields as `error`, in other words. */
  static rewording(error: PyrosError, message: string, options: Omit<CliErrorOptions, 'reason' | 'fields'> = {}): CliError {
    return new CliError(...([error.kind, message, { reason: error.reason, fields: error.fields, ...options }] as CliErrorArgs));
  }
}
