import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { describeStats, formatErrorBlock, renderImage, savedFileLines } from '../../src/ui/index.ts';
import { JPEG_PREVIEW, PNG_IMAGE } from './fixtures/frames.ts';

describe('summary', () => {
  it('lists saved files with dimensions from their headers, human sizes and paths, aligned', () => {
    const lines = savedFileLines(
      [
        { path: 'images/pyros_00001_.jpg', size: JPEG_PREVIEW.length, head: JPEG_PREVIEW.subarray(0, 600) },
        { path: 'images/pyros_00002_.png', size: 2_500_000, head: PNG_IMAGE.subarray(0, 32) },
        { path: 'out/audio.flac', size: 999 },
      ],
      { color: false },
    );
    assert.deepEqual(lines, [
      '✔ 512×512  36.1 KiB  images/pyros_00001_.jpg',
      '✔ 32×32     2.4 MiB  images/pyros_00002_.png',
      '✔             999 B  out/audio.flac',
    ]);
    const coloured = savedFileLines([{ path: 'a.png', size: 10, width: 4, height: 2 }], { color: true });
    assert.ok(coloured[0]!.includes('\x1b['));
    assert.equal(stripVTControlCharacters(coloured[0]!), '✔ 4×2  10 B  a.png');
  });

  it('formats an error block as a title, indented details and a hint', () => {
    const block = formatErrorBlock({ title: 'It failed', details: ['  File "x.py", line 1\n    raise'], hint: 'Do this.' }, { color: false });
    assert.deepEqual(block, ['✖ It failed', '      File "x.py", line 1', '        raise', '  hint: Do this.']);
    assert.deepEqual(formatErrorBlock({ title: 'bad \x1b[2J title' }, { color: false }), ['✖ bad  [2J title']);
  });

  it('describes the preview statistics', () => {
    const text = describeStats({
      mode: 'live',
      writes: 10,
      bytes: 100,
      preview: { received: 500, rendered: 9, dropped: 491, failed: 0, drawn: 9, protocol: 'blocks', decode: { count: 9, lastMs: 9, meanMs: 10.5, maxMs: 40 }, encode: { count: 9, lastMs: 1, meanMs: 1.2, maxMs: 3 } },
    });
    assert.equal(text, 'previews (blocks): 500 received, 9 drawn, 491 dropped · decode 10.5 ms, encode 1.2 ms (mean)');
  });
});

describe('--show', () => {
  it('draws a final image once with half blocks', () => {
    const text = renderImage(JPEG_PREVIEW, { protocol: 'blocks', blockColors: 'truecolor', reason: 'test' }, { cols: 20, rows: 10 });
    const rows = text.trimEnd().split('\n');
    assert.equal(rows.length, 10);
    assert.ok(rows.every((row) => (row.match(/▀/g) ?? []).length === 20));
  });

  it('reserves the rows before drawing an inline image and ends below it', () => {
    const text = renderImage(PNG_IMAGE, { protocol: 'iterm', blockColors: 'truecolor', reason: 'test' }, { cols: 20, rows: 10 });
    assert.ok(text.startsWith('\n'.repeat(10) + '\x1b[10A'));
    assert.ok(text.includes(`\x1b]1337;File=inline=1;size=${PNG_IMAGE.length};width=20;height=10;`));
    assert.ok(text.endsWith('\x1b8\x1b[10B\r'));
    assert.equal(renderImage(Buffer.from('not an image'), { protocol: 'blocks', blockColors: '256', reason: '' }, { cols: 4, rows: 4 }), '');
  });
});
