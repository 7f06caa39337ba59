import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadWorkflow, parseWorkflow } from '../../../src/workflow/load.ts';
import { readWorkflowSource, workflowSourceFromBytes } from '../../../src/workflow/source.ts';
import { fixturePath, trafficWorkflow } from '../fixtures.ts';
import { mediaBytes, mediaFixture, usageError, writeTemp } from './helpers.ts';

test('the format comes from the content, not the name: a PNG named .json, a video named .flac', async () => {
  const png = await readWorkflowSource(writeTemp('really-a-png.json', mediaBytes('saveimage.png')));
  assert.deepEqual([png.origin, png.format], ['png', 'PNG']);
  const video = await readWorkflowSource(writeTemp('really-a-video.flac', mediaBytes('savevideo.mp4')));
  assert.deepEqual([video.origin, video.format], ['video', 'MP4']);
  const webp = await readWorkflowSource(writeTemp('no-extension', mediaBytes('saveanimatedwebp.webp')));
  assert.equal(webp.origin, 'webp');
});

test('JSON named .png is read as JSON, API or editor format', async () => {
  const api = await readWorkflowSource(writeTemp('api.png', readFileSync(fixturePath('traffic/a_success.workflow.json'))));
  assert.equal(api.origin, 'api-json');
  assert.deepEqual(api.api, trafficWorkflow('a_success'));
  const editor = await readWorkflowSource(writeTemp('editor.webp', readFileSync(fixturePath('workflows/ui_format.json'))));
  assert.equal(editor.origin, 'editor-json');
  assert.equal(editor.api, undefined);
  assert.equal(editor.editor?.nodes.length, 7);
});

test('an editor-format JSON keeps the error loadWorkflow always gave', async () => {
  const path = fixturePath('workflows/ui_format.json');
  const error = await usageError(() => loadWorkflow(path));
  assert.equal(error.message, `${path} is a workflow in the ComfyUI editor format (top-level "nodes" and "links"), not the API format pyros submits.`);
});

test('a POST /prompt body brings the editor workflow of its extra_pnginfo along', async () => {
  const body = readFileSync(mediaFixture('sim-reference.request.json'), 'utf8');
  const parsed = JSON.parse(body);
  const source = await workflowSourceFromBytes(Buffer.from(body), 'body.json');
  assert.equal(source.origin, 'api-json');
  assert.deepEqual(source.api, parsed.prompt);
  assert.deepEqual(source.editor, parsed.extra_data.extra_pnginfo.workflow);
  assert.deepEqual(parseWorkflow(body, 'body.json'), parsed.prompt);
});

test('JSON that is no workflow at all says so', async () => {
  const path = writeTemp('package.json', JSON.stringify({ name: 'pyros', version: '1.0.0', scripts: { test: 'node --test' } }));
  const error = await usageError(() => readWorkflowSource(path));
  assert.equal(error.message, `${path} is JSON but not a ComfyUI workflow: it has neither nodes with a "class_type" (API format) nor "nodes" and "links" (editor format).`);
  // Maps of node ids keep naming the offending node, as before.
  assert.match((await usageError(() => parseWorkflow('{"4": "VAELoader"}', 'w.json'))).message, /node "4" is a string, not an object/);
});

test('bytes that are neither JSON nor a known container', async () => {
  const error = await usageError(() => workflowSourceFromBytes(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x10, 0x20]), 'blob.bin'));
  assert.equal(error.message, 'blob.bin is not a workflow: it is neither JSON nor an image, video or audio file that ComfyUI saves.');
});

test('a JPEG is recognised, and the error says ComfyUI never embeds workflows in JPEGs', async () => {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0', 'latin1'), Buffer.alloc(32)]);
  const error = await usageError(() => workflowSourceFromBytes(jpeg, 'photo.png'));
  assert.equal(error.message, 'photo.png: this JPEG image has no workflow embedded. ComfyUI does not embed workflows in JPEG files.');
});

test('a PNG cut inside its signature is still a truncated PNG', async () => {
  const error = await usageError(() => workflowSourceFromBytes(mediaBytes('saveimage.png').subarray(0, 5), 'tiny.png'));
  assert.match(error.message, /^tiny\.png is a truncated PNG file/);
});

test('an empty file keeps its message', async () => {
  const empty = writeTemp('empty.png', '');
  assert.equal((await usageError(() => readWorkflowSource(empty))).message, `${empty} is empty.`);
});
