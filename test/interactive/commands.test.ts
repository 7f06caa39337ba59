/** The /commands and Tab completion, on a session with the example workflow (no server needed). */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommand, QUIT, runCommand } from '../../src/cli/interactive/commands.ts';
import { commonPrefix, completionsFor, readlineCompletion } from '../../src/cli/interactive/completion.ts';
import { parseCount, parseSeedMode, Session } from '../../src/cli/interactive/session.ts';
import type { CommandContext } from '../../src/cli/context.ts';
import { resolveRunSettings, type RunFlags } from '../../src/cli/run-settings.ts';

const WORKFLOW = fileURLToPath(new URL('../../examples/txt2img.json', import.meta.url));

async function newSession(extra: RunFlags = {}): Promise<{ session: Session; printed: string[] }> {
  const printed: string[] = [];
  const context: CommandContext = {
    config: {},
    connection: { servers: ['http://127.0.0.1:9'], headers: {}, token: undefined, insecure: false },
    secrets: [],
    requestTimeoutMs: undefined,
    pingIntervalMs: undefined,
    quietCheckMs: undefined,
    json: false,
    verbose: false,
    color: false,
    env: {},
  };
  const settings = await resolveRunSettings(undefined, { workflow: WORKFLOW, ...extra }, context);
  const session = await Session.create({
    context,
    settings,
    io: { print: (text) => printed.push(text), reporterFor: () => assert.fail('no job in these tests'), showImage: () => false, color: false },
  });
  return { session, printed };
}

function source(session: Session) {
  return { workflow: session.workflowGraph, stickyTargets: session.stickyTargets, variableNames: () => session.variableNames() };
}

describe('interactive commands', () => {
  let session: Session;
  let printed: string[];
  let vars = '';
  before(async () => {
    vars = mkdtempSync(join(tmpdir(), 'pyros-vars-'));
    writeFileSync(join(vars, 'color.txt'), '# colours\nred\ngreen\n\nblue\nteal\n');
    mkdirSync(join(vars, 'style'));
    writeFileSync(join(vars, 'style', 'painter.txt'), 'oil\nwatercolor\n');
    ({ session, printed } = await newSession({ vars }));
  });
  after(async () => {
    await session.close();
    rmSync(vars, { recursive: true, force: true });
  });

  const run = async (line: string): Promise<string> => {
    printed.length = 0;
    const result = await runCommand(session, line);
    assert.equal(result, undefined);
    assert.equal(printed.length, 1, `one message for ${line}: ${JSON.stringify(printed)}`);
    return printed[0] ?? '';
  };

  it('parses a command and its argument', () => {
    assert.deepEqual(parseCommand('/set  KSampler.steps=30 '), { name: 'set', arg: 'KSampler.steps=30' });
    assert.deepEqual(parseCommand('/QUIT'), { name: 'quit', arg: '' });
    assert.equal(parseCommand('a prompt'), undefined);
  });

  it('answers an unknown command or a bad argument with one line, and goes on', async () => {
    assert.match(await run('/sed 4'), /^✖ Unknown command \/sed\. Did you mean \/seed or \/set\?/);
    assert.match(await run('/frobnicate'), /^✖ Unknown command \/frobnicate\. Type \/help for the list\.$/);
    assert.match(await run('/count zero'), /^✖ The count must be a whole number from 1 to 100 \(got "zero"\)\.$/);
    assert.match(await run('/seed -3'), /^✖ Invalid seed "-3": a seed cannot be negative\./);
    assert.match(await run('/set Nope.steps=3'), /^✖ \/set "Nope\.steps": no node "Nope" in the workflow\./);
    assert.match(await run('/set KSampler.model=3'), /is connected to/);
    assert.match(await run('/set KSampler.steps'), /has no value/);
    assert.match(await run('/set Load Checkpoint.ckpt_name=@/nonexistent/photo.png'), /cannot read \/nonexistent\/photo\.png \(no such file\); nothing was sent\./);
    assert.match(await run('/last'), /^✖ No image saved in this session yet\./);
    assert.match(await run('/vars now'), /^✖ \/vars takes no argument/);
    assert.match(await run('/cancel'), /^No job is running\.$/);
    assert.match(await run('/'), /^✖ A "\/" alone is not a command\./);
    assert.equal(await runCommand(session, '/quit'), QUIT);
  });

  it('keeps /set until /unset, checked against the workflow', async () => {
    assert.match(await run('/set KSampler.steps=30'), /#3 \(KSampler\)\.steps = 30 for every job/);
    assert.match(await run('/set 5.width=768'), /"Empty Latent Image" \(EmptyLatentImage\)\.width = 768/);
    assert.match(await run('/set KSampler.steps=12'), /steps = 12/);
    assert.deepEqual(session.stickyTargets, ['5.width', 'KSampler.steps']);
    assert.equal(await run('/set'), '  5.width=768\n  KSampler.steps=12');
    assert.match(await run('/unset 3.steps'), /Removed the \/set of 3\.steps/);
    assert.match(await run('/unset KSampler.cfg'), /no \/set for it is in effect\. In effect: 5\.width\./);
    assert.match(await run('/unset'), /Removed 1 \/set;/);
    assert.deepEqual(session.stickyTargets, []);
  });

  it('changes the count and the seed mode', async () => {
    assert.equal(await run('/count 3'), 'Each prompt now runs 3 jobs.');
    assert.equal(await run('/seed 42'), 'Seed 42 for every job.');
    assert.equal(await run('/seed 42+'), 'Seeds 42, 43, … for the jobs of each prompt.');
    assert.match(await run('/seed keep'), /keep the workflow’s seed/);
    assert.equal(await run('/seed random'), 'Every job gets a new random seed.');
    assert.equal(await run('/count 1'), 'Each prompt now runs 1 job.');
    assert.deepEqual(parseSeedMode(' Random '), { kind: 'random' });
    assert.deepEqual(parseSeedMode('7'), { kind: 'fixed', value: 7 });
    assert.deepEqual(parseSeedMode('7+'), { kind: 'sequence', start: 7 });
    assert.throws(() => parseCount('101'), /from 1 to 100/);
  });

  it('lists the prompt variables with a few values', async () => {
    const text = await run('/vars');
    assert.match(text, /^\d+ variables \(name, entries, first values\):/);
    assert.match(text, /__animal__ +\d+ /, 'the bundled ones too');
    assert.match(text, /__color__ +4 +red, green, blue, …/);
    assert.match(text, /__style\/painter__ +2 +oil, watercolor$/m);
  });

  it('loads another workflow and refuses a missing one', async () => {
    assert.match(await run(`/workflow ${WORKFLOW}`), /Workflow .*txt2img\.json \(7 nodes\)\./);
    assert.match(await run('/workflow /nonexistent/flow.json'), /^✖ .*flow\.json/);
    assert.match(await run('/workflow'), /^✖ \/workflow needs a file/);
    assert.ok(session.hasWorkflow);
  });
});

describe('tab completion', () => {
  let session: Session;
  let vars = '';
  before(async () => {
    vars = mkdtempSync(join(tmpdir(), 'pyros-vars-'));
    writeFileSync(join(vars, 'color.txt'), 'red\n');
    writeFileSync(join(vars, 'colour_scheme.txt'), 'dark\n');
    writeFileSync(join(vars, 'lighting.txt'), 'soft\n');
    ({ session } = await newSession({ vars }));
  });
  after(async () => {
    await session.close();
    rmSync(vars, { recursive: true, force: true });
  });

  it('completes /commands', async () => {
    assert.deepEqual(await completionsFor(source(session), '/co'), { word: '/co', candidates: ['/count '] });
    assert.deepEqual((await completionsFor(source(session), '/s')).candidates, ['/seed ', '/set ', '/server ']);
    assert.deepEqual((await completionsFor(source(session), '/q')).candidates, ['/quit']);
  });

  it('completes node titles, then their inputs, after /set', async () => {
    assert.deepEqual(await completionsFor(source(session), '/set K'), { word: 'K', candidates: ['KSampler.'] });
    assert.deepEqual(await completionsFor(source(session), '/set Positive'), { word: 'Positive', candidates: ['Positive Prompt.text='] });
    assert.deepEqual((await completionsFor(source(session), '/set KSampler.s')).candidates, ['KSampler.seed=', 'KSampler.steps=', 'KSampler.sampler_name=', 'KSampler.scheduler=']);
    assert.deepEqual((await completionsFor(source(session), '/set ksampler.st')).candidates, ['KSampler.steps='], 'any case');
    assert.deepEqual((await completionsFor(source(session), '/set 5.')).candidates, ['5.width=', '5.height=', '5.batch_size='], 'by id');
    const nodes = (await completionsFor(source(session), '/set ')).candidates;
    assert.ok(nodes.includes('Load Checkpoint.') && nodes.includes('Negative Prompt.') && !nodes.includes('VAE Decode.'), `nodes with inputs to set: ${nodes}`);
  });

  it('completes __variables__ anywhere in a prompt, and /seed words', async () => {
    assert.deepEqual(await completionsFor(source(session), 'a house in __li'), { word: '__li', candidates: ['__lighting__'] });
    assert.deepEqual((await completionsFor(source(session), 'a __color__ house, __col')).candidates, ['__color__', '__colour_scheme__']);
    assert.deepEqual((await completionsFor(source(session), 'a __color__ house')).candidates, []);
    assert.deepEqual((await completionsFor(source(session), '/seed r')).candidates, ['random']);
  });

  it('inserts what the candidates share, or lists them when that adds nothing', async () => {
    const listed: string[] = [];
    assert.deepEqual(await readlineCompletion(source(session), '/set KSampler.s', (text) => listed.push(text), 80), [[], 'KSampler.s']);
    assert.equal(listed.length, 1);
    assert.match(listed[0] ?? '', /KSampler\.seed=\s+KSampler\.steps=/);
    assert.deepEqual(await readlineCompletion(source(session), '/set KSampler.sc', (text) => listed.push(text), 80), [['KSampler.scheduler='], 'KSampler.sc']);
    assert.deepEqual((await readlineCompletion(source(session), 'x __c', (text) => listed.push(text), 80))[0], ['__color__', '__colour_scheme__']);
    assert.equal(commonPrefix(['__color__', '__colour_scheme__']), '__colo');
  });
});
