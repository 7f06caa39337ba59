/**
 * The library does not speak the command line: its sources name no flag or command, import
 * nothing from src/cli, and give every error a reason (the command line words the hints).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';

const LIBRARY = ['src/client', 'src/workflow', 'src/outputs', 'src/vars'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const files = LIBRARY.flatMap(sources).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** The text of each `new PyrosError(…)`, parentheses balanced. */
function constructions(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/new PyrosError\(/g)) {
    let depth = 0;
    let end = match.index;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      if (text[end] === ')' && --depth === 0) break;
    }
    found.push(text.slice(match.index, end + 1));
  }
  return found;
}

it('library sources name no command-line flag and no pyros command', () => {
  assert.ok(files.length > 30);
  for (const { path, text } of files) {
    const flags = [...text.matchAll(/(?<![-\w])--[a-z][a-z-]*/g)].map((m) => m[0]);
    assert.deepEqual(flags, [], `${path} names flags`);
    const commands = [...text.matchAll(/\bpyros (run|fetch|sim|init|history|queue|cancel|nodes|gallery|demo)\b/g)].map((m) => m[0]);
    assert.deepEqual(commands, [], `${path} names commands`);
    assert.doesNotMatch(text, /\bhint:/, `${path} words a hint`);
  }
});

it('library sources import nothing from the command line', () => {
  for (const { path, text } of files) assert.doesNotMatch(text, /from '(\.\.\/)+cli\//, `${path} imports from src/cli`);
});

it('every error the library constructs has a reason', () => {
  let count = 0;
  for (const { path, text } of files) {
    for (const construction of constructions(text)) {
      count++;
      assert.match(construction, /\breason[:,]|sameCaseArgs\(/, `${path}: ${construction.slice(0, 120)}`);
    }
  }
  assert.ok(count > 40, `only ${count} constructions found`);
});
