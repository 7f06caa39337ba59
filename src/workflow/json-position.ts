/**
 * Where a JSON.parse failure is, as line and column. V8 puts the offset in the message
 * ("… in JSON at position 13", with " (line 3 column 3)" appended since Node 22) for most errors,
 * says nothing for "Unexpected end of JSON input", and shows a snippet instead of an offset for
 * "Unexpected token 'x', "…" is not valid JSON"; that last case is located by scanning the text.
 */

export interface TextPosition {
  /** 1-based */
  line: number;
  /** 1-based, in characters (code points) */
  column: number;
}

export interface JsonErrorLocation extends TextPosition {
  offset: number;
  /** V8's message without the position and snippet parts. */
  reason: string;
}

export function locateJsonError(message: string, text: string): JsonErrorLocation | undefined {
  const offset = offsetFromMessage(message, text) ?? findJsonErrorOffset(text);
  if (offset === undefined) return undefined;
  return { offset, ...lineAndColumn(text, offset), reason: cleanReason(message) };
}

function offsetFromMessage(message: string, text: string): number | undefined {
  const match = /at position (\d+)/.exec(message);
  if (match?.[1] !== undefined) return Math.min(Number(match[1]), text.length);
  if (/Unexpected end of JSON input/i.test(message)) return text.length;
  return undefined;
}

function cleanReason(message: string): string {
  return message
    .replace(/\s*in JSON at position \d+(\s*\(line \d+ column \d+\))?/, '')
    .replace(/,\s*(\.\.\.)?".*"(\.\.\.)?\s*is not valid JSON$/s, '');
}

export function lineAndColumn(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = (before.match(/\n/g)?.length ?? 0) + 1;
  return { line, column: Array.from(before.slice(lineStart)).length + 1 };
}

/** The offset of the first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonErrorOffset(text: string): number | undefined {
  let at = 0;

  const skipWhitespace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] ?? '')) at++;
  };
  const digits = (): number => {
    const start = at;
    while (at < text.length && /[0-9]/.test(text[at] ?? '')) at++;
    return at - start;
  };

  // Each parser advances `at` past what it accepted and returns false with `at` on the bad character.
  const literal = (word: string): boolean => {
    for (const char of word) {
      if (text[at] !== char) return false;
      at++;
    }
    return true;
  };
  const number = (): boolean => {
    if (text[at] === '-') at++;
    if (text[at] === '0') at++;
    else if (digits() === 0) return false;
    if (text[at] === '.') {
      at++;
      if (digits() === 0) return false;
    }
    if (text[at] === 'e' || text[at] === 'E') {
      at++;
      if (text[at] === '+' || text[at] === '-') at++;
      if (digits() === 0) return false;
    }
    return true;
  };
  const string = (): boolean => {
    at++; // opening quote
    while (at < text.length) {
      const char = text[at] ?? '';
      if (char === '"') {
        at++;
        return true;
      }
      if (char < ' ') return false;
      if (char === '\\') {
        const escape = text[at + 1] ?? '';
        if (escape === 'u') {
          at += 2;
          for (let digit = 0; digit < 4; digit++, at++) {
            if (!/[0-9a-fA-F]/.test(text[at] ?? '')) return false;
          }
        } else if ('"\\/bfnrt'.includes(escape) && escape !== '') {
          at += 2;
        } else {
          at++;
          return false;
        }
      } else {
        at++;
      }
    }
    return false;
  };
  const sequence = (close: string, member: () => boolean): boolean => {
    at++; // opening bracket
    skipWhitespace();
    if (text[at] === close) {
      at++;
      return true;
    }
    for (;;) {
      if (!member()) return false;
      skipWhitespace();
      if (text[at] === close) {
        at++;
        return true;
      }
      if (text[at] !== ',') return false;
      at++;
      skipWhitespace();
    }
  };
  const property = (): boolean => {
    if (text[at] !== '"' || !string()) return false;
    skipWhitespace();
    if (text[at] !== ':') return false;
    at++;
    return value();
  };
  const value = (): boolean => {
    skipWhitespace();
    const char = text[at];
    if (char === '{') return sequence('}', property);
    if (char === '[') return sequence(']', value);
    if (char === '"') return string();
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return number();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    return false;
  };

  if (!value()) return Math.min(at, text.length);
  skipWhitespace();
  return at < text.length ? at : undefined;
}
