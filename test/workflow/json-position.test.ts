import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findJsonErrorOffset, lineAndColumn, locateJsonError } from '../../src/workflow/json-position.ts';

const text = '{\n  "a": 1\n  "b": 2\n}';
// The error is the `"` of "b": offset 13, line 3, column 3.

test('Node 20 message: offset only', () => {
  const where = locateJsonError(`Expected ',' or '}' after property value in JSON at position 13`, text);
  assert.deepEqual(where, { offset: 13, line: 3, column: 3, reason: `Expected ',' or '}' after property value` });
});

test('Node 22+ message: offset followed by (line column)', () => {
  const where = locateJsonError(`Expected ',' or '}' after property value in JSON at position 13 (line 3 column 3)`, text);
  assert.deepEqual(where, { offset: 13, line: 3, column: 3, reason: `Expected ',' or '}' after property value` });
});

test('older message style: Unexpected token X in JSON at position N', () => {
  const where = locateJsonError('Unexpected string in JSON at position 13', text);
  assert.equal(where?.line, 3);
  assert.equal(where?.reason, 'Unexpected string');
});

test('no position, end of input: the end of the text', () => {
  assert.deepEqual(locateJsonError('Unexpected end of JSON input', '{\n  "a": ['), {
    offset: 10,
    line: 2,
    column: 9,
    reason: 'Unexpected end of JSON input',
  });
});

test('no position, unexpected token with a snippet: found by scanning, snippet dropped from the reason', () => {
  const broken = '{\n  "a": }';
  const where = locateJsonError(`Unexpected token '}', "{\n  "a": }" is not valid JSON`, broken);
  assert.deepEqual(where, { offset: 9, line: 2, column: 8, reason: `Unexpected token '}'` });
  const long = `Unexpected token 'x', ..."lue": 1, x}"... is not valid JSON`;
  assert.equal(locateJsonError(long, '{"value": 1, x}')?.reason, `Unexpected token 'x'`);
});

test('a position beyond the text is clamped to its end', () => {
  assert.equal(locateJsonError('Something in JSON at position 99', '[1')?.offset, 2);
});

test('line and column: CRLF lines, and characters outside the BMP count once', () => {
  assert.deepEqual(lineAndColumn('{\r\n  x', 5), { line: 2, column: 3 });
  assert.deepEqual(lineAndColumn('"🦊" x', 5), { line: 1, column: 5 });
  assert.deepEqual(lineAndColumn('abc', 0), { line: 1, column: 1 });
});

test('the scanner accepts valid JSON', () => {
  for (const valid of ['{}', '[]', ' 0 ', '-1.5e+3', '"a\\u00e9\\n"', '{"a": [true, false, null, {"b": "c"}]}', '\n{\n}\n']) {
    assert.equal(findJsonErrorOffset(valid), undefined, valid);
  }
});

test('the scanner finds the offset V8 reports wherever V8 reports one', () => {
  const broken = [
    '{"a" 1}', '{"a":1,}', '[1,2', '{"a":"x', '{"a":-}', '"abc', '{} x', '{"a":"\u0001"}', '[1, 2,]', '{"a": 1.}',
    '{"a": 1e}', '{"a": "\\x"}', '{"a": "\\u12G4"}', '[01]', '{\n  "a": 1\n  "b": 2\n}', '{"a": [1, 2}', "{'a': 1}",
  ];
  for (const text of broken) {
    let message = '';
    try {
      JSON.parse(text);
    } catch (error) {
      message = (error as Error).message;
    }
    const reported = /at position (\d+)/.exec(message)?.[1];
    if (reported === undefined) continue;
    assert.equal(findJsonErrorOffset(text), Number(reported), `${JSON.stringify(text)}: ${message}`);
  }
});

test('where V8 names the unexpected token instead of a position, the scanner lands on that token', () => {
  for (const text of ['{"a": }', '{"a": tru}', 'nope', '[1, }', '{"a": [1, ]}', '{"a": x}', '[\n  1,\n  ]']) {
    let message = '';
    try {
      JSON.parse(text);
    } catch (error) {
      message = (error as Error).message;
    }
    const token = /^Unexpected token '(.)'/.exec(message)?.[1];
    if (token === undefined) continue;
    const offset = findJsonErrorOffset(text);
    assert.equal(offset === undefined ? undefined : text[offset], token, `${JSON.stringify(text)}: ${message}`);
  }
});

test('the scanner locates the errors V8 reports without a position', () => {
  assert.equal(findJsonErrorOffset('{"a": }'), 6);
  assert.equal(findJsonErrorOffset('{"a": tru}'), 9);
  assert.equal(findJsonErrorOffset('nope'), 1); // V8: Unexpected token 'o'
  assert.equal(findJsonErrorOffset(''), 0);
});
