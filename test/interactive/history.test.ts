import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HISTORY_SIZE, historyPath, loadHistory, saveHistory } from '../../src/cli/interactive/history.ts';

describe('prompt history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyros-history-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lives in the data folder unless PYROS_HISTORY says otherwise (empty: none)', () => {
    assert.equal(historyPath({ PYROS_HISTORY: '/x/h' }), '/x/h');
    assert.equal(historyPath({ PYROS_HISTORY: '' }), undefined);
    assert.match(historyPath({}) ?? '', /pyros[/\\]history$/);
  });

  it('saves newest last, private to the user, and loads newest first', () => {
    const path = join(dir, 'nested', 'history');
    assert.equal(saveHistory(path, ['third', 'second', 'first']), undefined);
    assert.equal(readFileSync(path, 'utf8'), 'first\nsecond\nthird\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadHistory(path), ['third', 'second', 'first']);
    assert.deepEqual(loadHistory(join(dir, 'missing')), []);
    assert.deepEqual(loadHistory(undefined), []);
  });

  it(`keeps at most ${HISTORY_SIZE} entries`, () => {
    const path = join(dir, 'long');
    writeFileSync(path, `${Array.from({ length: HISTORY_SIZE + 50 }, (_, i) => `line ${i}`).join('\n')}\n`);
    const loaded = loadHistory(path);
    assert.equal(loaded.length, HISTORY_SIZE);
    assert.equal(loaded[0], `line ${HISTORY_SIZE + 49}`);
    saveHistory(path, ['newest', ...loaded]);
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, HISTORY_SIZE);
  });

  it('reports a history that cannot be written instead of throwing', () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, '');
    assert.ok(saveHistory(join(blocker, 'history'), ['x']) instanceof Error);
  });
});
