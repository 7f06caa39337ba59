import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { createDisplay } from '../../src/ui/index.ts';
import { FakeJob, node } from './fixtures/fake-job.ts';
import { JPEG_PREVIEW } from './fixtures/frames.ts';

const sampler = node('3', 'Sampler', 'KSampler');

function run(withPreviews: boolean): string {
  let written = '';
  const stream = { isTTY: true, columns: 80, rows: 30, write: (text: string) => ((written += text), true) };
  const display = createDisplay({ stream, mode: 'live', color: false, guardExit: false, preview: { protocol: 'blocks', blockColors: 'truecolor', reason: 'test' } });
  const job = new FakeJob();
  display.attach(job);
  job.emit('started');
  job.emit('node', sampler);
  for (let value = 1; value <= 6; value++) {
    job.emit('progress', { node: sampler, value, max: 6 });
    if (withPreviews) job.emit('preview', { mime: 'image/jpeg', image: JPEG_PREVIEW, node: sampler });
  }
  job.resolve();
  display.stop({ outcome: 'done' });
  return stripVTControlCharacters(written);
}

describe('a server that sends no previews', () => {
  it('is explained once instead of leaving an empty preview', () => {
    const text = run(false);
    const told = text.split('No preview images arrive').length - 1;
    assert.equal(told, 1, text);
    assert.match(text, /--preview-method/);
  });

  it('is not mentioned when previews arrive', () => {
    assert.doesNotMatch(run(true), /No preview images arrive/);
  });
});
