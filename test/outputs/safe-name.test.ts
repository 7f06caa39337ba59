import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeFileName } from '../../src/outputs/safe-name.ts';

describe('safe output names', () => {
  const cases: [string, string][] = [
    ['ComfyUI_00001_.png', 'ComfyUI_00001_.png'],
    ['../../etc/passwd', 'passwd'],
    ['/abs/path/x.png', 'x.png'],
    ['..\\..\\windows\\evil.png', 'evil.png'],
    ['C:evil.png', 'evil.png'],
    ['a\u0000b.png', 'a_b.png'],
    ['..', 'output'],
    ['.hidden.png', 'hidden.png'],
    ['', 'output'],
    ['name with spaces.webp', 'name with spaces.webp'],
    ['we|ird?:*.png', 'we_ird___.png'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected}`, () => {
      const name = safeFileName(input);
      assert.equal(name, expected);
      assert.ok(!name.includes('/') && !name.includes('\\') && !name.includes('\0'));
    });
  }

  it('keeps the extension when shortening a very long name', () => {
    const name = safeFileName(`${'x'.repeat(400)}.png`);
    assert.ok(name.length <= 180);
    assert.ok(name.endsWith('.png'));
  });
});
