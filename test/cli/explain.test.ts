import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PromptRejectedError } from '../../src/client/api.ts';
import { UpgradeRefusedError } from '../../src/client/socket.ts';
import { CliError } from '../../src/cli/errors/cli-error.ts';
import { explain, hintOf, inOptionContext, withMoreHint } from '../../src/cli/errors/explain.ts';
import { HINTS } from '../../src/cli/errors/hints.ts';
import { errorEvent } from '../../src/cli/report-error.ts';
import { PyrosError, sameCaseArgs, type ErrorFields, type ErrorKind, type PyrosErrorArgs } from '../../src/errors.ts';

/** Fields rich enough for every reason to say all it can. */
const FIELDS: ErrorFields = {
  server: 'http://gpu:8188',
  promptId: 'p-1',
  limitMs: 1_500,
  status: 503,
  route: '/prompt',
  path: '/home/me/vars',
  resolvedPath: '/home/me/flow.json',
  candidates: ['6.text', '12.text'],
  upstream: { nodeId: '4', inputs: ['ckpt_name'] },
  name: 'color',
  count: 3,
  limit: 9_007_199_254_740_991,
  line: 4,
  column: 5,
  excerpt: { text: '    "inputs": {}', column: 5 },
};

/** Reasons where no advice would help: the message says it all. */
const NO_HINT = new Set(['usage/pool-closed', 'cancelled/by-user', 'output/write-failed', 'output/download-refused', 'lost/moved', 'server/unexpected-status']);

function errorOf(kind: ErrorKind, reason: string, fields: ErrorFields = FIELDS): PyrosError {
  return new PyrosError(...([kind, `Something went wrong (${kind}/${reason}).`, { reason, fields }] as PyrosErrorArgs));
}

function allReasons(): [ErrorKind, string][] {
  return (Object.keys(HINTS) as ErrorKind[]).flatMap((kind) => Object.keys(HINTS[kind]).map((reason): [ErrorKind, string] => [kind, reason]));
}

describe('explain', () => {
  it('gives every kind and reason a title, and a hint wherever one helps', () => {
    const reasons = allReasons();
    assert.ok(reasons.length >= 70, `only ${reasons.length} reasons`);
    for (const [kind, reason] of reasons) {
      const { title, hint } = explain(errorOf(kind, reason));
      assert.ok(title.length > 0, `${kind}/${reason} has a title`);
      if (NO_HINT.has(`${kind}/${reason}`)) {
        assert.equal(hint, undefined, `${kind}/${reason} needs no hint`);
        continue;
      }
      assert.ok(hint && hint.length > 10, `${kind}/${reason} has a hint`);
      assert.doesNotMatch(hint, /undefined|\[object/, `${kind}/${reason}: ${hint}`);
    }
  });

  it('words the hints with the flags and commands of the command line', () => {
    const expected: [ErrorKind, string, RegExp][] = [
      ['usage', 'invalid-url', /--server http:\/\/127\.0\.0\.1:8188/],
      ['usage', 'unsupported-scheme', /--server https:\/\//],
      ['usage', 'invalid-seed', /from 0 to 9007199254740991, or "random"/],
      ['usage', 'workflow-not-found', /^Looked for \/home\/me\/flow\.json; check the path\.$/],
      ['usage', 'workflow-invalid-json', /^Line 4:\n {2} {4}"inputs": \{\}\n {2} {4}\^$/],
      ['usage', 'workflow-editor-format', /Workflow menu → Export \(API\)/],
      ['usage', 'target-ambiguous', /^Use the node id instead, e\.g\. 6\.text\.<input>\.$/],
      ['usage', 'target-no-input', /^Did you mean 6\.text\?$/],
      ['usage', 'target-linked', /^Set the value on the node it comes from instead: --set 4\.ckpt_name=…$/],
      ['usage', 'prompt-not-found', /--prompt-input NODE\.INPUT \(e\.g\. --prompt-input 6\.text\)/],
      ['usage', 'seed-not-found', /--seed-input NODE\.INPUT \(e\.g\. --seed-input 6\.text\)/],
      ['usage', 'variable-unknown', /^Did you mean __6\.text__ or __12\.text__\?$/],
      ['usage', 'variable-index', /from 1 to 3/],
      ['usage', 'vars-folder-missing', /--vars/],
      ['connection', 'refused', /Is ComfyUI running at http:\/\/gpu:8188\? .*--server URL \(or COMFYUI_URL\).*`pyros sim`/],
      ['connection', 'host-not-found', /--server/],
      ['connection', 'tls', /--insecure/],
      ['connection', 'unauthorized', /--header or COMFYUI_TOKEN .*--header "Authorization: Bearer …".*user:password@/],
      ['connection', 'handshake-timeout', /--request-timeout/],
      ['connection', 'unavailable', /--server/],
      ['rejected', 'validation', /--set NODE\.INPUT=VALUE/],
      ['execution', 'node-failed', /--verbose/],
      ['cancelled', 'server-not-told', /`pyros fetch p-1`/],
      ['cancelled', 'pool-closed', /`pyros fetch p-1 --server http:\/\/gpu:8188`/],
      ['output', 'disk-full', /--output; nothing partial was left behind/],
      ['output', 'read-only', /--output DIR/],
      ['timeout', 'job', /^Raise --timeout, or fetch its outputs later with `pyros fetch p-1` if it still runs\.$/],
      ['timeout', 'job-not-accepted', /raise --timeout/],
      ['timeout', 'request', /raise --request-timeout/],
      ['lost', 'forgotten', /--retry N/],
      ['server', 'history-missing', /`pyros fetch p-1`/],
      ['server', 'download-cut', /`pyros fetch p-1`/],
    ];
    for (const [kind, reason, pattern] of expected) assert.match(hintOf(errorOf(kind, reason)) ?? '', pattern, `${kind}/${reason}`);
  });

  it('says less when the fields hold less, and never guesses', () => {
    assert.equal(hintOf(errorOf('usage', 'target-no-input', {})), undefined);
    assert.equal(hintOf(errorOf('usage', 'workflow-not-found', { path: '/abs/flow.json' })), 'Check the path.');
    assert.equal(hintOf(errorOf('usage', 'workflow-invalid-json', { file: 'stdin' })), undefined);
    assert.equal(hintOf(errorOf('usage', 'variable-unknown', { name: 'colr', path: '/home/me/vars' })), 'Create colr.txt (one entry per line) in /home/me/vars, or pass another folder with --vars.');
    assert.equal(hintOf(errorOf('usage', 'variable-unknown', { name: 'styles/*' })), 'Create the folder styles in a variable folder, or pass another folder with --vars.');
    assert.equal(hintOf(errorOf('cancelled', 'pool-closed', { promptId: 'p-1' })), undefined, 'nothing to fetch from when it never reached a server');
    assert.match(hintOf(errorOf('usage', 'target-linked', { upstream: { nodeId: '9', inputs: ['a', 'b'] } })) ?? '', /^Set an input of node 9 instead \(its inputs: a, b\), or remove the link/);
    assert.match(hintOf(errorOf('server', 'download-cut', {})) ?? '', /`pyros fetch PROMPT_ID`/);
  });

  it('puts the flag that set a job limit into the title', () => {
    const cancelled = new PyrosError('timeout', 'The job did not finish within 0.3 s; it was cancelled on the server.', { reason: 'job', fields: { promptId: 'p', limitMs: 300 } });
    assert.equal(explain(cancelled).title, 'The job did not finish within 0.3 s (--timeout); it was cancelled on the server.');
    const notAccepted = new PyrosError('timeout', 'The job did not finish within 2 s: the server did not accept it in that time.', { reason: 'job-not-accepted', fields: { limitMs: 2000 } });
    assert.equal(explain(notAccepted).title, 'The job did not finish within 2 s (--timeout): the server did not accept it in that time.');
    const request = new PyrosError('timeout', 'GET /queue on http://h got no answer for 30 s.', { reason: 'request', fields: { limitMs: 30_000 } });
    assert.equal(explain(request).title, request.message);
  });

  it('keeps what the library says in the option context, and adds advice without losing the reason', () => {
    const library = new PyrosError('usage', 'No node "Nope" in the workflow.', { reason: 'target-no-node', fields: { target: { node: 'Nope', input: 'text' } } });
    const worded = inOptionContext(library, '--set "Nope.text"') as CliError;
    assert.ok(worded instanceof CliError);
    assert.equal(worded.message, '--set "Nope.text": no node "Nope" in the workflow.');
    assert.deepEqual([worded.kind, worded.reason, worded.fields], ['usage', 'target-no-node', library.fields]);
    assert.equal(explain(worded).hint, 'Name a node by its id or by its title as shown in ComfyUI.');
    assert.equal((inOptionContext(new PyrosError('usage', '#6 (X).clip is connected', { reason: 'target-linked' }), '/set "6.clip"') as Error).message, '/set "6.clip": #6 (X).clip is connected');

    const full = new PyrosError('output', 'The disk is full.', { reason: 'disk-full', fields: { path: '/out' } });
    const more = withMoreHint(full, 'Fetch it later.') as CliError;
    assert.equal(explain(more).hint, 'Free some space or choose another folder with --output; nothing partial was left behind. Fetch it later.');
    assert.deepEqual([more.kind, more.reason, more.fields], ['output', 'disk-full', { path: '/out' }]);
    const plain = withMoreHint(new PyrosError('output', 'x', { reason: 'write-failed' }), 'Fetch it later.');
    assert.equal(explain(plain).hint, 'Fetch it later.');
  });

  it('uses the hint a CliError carries, and calls anything untyped a bug', () => {
    assert.equal(explain(new CliError('usage', '--retry expects a number.', { hint: 'e.g. --retry 3' })).hint, 'e.g. --retry 3');
    const bug = explain(new TypeError('x is undefined'));
    assert.equal(bug.title, 'unexpected failure: x is undefined');
    assert.match(bug.hint ?? '', /bug in pyros/);
  });

  it('explains the WebSocket refusals of a server', () => {
    const auth = new UpgradeRefusedError({ status: 401, server: 'http://h:1' });
    assert.deepEqual([auth.kind, auth.reason, auth.fields.status], ['connection', 'unauthorized', 401]);
    assert.match(hintOf(auth) ?? '', /COMFYUI_TOKEN/);
    const other = new UpgradeRefusedError({ status: 404, server: 'http://h:1' });
    assert.equal(other.reason, 'upgrade-refused');
    assert.match(other.message, /does not look like ComfyUI: its WebSocket \(\/ws\) answered HTTP 404/);
    assert.match(hintOf(other) ?? '', /forwards WebSockets/);
  });
});

describe('the --json error object', () => {
  it('has kind, reason, exit code, the worded message and hint, and the fields in snake_case', () => {
    const error = new PyrosError('timeout', 'The job did not finish within 1.5 s; it was cancelled on the server.', {
      reason: 'job',
      fields: { server: 'http://gpu:8188', promptId: 'p-1', limitMs: 1500, node: { nodeId: '3', classType: 'KSampler' } },
    });
    const event = errorEvent(error, []);
    assert.equal(event.kind, 'timeout');
    assert.equal(event.reason, 'job');
    assert.equal(event.exit_code, 8);
    assert.equal(event.message, 'The job did not finish within 1.5 s (--timeout); it was cancelled on the server.');
    assert.match(String(event.hint), /Raise --timeout/);
    assert.deepEqual(event.fields, { server: 'http://gpu:8188', prompt_id: 'p-1', limit_ms: 1500, node: { node_id: '3', class_type: 'KSampler' } });
  });

  it('masks secrets in the fields too, and never carries a node’s current inputs', () => {
    const secret = 'tok-123456';
    const error = new PyrosError('usage', `"http://u:${secret}@h" is not a valid server URL.`, { reason: 'invalid-url', fields: { value: `Bearer ${secret}` } });
    const text = JSON.stringify(errorEvent(error, [secret]));
    assert.ok(!text.includes(secret), text);

    const rejected = new PromptRejectedError({ type: 'prompt_outputs_failed_validation', message: 'failed', details: '' }, {
      '5': { class_type: 'EmptyLatentImage', dependent_outputs: [], errors: [{ type: 'value_smaller_than_min', message: 'too small', details: 'width' }] },
    }, { server: 'http://h:1', promptId: 'p-9' });
    const event = errorEvent(rejected, []);
    assert.deepEqual([event.reason, event.fields], ['validation', { server: 'http://h:1', prompt_id: 'p-9', status: 400, count: 1, code: 'prompt_outputs_failed_validation' }]);
    assert.ok(!JSON.stringify(event).includes('current_inputs'));
  });

  it('keeps the kind and reason of a library error reworded with more context', () => {
    const source = new PyrosError('server', 'GET /view on http://h failed with HTTP 500: boom', { reason: 'http-5xx', fields: { status: 500 } });
    const reworded = new PyrosError(...sameCaseArgs(source, `Downloading "a.png" failed: ${source.message}`, { fields: { ...source.fields, file: 'a.png' } }));
    assert.deepEqual([reworded.kind, reworded.reason, reworded.fields], ['server', 'http-5xx', { status: 500, file: 'a.png' }]);
  });
});
