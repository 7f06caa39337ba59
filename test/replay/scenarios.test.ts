/**
 * pyros' Client against every recorded scenario, replayed frame for frame: the end state must be
 * the one the real ComfyUI server produced.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { hintOf } from '../../src/cli/errors/explain.ts';
import { PromptRejectedError, type PromptRequest } from '../../src/client/api.ts';
import { decodeBinaryFrame, type BinaryFrame } from '../../src/client/binary.ts';
import { Client } from '../../src/client/client.ts';
import { ExecutionError, InterruptedError } from '../../src/client/job-errors.ts';
import type { ServerMessage } from '../../src/client/messages.ts';
import { PyrosError } from '../../src/errors.ts';
import {
  labelledWorkflows,
  loadRecording,
  recordedBinaries,
  recordedHistory,
  recordedMessages,
  recordedOutputs,
  recordedPromptIds,
  sortOutputs,
  workflow,
} from './recorded-facts.ts';
import { assertDownloads, once, record, withSession } from './session.ts';

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

function imageOf(frame: Buffer): Buffer {
  const decoded = decodeBinaryFrame(frame);
  assert.equal(decoded.kind, 'preview');
  return decoded.image;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the promise to reject');
}

describe('successful runs: outputs are the recorded history outputs and download byte for byte', () => {
  for (const scenario of ['a_success', 'h_preview_and_batch'] as const) {
    it(scenario, async () => {
      const recording = loadRecording(scenario);
      const [recordedId = ''] = recordedPromptIds(recording);
      await withSession(scenario, async (session) => {
        const job = session.client.run(workflow(scenario));
        const result = await job.result;
        assert.equal(result.promptId, job.promptId);
        assert.deepEqual(sortOutputs(result.outputs), recordedOutputs(recording, recordedId));
        assert.equal(result.history.status?.status_str, 'success');
        await assertDownloads(session, recording, result.outputs);
        assert.deepEqual(session.replay.unmatched, []);
      });
    });
  }

  it('h_preview_and_batch lists the 3 temp previews and the 3 files of the subfolder', async () => {
    await withSession('h_preview_and_batch', async ({ client }) => {
      const { outputs } = await client.run(workflow('h_preview_and_batch')).result;
      assert.deepEqual(outputs.map((o) => `${o.nodeId}:${o.item.type}:${o.item.subfolder}`).sort(), [
        '3:temp:',
        '3:temp:',
        '3:temp:',
        '4:output:pyros_fixture_h',
        '4:output:pyros_fixture_h',
        '4:output:pyros_fixture_h',
      ]);
    });
  });

  it('b_cached finishes with the cached output although no node runs', async () => {
    const recording = loadRecording('b_cached');
    const [recordedId = ''] = recordedPromptIds(recording);
    await withSession('b_cached', async (session) => {
      const job = session.client.run(workflow('b_cached'));
      const nodes = record(job, 'node');
      const cached = record(job, 'cached');
      const result = await job.result;
      assert.deepEqual(nodes, [], 'no per-node executing event arrives for a cached run');
      assert.deepEqual(cached.flatMap((c) => c.nodes.map((n) => n.nodeId)), ['1', '2', '3']);
      assert.deepEqual([...result.cachedNodes].sort(), ['1', '2', '3']);
      assert.deepEqual(sortOutputs(result.outputs), recordedOutputs(recording, recordedId));
      await assertDownloads(session, recording, result.outputs);
      assert.deepEqual(session.replay.unmatched, []);
    });
  });

  it('l_upload_image: the upload reaches the server, the run uses it, input and output download', async () => {
    const recording = loadRecording('l_upload_image');
    const [recordedId = ''] = recordedPromptIds(recording);
    const uploadRequest = recording.exchanges.find((e) => e.request.path === '/upload/image')?.request.multipart as {
      files: { filename: string; content_type: string; base64: string }[];
    };
    const file = uploadRequest.files[0];
    assert.ok(file);
    const data = Buffer.from(file.base64, 'base64');
    await withSession('l_upload_image', async (session) => {
      const { client, replay } = session;
      const stored = await client.api.uploadImage({ name: file.filename, data, contentType: file.content_type }, { overwrite: true });
      assert.deepEqual(stored, { name: 'pyros_upload.png', subfolder: '', type: 'input' });
      const sent = replay.requests.find((r) => r.path === '/upload/image')?.body as { fields: Record<string, string>; files: { filename: string; data: Buffer }[] };
      assert.equal(sent.fields.overwrite, 'true');
      assert.equal(sent.files[0]?.filename, 'pyros_upload.png');
      assert.ok(sent.files[0]?.data.equals(data), 'the multipart body carries the image bytes');

      const result = await client.run(workflow('l_upload_image')).result;
      assert.deepEqual(sortOutputs(result.outputs), recordedOutputs(recording, recordedId));
      await assertDownloads(session, recording, [...result.outputs, { nodeId: '1', key: 'input', item: { filename: stored.name, subfolder: '', type: 'input' } }]);
      assert.ok(replay.served.get('pyros_upload.png')?.equals(data), 'the server gives back the uploaded bytes');
      assert.deepEqual(replay.unmatched, []);
    });
  });
});

describe('c_invalid: rejected submissions', () => {
  const recording = loadRecording('c_invalid');
  const posts = recording.exchanges.filter((e) => e.request.path === '/prompt');
  const cases = Object.entries(labelledWorkflows('c_invalid'));

  it('each validation failure rejects with PromptRejectedError carrying the recorded errors', async () => {
    await withSession('c_invalid', async ({ client, replay }) => {
      for (const [index, [label, prompt]] of cases.entries()) {
        const recorded = posts[index];
        assert.ok(recorded, label);
        assert.deepEqual((recorded.request.json as { prompt: unknown }).prompt, prompt, `${label} is the ${index + 1}th recorded submission`);
        const body = recorded.response.json as { error: { type: string; message: string }; node_errors: Record<string, unknown> };
        const error = await rejectionOf(client.run(prompt).result);
        assert.ok(error instanceof PromptRejectedError, label);
        assert.equal(error.kind, 'rejected');
        assert.equal(error.error.type, body.error.type, label);
        assert.equal(error.error.message, body.error.message, label);
        assert.deepEqual(error.nodeErrors, body.node_errors, label);
      }
      // The body without "prompt": pyros always sends one, so the request is forced here to check
      // that the answer still becomes a typed rejection.
      const noPrompt = await rejectionOf(client.api.submitPrompt({ client_id: client.clientId } as PromptRequest));
      assert.ok(noPrompt instanceof PromptRejectedError);
      assert.equal(noPrompt.error.type, 'no_prompt');
      // The non-JSON body cannot come from pyros (it serialises every body with JSON.stringify);
      // what remains testable is its answer, 500 text/plain, which must surface as a server error.
      const serverError = await rejectionOf(client.api.submitPrompt({ prompt: {}, client_id: client.clientId }));
      assert.ok(serverError instanceof PyrosError);
      assert.equal(serverError.kind, 'server');
      assert.match(serverError.message, /HTTP 500/);
      assert.equal(replay.requests.filter((r) => r.path === '/prompt').length, posts.length);
      assert.deepEqual(replay.unmatched, []);
    });
  });
});

describe('d_execution_error', () => {
  it('rejects with ExecutionError naming node 4 without the tensor dumps of current_inputs', async () => {
    const recording = loadRecording('d_execution_error');
    const [recorded] = recordedMessages(recording, 'execution_error');
    assert.ok(recorded);
    await withSession('d_execution_error', async ({ client }) => {
      const error = await rejectionOf(client.run(workflow('d_execution_error')).result);
      assert.ok(error instanceof ExecutionError);
      assert.equal(error.kind, 'execution');
      assert.equal(error.node?.nodeId, '4');
      assert.equal(error.node?.title, 'ImageBatch');
      assert.equal(error.node?.classType, 'ImageBatch');
      assert.equal(error.exceptionType, 'RuntimeError');
      assert.equal(error.exceptionMessage, recorded.exception_message);
      assert.deepEqual(error.traceback, recorded.traceback);
      assert.match(error.message, /node #4 "ImageBatch".*RuntimeError: Sizes of tensors must match/);
      assert.doesNotMatch(error.message, /tensor\(|current_inputs|image1/);
      assert.deepEqual(error.outputs, []);
    });
  });
});

describe('interrupts', () => {
  it('e_interrupt: cancel deletes the pending job and interrupts the running one, by prompt id', async () => {
    const prompts = labelledWorkflows('e_interrupt');
    await withSession('e_interrupt', async ({ client, replay }) => {
      const running = client.run(prompts.running_job ?? {});
      const started = once(running, 'started');
      await once(running, 'submitted');
      const pending = client.run(prompts.pending_job ?? {});
      await once(pending, 'submitted');
      await started;

      await pending.cancel();
      const pendingError = await rejectionOf(pending.result);
      assert.ok(pendingError instanceof InterruptedError);
      assert.equal(pendingError.kind, 'cancelled');
      assert.deepEqual(replay.requests.filter((r) => r.method === 'POST' && r.path === '/queue').map((r) => r.body), [{ delete: [pending.promptId] }]);
      assert.equal(replay.requests.filter((r) => r.path === '/interrupt').length, 0, 'deleting a pending job interrupts nothing');

      await running.cancel();
      const runningError = await rejectionOf(running.result);
      assert.ok(runningError instanceof InterruptedError);
      assert.equal(runningError.kind, 'cancelled');
      assert.equal(runningError.node?.nodeId, '4');
      assert.deepEqual(replay.requests.filter((r) => r.path === '/interrupt').map((r) => r.body), [{ prompt_id: running.promptId }]);
      assert.deepEqual(replay.unmatched, []);
    });
  });

  it('e2_interrupt_global: an interrupt sent by someone else ends the job as interrupted', async () => {
    await withSession('e2_interrupt_global', async ({ client, replay }) => {
      const job = client.run(workflow('e2_interrupt_global'));
      await once(job, 'progress');
      const someoneElse = new Client({ server: replay.url });
      try {
        await someoneElse.api.interrupt();
      } finally {
        someoneElse.close();
      }
      const error = await rejectionOf(job.result);
      assert.ok(error instanceof InterruptedError);
      assert.equal(error.kind, 'interrupted');
      assert.equal(error.node?.nodeId, '4');
      assert.equal(error.node?.classType, 'KSampler');
      assert.deepEqual(replay.requests.filter((r) => r.path === '/interrupt').map((r) => r.body), [undefined], 'only the global interrupt was sent');
    });
  });
});

describe('f_two_jobs', () => {
  it('two jobs on one client both succeed, each with its own events and outputs', async () => {
    const recording = loadRecording('f_two_jobs');
    const [firstId = '', secondId = ''] = recordedPromptIds(recording);
    const prompts = labelledWorkflows('f_two_jobs');
    await withSession('f_two_jobs', async (session) => {
      const first = session.client.run(prompts.job1 ?? {});
      const firstEvents = { node: record(first, 'node'), executed: record(first, 'executed'), preview: record(first, 'preview'), progress: record(first, 'progress') };
      await once(first, 'submitted');
      const second = session.client.run(prompts.job2 ?? {});
      const secondEvents = { node: record(second, 'node'), executed: record(second, 'executed'), preview: record(second, 'preview'), progress: record(second, 'progress') };
      const [firstResult, secondResult] = await Promise.all([first.result, second.result]);

      assert.deepEqual(sortOutputs(firstResult.outputs), recordedOutputs(recording, firstId));
      assert.deepEqual(sortOutputs(secondResult.outputs), recordedOutputs(recording, secondId));
      // Both workflows have nodes 1, 2 and 3: a leak would show up as extra node events.
      assert.deepEqual(firstEvents.node.map((n) => n.nodeId), ['4', '6', '7']);
      assert.deepEqual(secondEvents.node.map((n) => n.nodeId), ['1', '2', '3']);
      assert.deepEqual(firstEvents.executed.map((e) => e.node.nodeId), ['7']);
      assert.deepEqual(secondEvents.executed.map((e) => e.node.nodeId), ['3']);
      assert.equal(firstEvents.progress.length, 10);
      assert.equal(firstEvents.preview.length, 10);
      assert.deepEqual([secondEvents.progress.length, secondEvents.preview.length], [0, 0]);
      await assertDownloads(session, recording, [...firstResult.outputs, ...secondResult.outputs]);
      assert.deepEqual(session.replay.unmatched, []);
    });
  });
});

describe('progress and previews', () => {
  it('g_progress_previews: progress ticks in order and a JPEG preview per tick (legacy frames)', async () => {
    const recording = loadRecording('g_progress_previews');
    const expectedProgress = recordedMessages(recording, 'progress').map((p) => [p.node, p.value, p.max]);
    const frames = recordedBinaries(recording);
    await withSession(
      'g_progress_previews',
      async ({ client }) => {
        const job = client.run(workflow('g_progress_previews'));
        const progress = record(job, 'progress');
        const previews = record(job, 'preview');
        await job.result;
        assert.deepEqual(
          progress.map((p) => [p.node.nodeId, p.value, p.max]),
          expectedProgress,
        );
        assert.deepEqual(expectedProgress.map(([, value]) => value), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.equal(previews.length, frames.length);
        previews.forEach((preview, i) => {
          const frame = frames[i];
          assert.ok(frame);
          assert.equal(preview.mime, 'image/jpeg');
          assert.equal(preview.node?.nodeId, '4');
          assert.ok(preview.image.subarray(0, 3).equals(JPEG_MAGIC));
          assert.ok(preview.image.equals(imageOf(frame.bytes)), `preview ${i + 1} carries the recorded image bytes`);
          if (!frame.truncated) {
            const decoded = jpeg.decode(preview.image, { useTArray: true });
            assert.deepEqual([decoded.width, decoded.height], [512, 512]);
          }
        });
        assert.ok(frames.some((f) => !f.truncated), 'at least one preview is complete and decoded');
      },
      { client: { previewMetadata: false } },
    );
  });

  it('g2_previews_with_metadata: type-4 previews carry our prompt id and decode', async () => {
    const recording = loadRecording('g2_previews_with_metadata');
    const expectedProgress = recordedMessages(recording, 'progress').map((p) => [p.node, p.value, p.max]);
    const frames = recordedBinaries(recording);
    await withSession('g2_previews_with_metadata', async ({ client }) => {
      const received: BinaryFrame[] = [];
      client.socket.on('binary', (frame) => received.push(frame));
      const job = client.run(workflow('g2_previews_with_metadata'));
      const progress = record(job, 'progress');
      const previews = record(job, 'preview');
      await job.result;
      assert.deepEqual(
        progress.map((p) => [p.node.nodeId, p.value, p.max]),
        expectedProgress,
      );
      assert.equal(received.length, frames.length);
      for (const frame of received) {
        assert.equal(frame.kind === 'preview' && frame.metadata?.prompt_id, job.promptId, 'the metadata names the prompt the client chose');
      }
      assert.equal(previews.length, frames.length, 'every preview passed the prompt id filter');
      previews.forEach((preview, i) => {
        const frame = frames[i];
        assert.ok(frame);
        assert.equal(preview.mime, 'image/jpeg');
        assert.equal(preview.node?.nodeId, '4');
        assert.ok(preview.image.equals(imageOf(frame.bytes)));
        if (!frame.truncated) {
          const decoded = jpeg.decode(preview.image, { useTArray: true });
          assert.deepEqual([decoded.width, decoded.height], [512, 512]);
        }
      });
      assert.ok(frames.some((f) => !f.truncated));
    });
  });

  it('g3_model_free_progress: 12 progress ticks, the TEXT frame as a text event, the text output', async () => {
    const recording = loadRecording('g3_model_free_progress');
    const [recordedId = ''] = recordedPromptIds(recording);
    await withSession('g3_model_free_progress', async (session) => {
      const job = session.client.run(workflow('g3_model_free_progress'));
      const progress = record(job, 'progress');
      const texts = record(job, 'text');
      const result = await job.result;
      assert.deepEqual(progress.map((p) => p.value), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      assert.ok(progress.every((p) => p.max === 12 && p.node.nodeId === '4'));
      assert.deepEqual(texts.map((t) => [t.node.nodeId, t.node.classType, t.text]), [['5', 'GetImageSize', 'width: 256, height: 256\n batch size: 1']]);
      assert.deepEqual(result.texts, [{ nodeId: '6', key: 'text', values: ['256'] }]);
      assert.deepEqual(sortOutputs(result.outputs), recordedOutputs(recording, recordedId));
      await assertDownloads(session, recording, result.outputs);
    });
  });
});

describe('i_websocket_image_save', () => {
  it('collects the PNG frames of SaveImageWebsocket as socket images', async () => {
    const recording = loadRecording('i_websocket_image_save');
    const frames = recordedBinaries(recording);
    await withSession('i_websocket_image_save', async ({ client }) => {
      const job = client.run(workflow('i_websocket_image_save'));
      const previews = record(job, 'preview');
      const result = await job.result;
      assert.deepEqual(result.outputs, []);
      assert.equal(previews.length, 0, 'saved images are not previews');
      assert.equal(result.socketImages.length, 2);
      result.socketImages.forEach((image, i) => {
        const frame = frames[i];
        assert.ok(frame);
        assert.equal(image.mime, 'image/png');
        assert.equal(image.node.nodeId, '2');
        assert.equal(image.node.classType, 'SaveImageWebsocket');
        assert.ok(image.image.equals(imageOf(frame.bytes)));
        const png = decodePng(image.image);
        assert.deepEqual([png.width, png.height], [32, 32]);
      });
    });
  });
});

describe('j_reconnect', () => {
  it('survives the dropped socket: reconnects under the same clientId and completes', async () => {
    const recording = loadRecording('j_reconnect');
    const [recordedId = ''] = recordedPromptIds(recording);
    const expectedProgress = recordedMessages(recording, 'progress', ['main', 'reconnected']).map((p) => p.value);
    await withSession('j_reconnect', async (session) => {
      const job = session.client.run(workflow('j_reconnect'));
      const connection = record(job, 'connection');
      const progress = record(job, 'progress');
      const result = await job.result;
      const states = connection.map((c) => c.state);
      assert.ok(states.indexOf('reconnecting') >= 0, 'the drop is reported');
      assert.ok(states.indexOf('reconnected') > states.indexOf('reconnecting'), 'then the reconnection');
      assert.equal(session.replay.connections.length, 2);
      assert.equal(session.replay.connections[0], session.replay.connections[1], 'same clientId');
      assert.deepEqual(progress.map((p) => p.value), expectedProgress, 'ticks sent while disconnected are lost, as recorded');
      assert.deepEqual(sortOutputs(result.outputs), recordedOutputs(recording, recordedId));
      await assertDownloads(session, recording, result.outputs);
    });
  });

  it('a connect during the reconnect backoff (a new job starting) opens one socket, not two', async () => {
    // Real-time-ish playback so that the scheduled reconnection would fire while the run goes on.
    await withSession(
      'j_reconnect',
      async ({ client, replay }) => {
        const job = client.run(workflow('j_reconnect'));
        const connection = record(job, 'connection');
        job.on('connection', ({ state }) => {
          if (state === 'reconnecting') void client.connect();
        });
        await job.result;
        assert.equal(replay.connections.length, 2, 'the first socket and a single replacement');
        assert.equal(connection.filter((c) => c.state === 'reconnected').length, 1, 'running jobs hear about the new socket once');
      },
      { replay: { speed: 2 } },
    );
  });
});

describe('k_observer', () => {
  it('the submitting socket: completes and reports the TEXT frame of its own node 8', async () => {
    // The recorder never read this prompt's history; the replay answers with the one the server
    // builds from the run, so the expected files are those of the recorded `executed` frame.
    const executed = recordedMessages(loadRecording('k_observer'), 'executed', ['submitter']);
    const images = executed.flatMap((e) => ((e.output as { images?: unknown[] }).images ?? []).map((item) => ({ nodeId: String(e.node), key: 'images', item })));
    await withSession('k_observer', async ({ client, replay }) => {
      assert.equal(replay.socket, 'submitter');
      const job = client.run(workflow('k_observer'));
      const texts = record(job, 'text');
      const result = await job.result;
      assert.deepEqual(texts.map((t) => [t.node.nodeId, t.text]), [['8', 'width: 64, height: 64\n batch size: 1']]);
      assert.deepEqual(result.texts, [{ nodeId: '9', key: 'text', values: ['64'] }]);
      assert.equal(images.length, 1);
      assert.deepEqual(result.outputs, images);
    });
  });

  it("the observer's view: a running job ignores the broadcast TEXT frame of a node it does not have", async () => {
    // The observer socket only gets status frames and the TEXT frame GetImageSize broadcasts.
    // Its client runs a prompt without nodes 8/9 (replayed as the recorded prompt), which must be
    // running when the frame arrives, so only the node-id filter can keep the text out.
    const withoutTextNodes = Object.fromEntries(Object.entries(workflow('k_observer')).filter(([id]) => id !== '8' && id !== '9'));
    await withSession(
      'k_observer',
      async ({ client }) => {
        const messages: string[] = [];
        client.socket.on('message', (message: ServerMessage) => messages.push(message.type));
        const job = client.run(withoutTextNodes, { quietCheckMs: 100 });
        let started = false;
        job.on('started', () => {
          started = true;
        });
        const textFrames: { nodeId: string; jobRunning: boolean }[] = [];
        client.socket.on('binary', (frame) => {
          if (frame.kind === 'text') textFrames.push({ nodeId: frame.nodeId, jobRunning: started });
        });
        const texts = record(job, 'text');
        await job.result;
        assert.deepEqual(textFrames, [{ nodeId: '8', jobRunning: true }]);
        assert.deepEqual(texts, []);
        assert.deepEqual([...new Set(messages)], ['status'], 'the observer sees no execution frames');
      },
      { replay: { socket: 'observer', speed: 1 } },
    );
  });
});

describe('m_no_client_id', () => {
  it('finishes through its HTTP checks when no completion event reaches the socket', async () => {
    const recording = loadRecording('m_no_client_id');
    const [recordedId = ''] = recordedPromptIds(recording);
    await withSession('m_no_client_id', async (session) => {
      const messages: string[] = [];
      session.client.socket.on('message', (message: ServerMessage) => messages.push(message.type));
      const job = session.client.run(workflow('m_no_client_id'), { quietCheckMs: 100 });
      const connection = record(job, 'connection');
      const progress = record(job, 'progress');
      const result = await job.result;
      assert.ok(!messages.includes('executing') && !messages.includes('execution_success'), 'no completion frame was sent');
      assert.ok(connection.some((c) => c.state === 'checking'));
      assert.deepEqual(progress.map((p) => p.value), [1, 2, 3, 4]);
      assert.deepEqual(sortOutputs(result.outputs), recordedOutputs(recording, recordedId));
      const recordedStatus = recordedHistory(recording, recordedId).status as { status_str: string; completed: boolean };
      assert.deepEqual([result.history.status?.status_str, result.history.status?.completed], [recordedStatus.status_str, recordedStatus.completed]);
    });
  });
});

describe('z_endpoints', () => {
  const recording = loadRecording('z_endpoints');
  const recordedBody = (path: string): unknown => recording.exchanges.find((e) => e.request.path === path)?.response.json;

  it('read-only endpoints return the recorded data, also under /api/', async () => {
    await withSession('z_endpoints', async ({ client, replay }) => {
      assert.deepEqual(await client.api.systemStats(), recordedBody('/system_stats'));
      assert.deepEqual(await client.api.objectInfo(), recordedBody('/object_info'));
      assert.equal(Object.keys(await client.api.objectInfo()).length, 383);
      assert.deepEqual(await client.api.objectInfo('KSampler'), recordedBody('/object_info/KSampler'));
      assert.deepEqual(await client.api.objectInfo('NoSuchNodeType'), {});
      assert.deepEqual(await client.api.queue(), { running: [], pending: [] });
      assert.deepEqual(await client.api.historyList(1), recordedBody('/history'));
      assert.equal(await client.api.history('00000000-0000-0000-0000-000000000000'), undefined);

      const prefixed = new Client({ server: `${replay.url}/api` });
      try {
        const stats = await prefixed.api.systemStats();
        assert.deepEqual(stats, recordedBody('/api/system_stats'));
        assert.notDeepEqual(stats, recordedBody('/system_stats'), 'the /api/ answer is its own recording (ram_free differs)');
      } finally {
        prefixed.close();
      }
      assert.deepEqual(replay.unmatched, []);
    });
  });

  it('/view errors become typed errors', async () => {
    await withSession('z_endpoints', async ({ client, replay }) => {
      const traversal = await rejectionOf(client.api.view({ filename: '../secret.png', subfolder: '', type: 'output' }));
      assert.ok(traversal instanceof PyrosError);
      assert.equal(traversal.kind, 'output');
      assert.match(traversal.message, /"\.\.\/secret\.png".*HTTP 400/);
      const missing = await rejectionOf(client.api.view({ filename: 'does-not-exist.png', subfolder: '', type: 'output' }));
      assert.ok(missing instanceof PyrosError);
      assert.match(missing.message, /HTTP 404/);
      assert.equal(missing.reason, 'file-missing');
      assert.ok(hintOf(missing)?.includes('no longer on the server'));
      const badType = await rejectionOf(client.api.view({ filename: 'x.png', subfolder: '', type: 'bogus' }));
      assert.ok(badType instanceof PyrosError);
      assert.match(badType.message, /HTTP 400/);
      assert.equal(replay.served.size, 0, 'no file body was served');
      assert.deepEqual(replay.unmatched, []);
    });
  });
});
