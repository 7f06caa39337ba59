/**
 * The bits of Python semantics that leak into ComfyUI's messages: how values are converted
 * (int("wide") fails, int(3.9) is 3) and how they are printed (repr, str, json.dumps).
 */
import { orderedKeys } from './prompt-order.ts';

/** An exception as Python would raise it: its type name and str(exception). */
export class PyException extends Error {
  readonly pyType: string;

  constructor(pyType: string, message: string) {
    super(message);
    this.name = 'PyException';
    this.pyType = pyType;
  }
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  const text = String(value);
  if (/e/.test(text)) return text.replace(/e([+-])(\d)$/, 'e$10$2');
  if (Math.abs(value) >= 1e16) return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return text;
}

function pyStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}

/** repr(value) for JSON-like data (JS numbers that are integers print as Python ints). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (typeof value === 'string') return pyStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${orderedKeys(record)
      .map((key) => `${pyStringRepr(key)}: ${pyRepr(record[key])}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** str(value): strings print bare, everything else as its repr. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

function jsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const char = text[i] ?? '';
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '\b') out += '\\b';
    else if (char === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return out + '"';
}

/** json.dumps(value) with Python's defaults: ", " and ": " separators, ASCII-only output. */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  }
  if (typeof value === 'string') return jsonString(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  const record = value as Record<string, unknown>;
  return `{${orderedKeys(record)
    .map((key) => `${jsonString(key)}: ${pyJsonDumps(record[key])}`)
    .join(', ')}}`;
}

const INT_LITERAL = /^\s*[+-]?(\d(_?\d)*)\s*$/;
const FLOAT_LITERAL = /^\s*[+-]?((\d(_?\d)*)?\.?\d(_?\d)*([eE][+-]?\d+)?|(\d(_?\d)*)\.|inf(inity)?|nan)\s*$/i;

/** int(value) as Python evaluates it, or the PyException it raises. */
export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PyException('ValueError', 'cannot convert float NaN to integer');
    if (!Number.isFinite(value)) throw new PyException('OverflowError', 'cannot convert float infinity to integer');
    return Math.trunc(value);
  }
  if (typeof value === 'string') {
    if (!INT_LITERAL.test(value)) {
      throw new PyException('ValueError', `invalid literal for int() with base 10: ${pyStringRepr(value)}`);
    }
    return Number(value.replaceAll('_', '').trim());
  }
  throw new PyException('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${typeName(value)}'`);
}

/** float(value) as Python evaluates it, or the PyException it raises. */
export function pyFloat(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (!FLOAT_LITERAL.test(value)) throw new PyException('ValueError', `could not convert string to float: ${pyStringRepr(value)}`);
    const text = value.replaceAll('_', '').trim().toLowerCase();
    if (/^[+-]?inf(inity)?$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(text)) return NaN;
    return Number(text);
  }
  throw new PyException('TypeError', `float() argument must be a string or a real number, not '${typeName(value)}'`);
}

/** bool(value): Python truthiness. */
export function pyBool(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}
