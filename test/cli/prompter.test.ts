import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Prompter } from '../../src/cli/prompter.ts';
import { PyrosError } from '../../src/errors.ts';

function transcript(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('Prompter with piped answers', () => {
  it('answers every question from input that ended before the first one was asked', async () => {
    const input = new PassThrough();
    const output = transcript();
    const prompter = new Prompter(input, output.stream);
    input.end('fox\n\n  7  \n');
    await once(input, 'end');

    assert.equal(await prompter.ask('Prompt'), 'fox');
    assert.equal(await prompter.ask('Seed', '3'), '3', 'an empty answer takes the default');
    assert.equal(await prompter.ask('Steps', '20'), '7');
    await assert.rejects(prompter.ask('Output'), (error: unknown) => error instanceof PyrosError && error.kind === 'usage' && /input ended/.test(error.message));
    prompter.close();
    assert.equal(output.text(), 'Prompt: fox\nSeed [3]: \nSteps [20]:   7  \nOutput: \n');
  });

  it('takes answers that arrive one at a time, after each question', async () => {
    const input = new PassThrough();
    const output = transcript();
    const prompter = new Prompter(input, output.stream);
    const first = prompter.ask('Server', 'http://127.0.0.1:8188');
    input.write('\n');
    assert.equal(await first, 'http://127.0.0.1:8188');
    const second = prompter.ask('Output');
    input.end('renders\n');
    assert.equal(await second, 'renders');
    prompter.close();
    assert.equal(output.text(), 'Server [http://127.0.0.1:8188]: \nOutput: renders\n');
  });
});
