import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { blockColorsFromEnv, detectPreview, previewFromEnv } from '../../src/ui/preview/detect.ts';
import { parseTerminalReplies, TERMINAL_PROBE } from '../../src/ui/preview/terminal-query.ts';

const tty = { stdoutIsTTY: true, stdinIsTTY: true };

function protocolFor(env: Record<string, string>, io = tty): string {
  const choice = previewFromEnv('auto', env, io);
  return choice === 'query' ? 'query' : choice.protocol;
}

/** A terminal on the other end of stdin/stdout that answers the probe with `reply` (or stays silent). */
function fakeTerminal(reply: string | undefined) {
  const input = Object.assign(new EventEmitter(), {
    isTTY: true,
    isRaw: false,
    rawModes: [] as boolean[],
    paused: true,
    setRawMode(mode: boolean) {
      this.isRaw = mode;
      this.rawModes.push(mode);
    },
    resume() {
      this.paused = false;
    },
    pause() {
      this.paused = true;
    },
  });
  const written: string[] = [];
  const output = {
    isTTY: true,
    write(text: string) {
      written.push(text);
      // The terminal answers a moment after the question, not inside the write.
      if (reply !== undefined) setImmediate(() => input.emit('data', Buffer.from(reply, 'latin1')));
      return true;
    },
  };
  return { input, output, written };
}

describe('preview detection from the environment', () => {
  it('recognises terminals that name themselves', () => {
    assert.equal(protocolFor({ KITTY_WINDOW_ID: '1', TERM: 'xterm-256color' }), 'kitty');
    assert.equal(protocolFor({ TERM: 'xterm-kitty' }), 'kitty');
    assert.equal(protocolFor({ TERM_PROGRAM: 'ghostty' }), 'kitty');
    assert.equal(protocolFor({ TERM_PROGRAM: 'iTerm.app' }), 'iterm');
    assert.equal(protocolFor({ TERM_PROGRAM: 'WezTerm' }), 'iterm');
    assert.equal(protocolFor({ TERM_PROGRAM: 'vscode', COLORTERM: 'truecolor' }), 'blocks');
    assert.equal(protocolFor({ TERM: 'foot' }), 'sixel');
    assert.equal(protocolFor({ TERM: 'mlterm' }), 'sixel');
    assert.equal(protocolFor({ TERM: 'xterm-sixel' }), 'sixel');
  });

  it('uses half blocks inside tmux or screen, whatever the outer terminal', () => {
    assert.equal(protocolFor({ TMUX: '/tmp/tmux-0/default,1,0', KITTY_WINDOW_ID: '1', TERM: 'tmux-256color' }), 'blocks');
    assert.equal(protocolFor({ TERM: 'screen-256color', TERM_PROGRAM: 'iTerm.app' }), 'blocks');
  });

  it('is off when the output is not a terminal or TERM=dumb; asks the terminal when the environment is silent', () => {
    assert.equal(protocolFor({ KITTY_WINDOW_ID: '1' }, { stdoutIsTTY: false, stdinIsTTY: true }), 'off');
    assert.equal(protocolFor({ TERM: 'dumb' }), 'off');
    assert.equal(protocolFor({ TERM: 'xterm-256color' }), 'query');
    assert.equal(protocolFor({ TERM: 'xterm-256color' }, { stdoutIsTTY: true, stdinIsTTY: false }), 'blocks');
  });

  it('honours an explicit mode', () => {
    const sixel = previewFromEnv('sixel', { TMUX: 'x' }, tty);
    assert.ok(sixel !== 'query' && sixel.protocol === 'sixel');
    const off = previewFromEnv('off', { KITTY_WINDOW_ID: '1' }, tty);
    assert.ok(off !== 'query' && off.protocol === 'off');
  });

  it('picks truecolor half blocks only when the terminal says so', () => {
    assert.equal(blockColorsFromEnv({ COLORTERM: 'truecolor' }), 'truecolor');
    assert.equal(blockColorsFromEnv({ COLORTERM: '24bit' }), 'truecolor');
    assert.equal(blockColorsFromEnv({ TERM: 'xterm-256color' }), '256');
    assert.equal(blockColorsFromEnv({ TERM: 'tmux-256color', TMUX: 'x' }), '256');
  });
});

describe('terminal query', () => {
  it('parses kitty, device attribute and cell size replies', () => {
    const kitty = parseTerminalReplies('\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[?62;22c');
    assert.deepEqual(kitty, { kitty: true, sixel: false, cellPixels: { width: 10, height: 20 }, complete: true });
    const sixel = parseTerminalReplies('\x1b[?63;1;2;4;6;9;15;22c');
    assert.equal(sixel.sixel, true);
    assert.equal(sixel.kitty, false);
    assert.equal(parseTerminalReplies('\x1b[?4;62c').sixel, false, 'the first parameter is the terminal class');
    assert.equal(parseTerminalReplies('\x1b_Gi=31;OK\x1b\\').complete, false);
  });

  it('asks once, restores stdin, and decides from the answer', async () => {
    const term = fakeTerminal('\x1b[?62;4;22c');
    const choice = await detectPreview({ mode: 'auto', env: { TERM: 'xterm-256color' }, stdin: term.input, stdout: term.output, timeoutMs: 500 });
    assert.equal(choice.protocol, 'sixel');
    assert.deepEqual(term.written, [TERMINAL_PROBE]);
    assert.deepEqual(term.input.rawModes, [true, false]);
    assert.equal(term.input.paused, true);
    assert.equal(term.input.listenerCount('data'), 0);

    const kitty = fakeTerminal('\x1b_Gi=31;OK\x1b\\\x1b[?62;c');
    assert.equal((await detectPreview({ mode: 'auto', env: {}, stdin: kitty.input, stdout: kitty.output })).protocol, 'kitty');
  });

  it('falls back to half blocks after the time limit when nothing answers', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const term = fakeTerminal(undefined);
    let settled = false;
    const detecting = detectPreview({ mode: 'auto', env: { TERM: 'xterm' }, stdin: term.input, stdout: term.output, timeoutMs: 60 }).finally(() => (settled = true));
    const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await flush();
    assert.ok(term.written.length > 0, 'the terminal was asked');
    t.mock.timers.tick(59);
    await flush();
    assert.equal(settled, false, 'still waiting just before the limit');
    t.mock.timers.tick(1);
    const choice = await detecting;
    assert.equal(choice.protocol, 'blocks');
    assert.match(choice.reason, /did not answer/);
    assert.equal(term.input.isRaw, false);
  });

  it('does not ask when stdin is not a terminal', async () => {
    const term = fakeTerminal('\x1b[?62;4c');
    term.input.isTTY = false;
    const replies = await detectPreview({ mode: 'auto', env: { TERM: 'xterm' }, stdin: term.input, stdout: term.output });
    assert.equal(replies.protocol, 'blocks');
    assert.deepEqual(term.written, []);
  });
});
