import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';

function run(how: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'test/ui/fixtures/exit-guard.ts', how], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('terminal restored at the end of the process', () => {
  it('on process.exit while the display is live', () => {
    const result = run('exit');
    assert.equal(result.status, 3, result.stderr);
    assert.ok(result.stdout.includes(HIDE_CURSOR));
    assert.ok(result.stdout.endsWith(`${SHOW_CURSOR}\x1b[?7h`), JSON.stringify(result.stdout.slice(-40)));
  });

  it('on SIGINT that nobody handles: cursor back, then the default exit by the signal', () => {
    const result = run('signal');
    assert.equal(result.signal, 'SIGINT', result.stderr);
    assert.ok(result.stdout.endsWith(`${SHOW_CURSOR}\x1b[?7h`));
    assert.equal(result.stdout.split(SHOW_CURSOR).length, 2, 'restored once');
  });

  it('on SIGINT handled by the command: the guard leaves it alone', () => {
    const result = run('handled');
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.status, 130);
    assert.match(result.stdout, /Cancelled after/);
    assert.ok(result.stdout.endsWith('cancelled by the command\n'));
    assert.equal(result.stdout.split(SHOW_CURSOR).length, 2, 'restored once, by stop()');
  });
});
