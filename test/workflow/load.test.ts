import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageErrorOf as usageError } from '../support/errors.ts';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hintOf } from '../../src/cli/errors/explain.ts';
import { loadWorkflow, parseWorkflow } from '../../src/workflow/load.ts';
import { fixturePath, trafficWorkflow } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'pyros-workflow-'));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


test('loads every API-format fixture', async () => {
  for (const name of readdirSync(fixturePath('workflows')).filter((file) => file !== 'ui_format.json')) {
    const workflow = await loadWorkflow(fixturePath(`workflows/${name}`));
    assert.ok(Object.keys(workflow).length > 3, name);
  }
  const recorded = await loadWorkflow(fixturePath('traffic/a_success.workflow.json'));
  assert.deepEqual(recorded, trafficWorkflow('a_success'));
});

test('a missing file is named in the error', async () => {
  const path = join(dir, 'nope.json');
  const error = await usageError(() => loadWorkflow(path));
  assert.equal(error.message, `Workflow file not found: ${path}`);
});

test('a relative missing path is shown as typed, with the absolute path in the hint', async () => {
  const error = await usageError(() => loadWorkflow('no-such-dir/flow.json'));
  assert.match(error.message, /not found: no-such-dir\/flow\.json$/);
  assert.match(hintOf(error) ?? '', /Looked for \/.*no-such-dir\/flow\.json/);
  assert.equal(error.reason, 'workflow-not-found');
  assert.equal(error.fields.path, 'no-such-dir/flow.json');
});

test('a directory is refused', async () => {
  const path = join(dir, 'a-directory');
  mkdirSync(path);
  const error = await usageError(() => loadWorkflow(path));
  assert.equal(error.message, `${path} is a directory, not a workflow file.`);
});

test('a file that cannot be read is named in the error', async () => {
  const path = join(dir, 'loop.json');
  symlinkSync(path, path);
  const error = await usageError(() => loadWorkflow(path));
  assert.match(error.message, new RegExp(`^Cannot read workflow file ${path}: .*ELOOP`));
});

test('a file without read permission', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, async () => {
  const path = write('secret.json', '{}');
  chmodSync(path, 0o000);
  const error = await usageError(() => loadWorkflow(path));
  assert.equal(error.message, `Cannot read workflow file ${path}: permission denied`);
});

test('invalid JSON: the message gives file:line:column of the error', async () => {
  const missingComma = write('missing-comma.json', '{\n  "3": {\n    "class_type": "KSampler"\n    "inputs": {}\n  }\n}\n');
  const error = await usageError(() => loadWorkflow(missingComma));
  assert.equal(error.message, `${missingComma}:4:5: invalid JSON: Expected ',' or '}' after property value`);
  assert.match(hintOf(error) ?? '', /Line 4:\n {2}\s{4}"inputs": \{\}\n {2} {4}\^/);
  assert.deepEqual([error.reason, error.fields.line, error.fields.column], ['workflow-invalid-json', 4, 5]);
});

test('invalid JSON where V8 gives no position (unexpected token) is still located', async () => {
  const path = write('no-value.json', '{\n  "1": {\n    "class_type": "EmptyImage",\n    "inputs": { "width": }\n  }\n}\n');
  const error = await usageError(() => loadWorkflow(path));
  assert.match(error.message, new RegExp(`^${path}:4:26: invalid JSON: Unexpected token '\\}'$`));
});

test('invalid JSON: trailing comma, truncated file, and columns counted in characters', async () => {
  const trailing = write('trailing.json', '{\n  "1": {"class_type": "EmptyImage", "inputs": {"width": 64,}}\n}\n');
  assert.match((await usageError(() => loadWorkflow(trailing))).message, new RegExp(`^${trailing}:2:60: invalid JSON: `));

  const truncated = write('truncated.json', '{\n  "1": ');
  assert.equal((await usageError(() => loadWorkflow(truncated))).message, `${truncated}:2:8: invalid JSON: Unexpected end of JSON input`);

  const unicode = write('unicode.json', '{"text": "café 🦊" x}');
  assert.match((await usageError(() => loadWorkflow(unicode))).message, new RegExp(`^${unicode}:1:19: invalid JSON: `));
});

test('an editor-format (UI) workflow is refused with how to export the API format', async () => {
  const path = fixturePath('workflows/ui_format.json');
  const error = await usageError(() => loadWorkflow(path));
  assert.match(error.message, /editor format/);
  assert.ok(error.message.startsWith(path));
  assert.match(hintOf(error) ?? '', /Workflow menu → Export \(API\)/);
  assert.match(hintOf(error) ?? '', /"Dev mode Options".*"Save \(API Format\)"/);
  assert.equal(error.reason, 'workflow-editor-format');
});

test('the body of POST /prompt and a history entry are unwrapped', () => {
  const expected = trafficWorkflow('a_success');
  const lines = readFileSync(fixturePath('traffic/a_success.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const post = lines.find((line) => line.kind === 'http_request' && line.method === 'POST' && line.path === '/prompt');
  const historyRequest = lines.find((line) => line.kind === 'http_request' && String(line.path).startsWith('/history/'));
  const history = lines.find((line) => line.kind === 'http_response' && line.id === historyRequest.id);
  assert.ok(post.json.client_id, 'the recorded body also has a client_id');

  assert.deepEqual(parseWorkflow(JSON.stringify(post.json), 'body.json'), expected);
  assert.deepEqual(parseWorkflow(JSON.stringify(history.json), 'history.json'), expected);
  const entry = Object.values(history.json)[0];
  assert.deepEqual(parseWorkflow(JSON.stringify(entry), 'entry.json'), expected);
});

test('a node whose id is "prompt" is a node, not a wrapper', () => {
  const workflow = parseWorkflow('{"prompt": {"class_type": "PrimitiveString", "inputs": {"value": "x"}}}', 'w.json');
  assert.deepEqual(Object.keys(workflow), ['prompt']);
});

test('something that is not a map of nodes names the first offending node', async () => {
  const cases: [string, RegExp][] = [
    ['{"1": {"class_type": "EmptyImage", "inputs": {}}, "2": {"inputs": {}}, "3": 5}', /node "2" has no "class_type"/],
    ['{"1": {"class_type": "EmptyImage", "inputs": []}}', /node "1" has "inputs" that are a list, not an object/],
    ['{"7": {"class_type": 12, "inputs": {}}}', /node "7" has a "class_type" that is a number/],
    ['{"4": {"class_type": "VAELoader"}}', /node "4" has no "inputs"/],
    ['{"4": "VAELoader"}', /node "4" is a string, not an object/],
  ];
  for (const [text, expected] of cases) {
    const error = await usageError(() => parseWorkflow(text, 'odd.json'));
    assert.match(error.message, /^odd\.json is not an API-format workflow: /);
    assert.match(error.message, expected);
  }
  assert.match((await usageError(() => parseWorkflow('[1, 2]', 'list.json'))).message, /^list\.json is not a workflow: .*found a list/);
});

test('an empty workflow or file is an error', async () => {
  assert.equal((await usageError(() => parseWorkflow('{}', 'e.json'))).message, 'e.json contains no nodes.');
  assert.equal((await usageError(() => parseWorkflow('{"prompt": {}}', 'e.json'))).message, 'e.json contains no nodes.');
  assert.equal((await usageError(() => parseWorkflow(' \n', 'blank.json'))).message, 'blank.json is empty.');
});

test('a byte order mark is ignored', () => {
  const workflow = parseWorkflow('\uFEFF{"1": {"class_type": "EmptyImage", "inputs": {}}}', 'bom.json');
  assert.equal(workflow['1']?.class_type, 'EmptyImage');
});
