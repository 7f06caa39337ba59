import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PromptRejectedError } from '../../src/client/api.ts';
import { ExecutionError } from '../../src/client/job-errors.ts';
import { CliError } from '../../src/cli/errors/cli-error.ts';
import { errorEvent, errorReport, exitCodeOf } from '../../src/cli/report-error.ts';

const workflow = { '5': { class_type: 'EmptyLatentImage', inputs: { width: 0 }, _meta: { title: 'Latent' } } };

describe('error reports', () => {
  it('lists each rejected input under its node title and class', () => {
    const error = new PromptRejectedError(
      { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '' },
      { '5': { class_type: 'EmptyLatentImage', dependent_outputs: ['9'], errors: [{ type: 'value_smaller_than_min', message: 'Value 0 smaller than min of 16', details: 'width' }] } },
    );
    const lines = errorReport(error, { verbose: false, secrets: [], workflow });
    assert.equal(lines[0], '✖ ComfyUI rejected the workflow: Prompt outputs failed validation.');
    assert.ok(lines.includes('    node #5 "Latent" (EmptyLatentImage):'), lines.join('\n'));
    assert.ok(lines.includes('      - Value 0 smaller than min of 16: width'), lines.join('\n'));
    assert.equal(exitCodeOf(error), 4);
  });

  it('shows a traceback only with --verbose and never the current inputs', () => {
    const error = new ExecutionError({ promptId: 'p', exceptionType: 'RuntimeError', exceptionMessage: 'boom', traceback: ['  File "x.py", line 1\n'], outputs: [] });
    assert.ok(!errorReport(error, { verbose: false, secrets: [] }).join('\n').includes('x.py'));
    assert.ok(errorReport(error, { verbose: true, secrets: [] }).join('\n').includes('File "x.py", line 1'));
    const event = errorEvent(error, []);
    assert.equal(event.exit_code, 5);
    assert.ok(!('current_inputs' in event));
  });

  it('masks secrets in messages, hints and JSON', () => {
    const error = new CliError('connection', 'GET https://bob:hunter22@h/x failed with token tok-999999', { hint: 'token tok-999999 was refused' });
    const text = errorReport(error, { verbose: true, secrets: ['tok-999999'] }).join('\n');
    assert.ok(!text.includes('tok-999999') && !text.includes('hunter22'), text);
    assert.ok(!JSON.stringify(errorEvent(error, ['tok-999999'])).includes('tok-999999'));
  });

  it('calls anything untyped an internal error with exit 1', () => {
    assert.equal(exitCodeOf(new TypeError('x')), 1);
    assert.match(errorReport(new TypeError('x is undefined'), { verbose: false, secrets: [] })[0] ?? '', /unexpected failure: x is undefined/);
  });
});
