/** The `pyros run` command that makes an output again, from what its sidecar recorded. */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting: plain words stay as they are, anything else in single quotes. */
export function shellQuote(value: string): string {
  if (value !== '' && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ReproduceInput {
  workflowFile?: string;
  /** The prompt as written (with its variables) when there is one, else the prompt as submitted. */
  prompt?: string;
  seed?: number;
  server?: string;
}

export function reproduceCommand(input: ReproduceInput): string {
  const words = ['pyros', 'run', shellQuote(input.workflowFile ?? 'WORKFLOW.json')];
  if (input.prompt !== undefined) words.push('--prompt', shellQuote(input.prompt));
  if (input.seed !== undefined) words.push('--seed', String(input.seed));
  if (input.server !== undefined) words.push('--server', shellQuote(input.server));
  return words.join(' ');
}
