/**
 * Naming an input on the command line: `NODE.INPUT` and `NODE.INPUT=VALUE`, where NODE is a node
 * id or a title. Titles may contain dots and spaces, so the input is what follows the last dot.
 */
import type { ApiWorkflow } from '../workflow/types.ts';
import { resolveTarget, type InputRef, type InputTarget } from '../workflow/index.ts';
import { CliError } from './errors/cli-error.ts';
import { inOptionContext } from './errors/explain.ts';

export interface TargetSpec extends InputTarget {
  /** The whole `NODE.INPUT`, for messages. */
  text: string;
}

/** `NODE.INPUT=VALUE`; `NODE.INPUT=@path` names a file to upload, which is not read here. */
export type SetArg =
  | { kind: 'value'; target: TargetSpec; value: unknown; text: string }
  | { kind: 'file'; target: TargetSpec; path: string; text: string };

const TARGET_EXAMPLE = 'e.g. 6.text or "Positive Prompt.text"';

export function parseTarget(text: string): TargetSpec {
  const trimmed = text.trim();
  const dot = trimmed.lastIndexOf('.');
  const node = trimmed.slice(0, Math.max(dot, 0)).trim();
  const input = trimmed.slice(dot + 1).trim();
  if (dot < 0 || node === '' || input === '') {
    throw new CliError('usage', `"${text}" does not name an input: expected NODE.INPUT, where NODE is a node id or title (${TARGET_EXAMPLE}).`);
  }
  return { node, input, text: trimmed };
}

export function parseSetArg(text: string): SetArg {
  const equals = text.indexOf('=');
  if (equals < 0) {
    throw new CliError('usage', `--set "${text}" has no value: expected NODE.INPUT=VALUE (e.g. 3.steps=30 or "Positive Prompt.text=a cat").`);
  }
  const target = parseTarget(text.slice(0, equals));
  const raw = text.slice(equals + 1);
  if (raw.startsWith('@')) {
    const path = raw.slice(1);
    if (path === '') throw new CliError('usage', `--set "${text}": "@" must be followed by the path of a file to upload.`);
    return { kind: 'file', target, path, text };
  }
  return { kind: 'value', target, value: parseSetValue(raw, text), text };
}

/** JSON where it parses (numbers, true, [1,2], "quoted"), otherwise the text itself. */
function parseSetValue(raw: string, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof value === 'number' && /^\s*-?\d+\s*$/.test(raw) && !Number.isSafeInteger(value)) {
    throw new CliError('usage', `--set "${text}": ${raw.trim()} is too large to send exactly as a JSON number (the limit is ${Number.MAX_SAFE_INTEGER}).`);
  }
  return value;
}

/**
 * Finds the input a `NODE.INPUT` names; a failure says which option named it, e.g.
 * `--set "KSampler.seed": "KSampler" matches 2 nodes …` (`context` "--set").
 */
export function resolveTargetArg(workflow: ApiWorkflow, target: TargetSpec | string, context?: string): InputRef {
  const spec = typeof target === 'string' ? parseTarget(target) : target;
  try {
    return resolveTarget(workflow, spec);
  } catch (error) {
    throw context === undefined ? error : inOptionContext(error, `${context} "${spec.text}"`);
  }
}
