/**
 * The variable syntax in prompts: `__name__`, `__name:3__`, `__folder/*__`, and the names that
 * are allowed (relative paths inside the variable folders: no "..", no absolute paths).
 */
import { PyrosError } from '../errors.ts';

/** `__body__`: the body has no white space and neither starts nor ends with `_`. */
const TOKEN_SOURCE = /__([^\s_](?:[^\s]*?[^\s_])?)__/.source;

/** A fresh global regular expression for the tokens (a shared one would carry its lastIndex along). */
export function tokenPattern(): RegExp {
  return new RegExp(TOKEN_SOURCE, 'g');
}

export const SYSTEM_VARIABLES = ['date', 'time', 'seed'] as const;
export type SystemVariable = (typeof SYSTEM_VARIABLES)[number];

export type Reference =
  | { kind: 'system'; name: SystemVariable; text: string }
  | { kind: 'file'; name: string; index: number | undefined; text: string }
  | { kind: 'folder'; folder: string; text: string };

const SEGMENT = /^[\p{L}\p{N}][\p{L}\p{N}_.\-]*$/u;

/** A variable name is a relative path of safe segments, e.g. `color` or `styles/painters`. */
export function isSafeName(name: string): boolean {
  const segments = name.split('/');
  return segments.every((segment) => SEGMENT.test(segment) && !segment.includes('..'));
}

function invalid(text: string, reason: string): PyrosError {
  return new PyrosError('usage', `"${text}" is not a valid variable: ${reason}.`, { reason: 'variable-invalid', fields: { variable: text } });
}

/** Parses the body of one `__…__`. */
export function parseReference(body: string): Reference {
  const text = `__${body}__`;
  const colon = body.lastIndexOf(':');
  const name = colon < 0 ? body : body.slice(0, colon);
  const indexText = colon < 0 ? undefined : body.slice(colon + 1);
  if ((SYSTEM_VARIABLES as readonly string[]).includes(name)) {
    if (indexText !== undefined) throw invalid(text, `__${name}__ is a built-in variable and takes no index`);
    return { kind: 'system', name: name as SystemVariable, text };
  }
  if (name.endsWith('/*')) {
    const folder = name.slice(0, -2);
    if (!isSafeName(folder)) throw invalid(text, `"${folder}" is not a folder name inside the variable folders (no "..", no absolute path)`);
    if (indexText !== undefined) {
      throw invalid(text, `an index cannot be combined with a whole folder; name the file instead, e.g. __${folder}/NAME:${indexText}__`);
    }
    return { kind: 'folder', folder, text };
  }
  if (!isSafeName(name)) throw invalid(text, `"${name}" is not a name inside the variable folders (no "..", no absolute path, no "\\" or ":")`);
  if (indexText === undefined) return { kind: 'file', name, index: undefined, text };
  if (!/^\d+$/.test(indexText) || Number(indexText) < 1 || !Number.isSafeInteger(Number(indexText))) {
    throw invalid(text, `the index "${indexText}" must be a whole number counting from 1`);
  }
  return { kind: 'file', name, index: Number(indexText), text };
}
