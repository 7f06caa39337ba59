/**
 * The recorded traffic against pyros' decoders: every full binary frame decodes to what the
 * recorder read from it, and every text frame the real server sent parses as a known message.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { decodeBinaryFrame } from '../../src/client/binary.ts';
import { parseServerMessage } from '../../src/client/messages.ts';
import { loadRecording, scenarioNames, TRAFFIC_DIR, type RecordedBinary } from '../support/replay/recording.ts';

const FULL_FRAME = /^(.+)\.frame-(\d+)\.event(\d+)\.bin$/;

function recordedFrame(scenario: string, seq: number): RecordedBinary {
  const event = loadRecording(scenario).events[seq];
  assert.equal(event?.kind, 'binary', `${scenario} seq ${seq} is a binary frame`);
  return event.frame;
}

function imageSize(mime: string, image: Buffer): [number, number] {
  if (mime === 'image/png') {
    const png = decodePng(image);
    return [png.width, png.height];
  }
  const decoded = jpeg.decode(image, { useTArray: true });
  return [decoded.width, decoded.height];
}

describe('full binary frames (.bin)', () => {
  const files = readdirSync(TRAFFIC_DIR).filter((name) => FULL_FRAME.test(name));

  it('there is one of each frame type the server sends', () => {
    assert.deepEqual(files.map((name) => FULL_FRAME.exec(name)?.[3]).sort(), ['1', '1', '3', '4']);
  });

  for (const name of files) {
    it(name, () => {
      const [, scenario = '', seq = '', eventType = ''] = FULL_FRAME.exec(name) ?? [];
      const bytes = readFileSync(join(TRAFFIC_DIR, name));
      const recorded = recordedFrame(scenario, Number(seq));
      assert.equal(bytes.length, recorded.length);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), recorded.sha256);
      assert.equal(bytes.readUInt32BE(0), Number(eventType));
      assert.equal(bytes.subarray(0, 8).toString('hex'), recorded.headerHex);

      const frame = decodeBinaryFrame(bytes);
      const decoded = recorded.decoded;
      const image = decoded.image as { format: string; width: number; height: number } | undefined;
      switch (frame.kind) {
        case 'preview': {
          assert.equal(frame.mime, `image/${image?.format.toLowerCase()}`);
          assert.deepEqual(imageSize(frame.mime, frame.image), [image?.width, image?.height]);
          if (Number(eventType) === 4) {
            assert.deepEqual(frame.metadata, decoded.metadata);
            assert.equal(typeof frame.metadata?.prompt_id, 'string');
            assert.equal(frame.image.byteOffset - bytes.byteOffset, decoded.image_offset);
          } else {
            assert.equal(frame.metadata, undefined);
          }
          break;
        }
        case 'text':
          assert.equal(Number(eventType), 3);
          assert.equal(frame.nodeId, decoded.node_id);
          assert.equal(frame.text, decoded.text);
          break;
        default:
          assert.fail(`${name} decoded as ${frame.kind}`);
      }
    });
  }
});

describe('recorded frames of every scenario', () => {
  for (const scenario of scenarioNames()) {
    it(scenario, () => {
      const { events } = loadRecording(scenario);
      for (const event of events) {
        if (event.kind === 'text') {
          const message = parseServerMessage(JSON.stringify(event.json));
          // Every type this server version sends to a plain client is known (`logs` only goes to
          // clients subscribed through /internal/logs/subscribe and is not in the recordings).
          assert.notEqual(message.type, 'unknown', `${scenario} seq ${event.index}: ${JSON.stringify(event.json).slice(0, 80)}`);
        }
        if (event.kind === 'binary') {
          // Cut frames still carry their header, metadata and the start of the image.
          const frame = decodeBinaryFrame(event.frame.bytes);
          const where = `${scenario} seq ${event.index}`;
          assert.equal(event.frame.bytes.subarray(0, 8).toString('hex'), event.frame.headerHex, where);
          if (event.frame.eventType === 3) {
            assert.equal(frame.kind, 'text', where);
            assert.deepEqual(frame.kind === 'text' && [frame.nodeId, frame.text], [event.frame.decoded.node_id, event.frame.decoded.text], where);
          } else {
            assert.equal(frame.kind, 'preview', where);
            assert.deepEqual(frame.kind === 'preview' && frame.metadata, event.frame.eventType === 4 ? event.frame.decoded.metadata : undefined, where);
          }
          if (!event.frame.truncated) {
            assert.equal(createHash('sha256').update(event.frame.bytes).digest('hex'), event.frame.sha256, `${where} is complete`);
          }
        }
      }
    });
  }
});
