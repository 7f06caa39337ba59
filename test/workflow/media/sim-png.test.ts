/**
 * The simulator's SaveImage embeds the prompt and extra_pnginfo like ComfyUI's: the same tEXt
 * chunks, in the same order, byte for byte, as the real server wrote for the same request
 * (sim-reference.png). Checked over real HTTP, then read back as a workflow source.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sidecarContext } from '../../../src/pipeline/sidecar.ts';
import { ComfyApi } from '../../../src/client/api.ts';
import { parseEndpoint } from '../../../src/client/endpoint.ts';
import { saveOutput } from '../../../src/outputs/save.ts';
import { startSim, type SimServer } from '../../../src/sim/index.ts';
import { seedValues } from '../../../src/workflow/seed-values.ts';
import { readWorkflowSource, workflowSourceFromBytes } from '../../../src/workflow/source.ts';
import { http, TestSocket } from '../../sim/helpers.ts';
import { mediaBytes, mediaFixture, pngChunks, writeTemp } from './helpers.ts';

const requestText = readFileSync(mediaFixture('sim-reference.request.json'), 'utf8');
const request = JSON.parse(requestText);

/** Every chunk but the image data (the simulator's encoder filters and compresses differently). */
function metadataChunks(png: Buffer): [string, string][] {
  return pngChunks(png)
    .filter((chunk) => chunk.type !== 'IDAT')
    .map((chunk) => [chunk.type, chunk.data.toString('latin1')]);
}

describe('the simulator embeds the workflow in the PNGs it saves', () => {
  let sim: SimServer;
  let png: Buffer;
  let promptId: string;

  before(async () => {
    sim = await startSim({ stepMs: 1 });
    const socket = await TestSocket.open(sim.url, request.client_id);
    const posted = await http(sim.url, 'POST', '/prompt', requestText, { 'content-type': 'application/json' });
    assert.equal(posted.status, 200, posted.text);
    promptId = posted.json.prompt_id;
    await socket.waitForCompletion(promptId);
    await socket.close();
    const history = (await http(sim.url, 'GET', `/history/${promptId}`)).json;
    const image = history[promptId].outputs['1'].images[0];
    assert.equal(image.filename, 'sim_reference_00001_.png');
    png = (await http(sim.url, 'GET', `/view?filename=${image.filename}&subfolder=&type=output`)).body;
  });
  after(() => sim.close());

  test('the same chunks, keywords and texts as the real SaveImage, in the same order', () => {
    const expected = metadataChunks(mediaBytes('sim-reference.png'));
    assert.deepEqual(expected.map(([type, data]) => (type === 'tEXt' ? data.slice(0, data.indexOf('\0')) : type)), ['IHDR', 'prompt', 'workflow', 'note', 'IEND']);
    assert.deepEqual(metadataChunks(png), expected);
  });

  test('read back, the PNG gives the posted prompt and editor workflow', async () => {
    const source = await workflowSourceFromBytes(png, 'sim.png');
    assert.equal(source.origin, 'png');
    assert.deepEqual(source.api, request.prompt);
    assert.deepEqual(source.editor, request.extra_data.extra_pnginfo.workflow);
  });

  test('the history entry is a source too, with the editor workflow from its extra_data', async () => {
    const history = (await http(sim.url, 'GET', `/history/${promptId}`)).text;
    const source = await readWorkflowSource(writeTemp('history.json', history));
    assert.equal(source.origin, 'api-json');
    assert.deepEqual(source.api, request.prompt);
    assert.deepEqual(source.editor, request.extra_data.extra_pnginfo.workflow);
  });

  test("pyros's .json sidecar and the saved image both lead back to the workflow", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pyros-sidecar-'));
    const api = new ComfyApi(parseEndpoint(sim.url), { idleTimeoutMs: 5000 });
    try {
      const context = sidecarContext({ dir, record: { workflowFile: 'reference.json' }, promptId, server: sim.url, workflow: request.prompt, seeds: seedValues(request.prompt) });
      const saved = await saveOutput(api, { nodeId: '1', key: 'images', item: { filename: 'sim_reference_00001_.png', subfolder: '', type: 'output' } }, context);
      const sidecar = saved.sidecars.find((path) => path.endsWith('.json'));
      assert.ok(sidecar);
      const fromSidecar = await readWorkflowSource(sidecar);
      assert.equal(fromSidecar.origin, 'sidecar');
      assert.deepEqual(fromSidecar.api, request.prompt);
      const fromImage = await readWorkflowSource(saved.path);
      assert.equal(fromImage.origin, 'png');
      assert.deepEqual(fromImage.api, request.prompt);
    } finally {
      api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a workflow read from a ComfyUI PNG runs on the simulator, and its PNG carries it again', async () => {
    const original = await readWorkflowSource(mediaFixture('saveimage.png'));
    const socket = await TestSocket.open(sim.url, 'round-trip');
    const body = { prompt: original.api, client_id: 'round-trip', extra_data: { extra_pnginfo: { workflow: original.editor } } };
    const posted = await http(sim.url, 'POST', '/prompt', JSON.stringify(body), { 'content-type': 'application/json' });
    assert.equal(posted.status, 200, posted.text);
    await socket.waitForCompletion(posted.json.prompt_id);
    await socket.close();
    const image = (await http(sim.url, 'GET', `/history/${posted.json.prompt_id}`)).json[posted.json.prompt_id].outputs['3'].images[0];
    const again = await workflowSourceFromBytes((await http(sim.url, 'GET', `/view?filename=${image.filename}&type=output`)).body, 'again.png');
    assert.deepEqual(again, original);
  });
});
