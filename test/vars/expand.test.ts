import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hintOf } from '../../src/cli/errors/explain.ts';
import { PyrosError } from '../../src/errors.ts';
import { occurrenceRandom, pick } from '../../src/vars/random.ts';
import { bundledVariablesDir, expandPrompt, hasVariables, listVariables, MAX_DEPTH, variableDirs } from '../../src/vars/index.ts';

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp, hint?: RegExp): Promise<PyrosError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PyrosError, `not a PyrosError: ${String(error)}`);
    assert.equal(error.kind, 'usage');
    assert.match(error.message, pattern);
    if (hint) assert.match(hintOf(error) ?? '', hint);
    return error;
  }
  assert.fail(`expected an error matching ${pattern}`);
}

const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'black', 'white'];

describe('prompt variables', () => {
  let root: string;
  let main: string;
  let second: string;
  let dirs: string[];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pyros-vars-'));
    main = join(root, 'main');
    second = join(root, 'second');
    await mkdir(join(main, 'styles'), { recursive: true });
    await mkdir(join(main, 'chain'), { recursive: true });
    await mkdir(second, { recursive: true });
    await writeFile(join(main, 'color.txt'), `# colours\n\n${COLORS.join('\n')}\n   \n# end\n`);
    await writeFile(join(main, 'animal.md'), '# Animals\n\n- fox\n- owl\n- cat\n');
    await writeFile(join(main, 'styles', 'painters.txt'), 'in the style of Monet\nin the style of Turner\n');
    await writeFile(join(main, 'styles', 'photo.txt'), '35mm photograph\n');
    await writeFile(join(main, 'scene.txt'), 'a __color__ __animal__\n');
    await writeFile(join(main, 'loop-a.txt'), 'then __loop-b__\n');
    await writeFile(join(main, 'loop-b.txt'), 'and __loop-a__\n');
    await writeFile(join(main, 'self.txt'), 'again __self__\n');
    await writeFile(join(main, 'empty.txt'), '# nothing\n\n');
    for (let i = 0; i <= MAX_DEPTH + 1; i++) await writeFile(join(main, 'chain', `v${i}.txt`), i === MAX_DEPTH + 1 ? 'end\n' : `__chain/v${i + 1}__\n`);
    // A second folder: its color is shadowed by the first one, its weather is new.
    await writeFile(join(second, 'color.txt'), 'never used\n');
    await writeFile(join(second, 'weather.txt'), 'rain\nsnow\n');
    await writeFile(join(root, 'secret.txt'), 'outside\n');
    dirs = [main, second];
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('picks an entry from the seed: the same seed gives the same expansion, other seeds vary', async () => {
    const first = await expandPrompt('a __color__ car', { seed: 42, dirs });
    const again = await expandPrompt('a __color__ car', { seed: 42, dirs });
    assert.deepEqual(again, first);
    assert.equal(first.template, 'a __color__ car');
    const value = first.text.slice(2, -4);
    assert.ok(COLORS.includes(value), first.text);
    assert.deepEqual(first.choices, [{ variable: 'color', index: COLORS.indexOf(value) + 1, value }]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) seen.add((await expandPrompt('a __color__ car', { seed, dirs })).text);
    assert.ok(seen.size >= 5, `only ${seen.size} different expansions over 40 seeds`);
  });

  it('gives each occurrence its own choice', async () => {
    const texts = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const { text, choices } = await expandPrompt('__color__/__color__', { seed, dirs });
      assert.equal(choices.length, 2);
      texts.add(String(choices[0]?.value === choices[1]?.value));
      assert.equal(text, `${choices[0]?.value}/${choices[1]?.value}`);
    }
    assert.ok(texts.has('false'), 'two occurrences never differed');
  });

  it('stays the same across versions and machines (pinned choices)', async () => {
    // A change here means old sidecars no longer reproduce: the generator must not change.
    assert.deepEqual([0, 1, 2, 3, 4].map((occurrence) => pick(occurrenceRandom(1234, '__color__', occurrence), 8)), [6, 4, 7, 2, 3]);
    assert.deepEqual([1, 2, 3].map((seed) => pick(occurrenceRandom(seed, 'a __color__ car', 0), 1000)), [614, 820, 718]);
    const { text } = await expandPrompt('__color__', { seed: 1234, dirs });
    assert.equal(text, COLORS[6]);
  });

  it('takes the Nth entry with __name:N__, not counting blank lines and comments', async () => {
    const { text, choices } = await expandPrompt('__color:1__ and __color:3__ and __animal:2__', { seed: 1, dirs });
    assert.equal(text, 'red and blue and owl');
    assert.deepEqual(choices, [
      { variable: 'color', index: 1, value: 'red' },
      { variable: 'color', index: 3, value: 'blue' },
      { variable: 'animal', index: 2, value: 'owl' },
    ]);
  });

  it('refuses an index out of range', async () => {
    await rejectsWith(expandPrompt('__color:9__', { seed: 1, dirs }), /"color" has 8 entries .*no entry 9/, /from 1 to 8/);
    await rejectsWith(expandPrompt('__color:0__', { seed: 1, dirs }), /counting from 1/);
  });

  it('picks from any file of a folder with __folder/*__', async () => {
    const values = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const { text, choices } = await expandPrompt('__styles/*__', { seed, dirs });
      values.add(text);
      assert.equal(choices.length, 1);
      assert.match(choices[0]?.variable ?? '', /^styles\/(painters|photo)$/);
      // The recorded variable and index give the same entry back.
      const again = await expandPrompt(`__${choices[0]?.variable}:${choices[0]?.index}__`, { seed: 0, dirs });
      assert.equal(again.text, text);
    }
    assert.deepEqual([...values].sort(), ['35mm photograph', 'in the style of Monet', 'in the style of Turner']);
  });

  it('expands variables inside chosen entries', async () => {
    const { text, choices } = await expandPrompt('__scene__, __styles/photo__', { seed: 7, dirs });
    assert.match(text, /^a (\w+) (fox|owl|cat), 35mm photograph$/);
    assert.deepEqual(
      choices.map((c) => c.variable),
      ['scene', 'color', 'animal', 'styles/photo'],
    );
  });

  it('stops on a cycle with the path in the message', async () => {
    await rejectsWith(expandPrompt('x __loop-a__', { seed: 1, dirs }), /Variable cycle: __loop-a__ → __loop-b__ → __loop-a__/);
    await rejectsWith(expandPrompt('__self__', { seed: 1, dirs }), /Variable cycle: __self__ → __self__/);
  });

  it('stops when variables nest deeper than the limit', async () => {
    await rejectsWith(expandPrompt('__chain/v0__', { seed: 1, dirs }), new RegExp(`more than ${MAX_DEPTH} levels deep`));
    const shallow = await expandPrompt(`__chain/v2__`, { seed: 1, dirs });
    assert.equal(shallow.text, 'end');
  });

  it('suggests the closest names for an unknown variable', async () => {
    const error = await rejectsWith(expandPrompt('a __colr__ car', { seed: 1, dirs }), /Unknown variable __colr__: no colr\.txt or colr\.md/, /Did you mean __color__/);
    assert.ok(error.message.includes(main));
    await rejectsWith(expandPrompt('__painters__', { seed: 1, dirs }), /Unknown variable __painters__/, /__styles\/painters__/);
    await rejectsWith(expandPrompt('__zzzzqqq__', { seed: 1, dirs }), /Unknown variable/, /Create zzzzqqq\.txt/);
    await rejectsWith(expandPrompt('__nostyle/*__', { seed: 1, dirs }), /no folder "nostyle"/);
    await rejectsWith(expandPrompt('__styles__', { seed: 1, dirs }), /is a folder of variables/, /__styles\/\*__/);
    await rejectsWith(expandPrompt('__empty__', { seed: 1, dirs }), /has no entries/);
  });

  it('uses the first folder that has a name and falls back to later ones', async () => {
    for (let seed = 0; seed < 10; seed++) assert.notEqual((await expandPrompt('__color__', { seed, dirs })).text, 'never used');
    const { text } = await expandPrompt('__weather:2__', { seed: 1, dirs });
    assert.equal(text, 'snow');
  });

  it('never reads outside the variable folders', async () => {
    for (const template of ['__../secret__', '__/etc/passwd__', '__main/../../secret__', '__..\\secret__', '__a/../secret__', '__../*__']) {
      await rejectsWith(expandPrompt(template, { seed: 1, dirs: [main] }), /is not a valid variable/);
    }
  });

  it('fills the system variables __date__, __time__ and __seed__', async () => {
    const now = new Date(2025, 2, 7, 9, 5, 3);
    const { text, choices } = await expandPrompt('__date__ __time__ seed __seed__', { seed: 987654321, dirs, now });
    assert.equal(text, '2025-03-07 09-05-03 seed 987654321');
    assert.deepEqual(choices, []);
  });

  it('leaves text without variables alone', async () => {
    assert.equal(hasVariables('a plain_prompt with _single_ underscores'), false);
    assert.equal(hasVariables('a __color__ car'), true);
    const { text } = await expandPrompt('snake_case and __ alone __', { seed: 1, dirs });
    assert.equal(text, 'snake_case and __ alone __');
  });

  it('lists variables with their files, entry counts and samples; earlier folders shadow later ones', async () => {
    const list = await listVariables(dirs);
    const names = list.map((v) => v.name);
    assert.ok(names.includes('color') && names.includes('styles/painters') && names.includes('styles/*') && names.includes('weather'));
    const color = list.find((v) => v.name === 'color');
    assert.deepEqual(color?.files, [join(main, 'color.txt'), join(second, 'color.txt')]);
    assert.equal(color?.entries, 8);
    assert.deepEqual(color?.samples, ['red', 'green', 'blue']);
    const styles = list.find((v) => v.name === 'styles/*');
    assert.equal(styles?.entries, 3);
    assert.deepEqual(names, [...names].sort());
  });

  it('orders the folders: --vars, the user config folder, the bundled set', async () => {
    const found = variableDirs({ varsDir: main, env: { XDG_CONFIG_HOME: join(root, 'cfg') } });
    assert.equal(found[0], main);
    assert.equal(found.at(-1), bundledVariablesDir());
    if (process.platform === 'linux') assert.equal(found[1], join(root, 'cfg', 'pyros', 'vars'));
    assert.throws(() => variableDirs({ varsDir: join(root, 'missing') }), /does not exist/);
  });

  it('ships a bundled set that expands', async () => {
    const bundled = [bundledVariablesDir()];
    const list = await listVariables(bundled);
    for (const name of ['color', 'animal', 'style', 'lighting', 'artist/*']) {
      const info = list.find((v) => v.name === name);
      assert.ok(info && info.entries >= 10, `${name}: ${info?.entries}`);
    }
    const { text } = await expandPrompt('__scene__ by __artist/*__', { seed: 5, dirs: bundled });
    assert.doesNotMatch(text, /__/);
  });
});
