import assert from 'node:assert/strict';
import { hintOf } from '../../../src/cli/errors/explain.ts';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { loadWorkflow } from '../../../src/workflow/load.ts';
import { readWorkflowSource, workflowSourceFromBytes } from '../../../src/workflow/source.ts';
import { flipBits, mediaBytes, mediaFixture, pngChunk, pngChunks, rewritePng, textChunk, usageError, writeTemp } from './helpers.ts';

const saved = mediaBytes('saveimage.png');
const embedded = Object.fromEntries(pngChunks(saved).filter((c) => c.type === 'tEXt').map((c) => [textChunk(c).key, textChunk(c).text]));

test('SaveImage PNG: the tEXt prompt is the API workflow, the tEXt workflow the editor one', async () => {
  const source = await readWorkflowSource(mediaFixture('saveimage.png'));
  assert.equal(source.origin, 'png');
  assert.equal(source.format, 'PNG');
  assert.deepEqual(source.api, JSON.parse(embedded['prompt'] ?? ''));
  assert.deepEqual(source.api?.['2'], { class_type: 'ImageAddNoise', inputs: { image: ['1', 0], seed: 42, strength: 0.1 } });
  assert.deepEqual(source.editor, JSON.parse(embedded['workflow'] ?? ''));
  assert.deepEqual(source.editor?.nodes.map((node) => (node as { type: string }).type), ['EmptyImage', 'ImageAddNoise', 'SaveImage']);
  assert.deepEqual((source.editor?.nodes[1] as { widgets_values: unknown[] }).widgets_values, [42, 'fixed', 0.1]);
});

test('a PNG saved without extra_pnginfo has the API prompt and no editor workflow', async () => {
  const source = await readWorkflowSource(mediaFixture('saveimage-prompt-only.png'));
  assert.equal(source.origin, 'png');
  assert.equal(source.editor, undefined);
  assert.equal(source.api?.['2']?.class_type, 'SaveImage');
  assert.deepEqual(await loadWorkflow(mediaFixture('saveimage-prompt-only.png')), source.api);
});

test('SaveAnimatedPNG: an APNG with the prompt and workflow in comf chunks after the frames', async () => {
  const apng = mediaBytes('saveanimatedpng.png');
  assert.deepEqual(pngChunks(apng).map((chunk) => chunk.type), ['IHDR', 'acTL', 'fcTL', 'IDAT', 'fcTL', 'fdAT', 'comf', 'comf', 'IEND']);
  const source = await readWorkflowSource(mediaFixture('saveanimatedpng.png'));
  assert.equal(source.origin, 'png');
  assert.equal(source.format, 'animated PNG');
  assert.equal(source.api?.['4']?.class_type, 'SaveAnimatedPNG');
  assert.equal(source.api?.['4']?.inputs['compress_level'], 9);
  assert.equal(source.editor?.nodes.length, 4);
});

test('zTXt and iTXt chunks (compressed or not) are read like tEXt', async () => {
  const expected = await readWorkflowSource(mediaFixture('saveimage.png'));
  const variants: Record<string, (key: string, text: string) => Buffer> = {
    zTXt: (key, text) => pngChunk('zTXt', Buffer.concat([Buffer.from(`${key}\0\0`, 'latin1'), deflateSync(Buffer.from(text, 'latin1'))])),
    'iTXt plain': (key, text) => pngChunk('iTXt', Buffer.concat([Buffer.from(`${key}\0\0\0en\0${key}\0`, 'latin1'), Buffer.from(text, 'utf8')])),
    'iTXt compressed': (key, text) => pngChunk('iTXt', Buffer.concat([Buffer.from(`${key}\0\x01\0\0\0`, 'latin1'), deflateSync(Buffer.from(text, 'utf8'))])),
  };
  for (const [name, encode] of Object.entries(variants)) {
    const png = rewritePng(saved, (chunk) => (chunk.type === 'tEXt' ? encode(textChunk(chunk).key, textChunk(chunk).text) : pngChunk(chunk.type, chunk.data)));
    assert.ok(!pngChunks(png).some((chunk) => chunk.type === 'tEXt'), name);
    const source = await workflowSourceFromBytes(png, `${name}.png`);
    assert.deepEqual(source.api, expected.api, name);
    assert.deepEqual(source.editor, expected.editor, name);
  }
});

test('a PNG without metadata: one error that says no workflow is embedded and why', async () => {
  const path = mediaFixture('bare-saveimage.png');
  const error = await usageError(() => readWorkflowSource(path));
  assert.equal(error.message, `${path}: this PNG image has no workflow embedded.`);
  assert.match(hintOf(error) ?? '', /does not keep metadata/);
  assert.match(hintOf(error) ?? '', /--disable-metadata/);
  assert.match((await usageError(() => loadWorkflow(mediaFixture('bare-saveanimatedpng.png')))).message, /this animated PNG image has no workflow embedded/);
});

test('text chunks of another tool are named when no workflow is there', async () => {
  const png = rewritePng(mediaBytes('bare-saveimage.png'), (chunk) =>
    chunk.type === 'IDAT' ? [pngChunk('tEXt', Buffer.from('parameters\0a fox, Steps: 20', 'latin1')), pngChunk(chunk.type, chunk.data)] : pngChunk(chunk.type, chunk.data),
  );
  const error = await usageError(() => workflowSourceFromBytes(png, 'other.png'));
  assert.match(error.message, /other metadata \("parameters"\) but no "prompt" or "workflow"/);
  assert.deepEqual(error.fields.candidates, ['parameters']);
});

test('a truncated PNG is one clear error, wherever it is cut', async () => {
  const textEnd = pngChunks(saved).find((chunk) => chunk.type === 'IDAT')?.offset ?? 0;
  for (const length of [20, 100, textEnd - 3, textEnd + 30, saved.length - 12, saved.length - 1]) {
    const error = await usageError(() => workflowSourceFromBytes(saved.subarray(0, length), 'cut.png'));
    assert.match(error.message, /^cut\.png is a truncated PNG file: it ends (inside|at byte)/, `cut at ${length}`);
    assert.match(hintOf(error) ?? '', /cut short/);
  }
  const error = await usageError(() => workflowSourceFromBytes(saved.subarray(0, saved.length - 12), 'cut.png'));
  assert.equal(error.message, `cut.png is a truncated PNG file: it ends at byte ${saved.length - 12}, before the IEND chunk that closes a PNG.`);
});

test('a corrupt text chunk fails its CRC check and is named', async () => {
  const workflow = pngChunks(saved).find((chunk) => chunk.type === 'tEXt' && textChunk(chunk).key === 'workflow');
  assert.ok(workflow);
  const damaged = Buffer.from(saved);
  flipBits(damaged, workflow.offset + 8 + 40, 0x20);
  const error = await usageError(() => workflowSourceFromBytes(damaged, 'flipped.png'));
  assert.equal(error.message, `flipped.png is a damaged PNG file: the tEXt chunk at byte ${workflow.offset} fails its CRC check.`);
});

test('a chunk whose CRC holds but whose JSON does not parse is named with the key', async () => {
  const png = rewritePng(saved, (chunk) => {
    const text = chunk.type === 'tEXt' ? textChunk(chunk) : undefined;
    return text?.key === 'prompt' ? pngChunk('tEXt', Buffer.from(`prompt\0${text.text.slice(0, -5)}`, 'latin1')) : pngChunk(chunk.type, chunk.data);
  });
  const error = await usageError(() => workflowSourceFromBytes(png, 'broken.png'));
  assert.match(error.message, /^broken\.png: the "prompt" embedded in this PNG \(tEXt chunk\) is not valid JSON: /);
});

test('an undecompressable zTXt chunk is reported as damage', async () => {
  const png = rewritePng(saved, (chunk) => (chunk.type === 'tEXt' ? pngChunk('zTXt', Buffer.from(`${textChunk(chunk).key}\0\0not zlib`, 'latin1')) : pngChunk(chunk.type, chunk.data)));
  const error = await usageError(() => workflowSourceFromBytes(png, 'z.png'));
  assert.match(error.message, /^z\.png is a damaged PNG file: the zTXt chunk at byte \d+ does not decompress/);
});

test('NaN and Infinity written by Python json.dumps are read as null', async () => {
  const png = rewritePng(saved, (chunk) => {
    const text = chunk.type === 'tEXt' ? textChunk(chunk) : undefined;
    if (text?.key !== 'prompt') return pngChunk(chunk.type, chunk.data);
    return pngChunk('tEXt', Buffer.from(`prompt\0${text.text.replace('"strength": 0.1', '"strength": NaN, "note": "NaN stays", "limit": -Infinity')}`, 'latin1'));
  });
  const source = await workflowSourceFromBytes(png, 'nan.png');
  assert.deepEqual(source.api?.['2']?.inputs, { image: ['1', 0], seed: 42, strength: null, note: 'NaN stays', limit: null });
});

test('a PNG holding only the editor workflow: returned as editor, and loadWorkflow says the API prompt is missing', async () => {
  const png = rewritePng(saved, (chunk) => (chunk.type === 'tEXt' && textChunk(chunk).key === 'prompt' ? undefined : pngChunk(chunk.type, chunk.data)));
  const path = writeTemp('editor-only.png', png);
  const source = await readWorkflowSource(path);
  assert.equal(source.api, undefined);
  assert.equal(source.editor?.nodes.length, 3);
  const error = await usageError(() => loadWorkflow(path));
  assert.equal(error.message, `${path} holds only the editor-format workflow (its PNG metadata has no "prompt"), not the API format pyros submits.`);
});

test('an image damaged outside the metadata still gives its workflow (image data is not read)', async () => {
  const idat = pngChunks(saved).find((chunk) => chunk.type === 'IDAT');
  assert.ok(idat);
  const damaged = Buffer.from(saved);
  flipBits(damaged, idat.offset + 10, 0xff);
  assert.equal((await workflowSourceFromBytes(damaged, 'pixels.png')).api?.['2']?.inputs['seed'], 42);
});
