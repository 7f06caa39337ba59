/**
 * The server walks a prompt's nodes in the order the client wrote them (a Python dict keeps
 * insertion order). A JS object lists integer-like keys ("10", "9") ascending instead, so the
 * written order of the prompt's node ids is read from the raw body and kept beside the object.
 */
const KEY_ORDER = Symbol('keyOrder');

type Ordered = Record<string, unknown> & { [KEY_ORDER]?: string[] };

/** The object's keys in written order (when recorded), else in JS order. */
export function orderedKeys(object: Record<string, unknown>): string[] {
  return (object as Ordered)[KEY_ORDER] ?? Object.keys(object);
}

export function setKeyOrder(object: Record<string, unknown>, order: string[]): void {
  Object.defineProperty(object, KEY_ORDER, { value: order, enumerable: false, configurable: true, writable: true });
}

/** Deep copy of JSON data that keeps recorded key orders. */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) copy[key] = cloneJson(source[key]);
  const order = (source as Ordered)[KEY_ORDER];
  if (order) setKeyOrder(copy, [...order]);
  return copy as T;
}

function isArrayIndex(key: string): boolean {
  return /^(0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;
}

/** True when JS iteration order could differ from the written order. */
export function mayBeReordered(object: Record<string, unknown>): boolean {
  return Object.keys(object).some(isArrayIndex);
}

/**
 * Reads the member names of the object at `body[member]` in the order they are written, by
 * scanning the raw JSON text (already known to be valid). Returns undefined if absent.
 */
export function memberKeyOrder(text: string, member: string): string[] | undefined {
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const readString = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const skipValue = (): void => {
    skipSpace();
    const char = text[i];
    if (char === '"') {
      readString();
      return;
    }
    if (char === '{' || char === '[') {
      let depth = 0;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          readString();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
        i++;
      }
      return;
    }
    while (i < text.length && !',}] \n\r\t'.includes(text[i] ?? '')) i++;
  };
  const readObjectKeys = (): string[] => {
    const keys: string[] = [];
    i++;
    for (;;) {
      skipSpace();
      if (text[i] === '}') {
        i++;
        return keys;
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      const key = readString();
      if (!keys.includes(key)) keys.push(key);
      skipSpace();
      i++; // ':'
      skipValue();
    }
  };

  skipSpace();
  if (text[i] !== '{') return undefined;
  i++;
  let found: string[] | undefined;
  for (;;) {
    skipSpace();
    if (i >= text.length || text[i] === '}') return found;
    if (text[i] === ',') {
      i++;
      continue;
    }
    const key = readString();
    skipSpace();
    i++; // ':'
    skipSpace();
    if (key === member && text[i] === '{') found = readObjectKeys();
    else skipValue();
  }
}
