/** The documented exit codes of the pyros command (README "Exit codes" lists the same table). */
import type { ErrorKind } from '../errors.ts';

/** `partial` is the command's own: some jobs of a batch failed (no single error says that). */
export const EXIT_CODES: Record<ErrorKind | 'ok' | 'internal' | 'partial', number> = {
  ok: 0,
  internal: 1,
  usage: 2,
  connection: 3,
  rejected: 4,
  execution: 5,
  interrupted: 6,
  output: 7,
  timeout: 8,
  lost: 9,
  partial: 10,
  server: 11,
  cancelled: 130,
};

export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    unexpected internal error (please report it)
  2    usage, configuration or workflow-file error
  3    cannot connect to the server, it is not ComfyUI, or it refused the credentials or TLS
  4    the server rejected the workflow (validation errors)
  5    a node failed while the workflow ran
  6    the prompt was interrupted on the server
  7    an output could not be saved (disk full, folder not writable)
  8    a time limit was reached (--timeout, --request-timeout)
  9    the server lost the prompt (restarted), or never got it after a lost answer; --retry N resubmits
  10   some jobs of a batch failed
  11   the server answered with an error (HTTP 5xx or a malformed answer)
  130  cancelled with Ctrl-C`;
