import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { progressBar, pulseBar } from '../../src/ui/bar.ts';
import { formatBytes, formatClock, formatDuration, formatRate, percentOf } from '../../src/ui/format.ts';
import { fitToWidth, sanitize, textWidth, truncate } from '../../src/ui/text.ts';

describe('text', () => {
  it('truncates to the width with an ellipsis, counting wide characters', () => {
    assert.equal(truncate('hello', 5), 'hello');
    assert.equal(truncate('hello world', 8), 'hello w…');
    assert.equal(textWidth(truncate('画像生成ワークフロー', 7)), 7);
    assert.equal(truncate('画像生成', 4), '画…');
    assert.equal(truncate('abc', 0), '');
  });

  it('fits styled segments to the width and keeps the style of the cut one', () => {
    const row = fitToWidth([{ text: 'Running ' }, { text: '"a very long node title"', style: 'bold' }, { text: ' (KSampler)' }], 20, true);
    assert.equal(textWidth(row), 20);
    assert.equal(stripVTControlCharacters(row), 'Running "a very lon…');
    assert.ok(row.includes('\x1b[1m'), 'bold kept');
    // Exactly filling segments followed by more: the ellipsis still marks the cut.
    assert.equal(fitToWidth([{ text: 'abcde' }, { text: 'fgh' }], 5, false), 'abcd…');
    assert.equal(fitToWidth([{ text: 'abc' }, { text: 'de' }], 5, false), 'abcde');
    assert.equal(fitToWidth([{ text: 'abc', style: 'red' }], 10, false), 'abc', 'no colour when off');
  });

  it('keeps control characters from node titles out of the terminal', () => {
    assert.equal(sanitize('evil\x1b[2Jtitle\n'), 'evil [2Jtitle ');
  });
});

describe('bars', () => {
  it('fills in half cells and always has the requested width', () => {
    assert.equal(progressBar(0.5, 10, false), '█████░░░░░');
    assert.equal(progressBar(0.25, 10, false), '██▌░░░░░░░');
    assert.equal(progressBar(1, 10, false), '██████████');
    assert.equal(progressBar(Number.NaN, 4, false), '░░░░');
    assert.equal(progressBar(7, 4, false), '████');
    for (const ratio of [0, 0.13, 0.5, 0.99, 1]) assert.equal(textWidth(progressBar(ratio, 17, true)), 17);
    assert.equal(stripVTControlCharacters(progressBar(0.5, 4, true)), '━━━━');
  });

  it('moves the pulse over time within the width', () => {
    const a = pulseBar(20, 0, false);
    const b = pulseBar(20, 400, false);
    assert.equal(a.length, 20);
    assert.equal(b.length, 20);
    assert.notEqual(a, b);
  });
});

describe('format', () => {
  it('formats clocks, durations, sizes, rates and percentages', () => {
    assert.equal(formatClock(0), '0:00');
    assert.equal(formatClock(65_400), '1:05');
    assert.equal(formatClock(3_723_000), '1:02:03');
    assert.equal(formatClock(-5), '0:00');
    assert.equal(formatDuration(400), '0.4s');
    assert.equal(formatDuration(125_000), '2m 05s');
    assert.equal(formatDuration(Number.NaN), '0.0s');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(37_006), '36.1 KiB');
    assert.equal(formatBytes(1_572_864), '1.5 MiB');
    assert.equal(formatBytes(150 * 1024 * 1024), '150 MiB');
    assert.equal(formatRate(4.21), '4.2 it/s');
    assert.equal(formatRate(0.25), '4.0 s/it');
    assert.equal(formatRate(0), '');
    assert.equal(percentOf(13, 25), 52);
    assert.equal(percentOf(24.99, 25), 99);
    assert.equal(percentOf(1, 0), 0);
  });
});
