import assert from 'node:assert/strict';
import { hintOf } from '../../../src/cli/errors/explain.ts';
import { test } from 'node:test';
import { loadWorkflow } from '../../../src/workflow/load.ts';
import { readWorkflowSource, workflowSourceFromBytes, type WorkflowSource } from '../../../src/workflow/source.ts';
import { flipBits, mediaBytes, mediaFixture, usageError } from './helpers.ts';

/** The class of every node of the API prompt, and of every node of the editor workflow. */
function classes(source: WorkflowSource): { api: string[]; editor: string[] } {
  return {
    api: Object.values(source.api ?? {}).map((node) => node.class_type).sort(),
    editor: (source.editor?.nodes ?? []).map((node) => (node as { type: string }).type).sort(),
  };
}

const FRAMES = ['EmptyImage', 'EmptyImage', 'ImageBatch'];
const CASES: { file: string; origin: WorkflowSource['origin']; format: string; saver: string[] }[] = [
  { file: 'saveanimatedwebp.webp', origin: 'webp', format: 'WebP', saver: [...FRAMES, 'SaveAnimatedWEBP'] },
  { file: 'saveanimatedwebp-single-lossy.webp', origin: 'webp', format: 'WebP', saver: ['EmptyImage', 'SaveAnimatedWEBP'] },
  { file: 'savevideo.mp4', origin: 'video', format: 'MP4', saver: [...FRAMES, 'CreateVideo', 'SaveVideo'] },
  { file: 'savewebm.webm', origin: 'video', format: 'WebM', saver: [...FRAMES, 'SaveWEBM'] },
  { file: 'saveaudio.flac', origin: 'audio', format: 'FLAC', saver: ['EmptyAudio', 'SaveAudio'] },
  { file: 'saveaudiomp3.mp3', origin: 'audio', format: 'MP3', saver: ['EmptyAudio', 'SaveAudioMP3'] },
  { file: 'saveaudioopus.opus', origin: 'audio', format: 'Ogg Opus', saver: ['EmptyAudio', 'SaveAudioOpus'] },
];

test('every container ComfyUI saves gives back its API prompt and editor workflow', async () => {
  for (const { file, origin, format, saver } of CASES) {
    const source = await readWorkflowSource(mediaFixture(file));
    assert.equal(source.origin, origin, file);
    assert.equal(source.format, format, file);
    const expected = [...saver].sort();
    assert.deepEqual(classes(source), { api: expected, editor: expected }, file);
    assert.deepEqual(await loadWorkflow(mediaFixture(file)), source.api, file);
  }
});

test('the values survive each container exactly', async () => {
  const webp = await readWorkflowSource(mediaFixture('saveanimatedwebp.webp'));
  assert.deepEqual(webp.api?.['4']?.inputs, { images: ['3', 0], filename_prefix: 'fixture_webp', fps: 4, lossless: true, quality: 80, method: 'fastest' });
  const video = await readWorkflowSource(mediaFixture('savevideo.mp4'));
  assert.deepEqual(video.api?.['5']?.inputs, { video: ['4', 0], filename_prefix: 'fixture_video', format: 'auto', codec: 'auto' });
  assert.deepEqual(video.api?.['1']?.inputs, { width: 16, height: 16, batch_size: 1, color: 0xcc3322 });
  const opus = await readWorkflowSource(mediaFixture('saveaudioopus.opus'));
  assert.deepEqual(opus.api?.['1']?.inputs, { duration: 0.05, sample_rate: 8000, channels: 1 });
  for (const file of ['savewebm.webm', 'saveaudio.flac', 'saveaudiomp3.mp3']) {
    const source = await readWorkflowSource(mediaFixture(file));
    assert.equal(source.editor?.['version'], 0.4, file);
    assert.equal(source.editor?.['last_link_id'], source.editor && Array.isArray(source.editor['links']) ? source.editor['links'].length : -1, file);
  }
});

test('files saved by ComfyUI started with --disable-metadata: no workflow, said once', async () => {
  const cases: [string, string][] = [
    ['bare-saveanimatedwebp.webp', 'this WebP image has no workflow embedded'],
    ['bare-savevideo.mp4', 'this MP4 file has no workflow embedded'],
    ['bare-saveaudio.flac', 'this FLAC file has no workflow embedded'],
    ['bare-saveaudiomp3.mp3', 'this MP3 file has no workflow embedded'],
    ['bare-saveaudioopus.opus', 'this Ogg Opus file has no workflow embedded'],
  ];
  for (const [file, message] of cases) {
    const path = mediaFixture(file);
    const error = await usageError(() => readWorkflowSource(path));
    assert.equal(error.message, `${path}: ${message}.`);
    assert.equal(error.reason, 'media-no-workflow');
    assert.match(hintOf(error) ?? '', /--disable-metadata/, file);
    assert.doesNotMatch(error.message, /other metadata/, `${file}: FFmpeg's "encoder" tag is not worth naming`);
  }
});

test('SaveWEBM writes the workflow even when ComfyUI runs with --disable-metadata', async () => {
  const source = await readWorkflowSource(mediaFixture('bare-savewebm.webm'));
  assert.equal(source.api?.['4']?.class_type, 'SaveWEBM');
});

test('truncated video and audio files are one clear error each', async () => {
  const cases: [file: string, keep: number, message: RegExp][] = [
    ['savevideo.mp4', 2000, /^cut: is a truncated MP4 file: it ends inside the moov box at byte 807\.$/],
    ['savevideo.mp4', 400, /^cut: is a truncated MP4 file: it ends inside the mdat box at byte 40\.$/],
    ['savewebm.webm', 1000, /^cut: is a truncated WebM file: its Segment announces 2538 bytes, the file has 1000\.$/],
    ['saveaudio.flac', 200, /^cut: is a truncated FLAC file: it ends inside the metadata block at byte 42\.$/],
    ['saveaudioopus.opus', 300, /^cut: is a truncated Ogg file: it ends inside the page at byte 47\.$/],
    ['saveaudiomp3.mp3', 500, /^cut: is a truncated MP3 file: it ends inside its ID3 tag \(\d+ bytes announced, the file has 500\)\.$/],
    ['saveanimatedwebp.webp', 1000, /^cut: is a truncated WebP file: its RIFF header announces 2250 bytes, the file has 1000\.$/],
  ];
  for (const [file, keep, message] of cases) {
    const error = await usageError(() => workflowSourceFromBytes(mediaBytes(file).subarray(0, keep), 'cut:'));
    assert.match(error.message, message, file);
    assert.equal(error.reason, 'media-truncated', file);
    assert.match(hintOf(error) ?? '', /cut short/, file);
  }
});

test('damaged metadata in video and audio containers is named', async () => {
  const opus = Buffer.from(mediaBytes('saveaudioopus.opus'));
  flipBits(opus, 47 + 100, 0x01);
  assert.equal((await usageError(() => workflowSourceFromBytes(opus, 'o.opus'))).message, 'o.opus is a damaged Ogg file: the page at byte 47 fails its CRC check.');

  const flac = Buffer.from(mediaBytes('saveaudio.flac'));
  const commentStart = 42 + 4;
  flac.writeUInt32LE(0x7fffffff, commentStart + 4 + flac.readUInt32LE(commentStart));
  assert.equal((await usageError(() => workflowSourceFromBytes(flac, 'f.flac'))).message, 'f.flac is a damaged FLAC file: its comment block is malformed.');

  const webp = Buffer.from(mediaBytes('saveanimatedwebp.webp'));
  const exif = webp.indexOf('EXIF', 12, 'latin1');
  // The first IFD entry's value offset (big-endian TIFF after "Exif\0\0"): pointed far outside.
  webp.writeUInt32BE(0x00ffffff, exif + 8 + 6 + 8 + 2 + 8);
  assert.equal((await usageError(() => workflowSourceFromBytes(webp, 'w.webp'))).message, 'w.webp is a damaged WebP file: EXIF tag 0x010f points outside the EXIF block.');

  const mp4 = Buffer.from(mediaBytes('savevideo.mp4'));
  const ilst = mp4.indexOf('ilst', 0, 'latin1');
  mp4.writeUInt32BE(0x7fffff, ilst + 4);
  assert.match((await usageError(() => workflowSourceFromBytes(mp4, 'v.mp4'))).message, /^v\.mp4 is a damaged MP4 file: a .* box in the metadata has an impossible size\.$/);
});

test('ID3 user text in UTF-16 (as other taggers write it) is read too', async () => {
  const prompt = JSON.stringify({ 1: { class_type: 'EmptyImage', inputs: { width: 8 } } });
  const utf16 = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  const frameBody = Buffer.concat([Buffer.from([1]), utf16('prompt'), Buffer.from([0, 0]), utf16(prompt)]);
  const frameHeader = Buffer.alloc(10);
  frameHeader.write('TXXX', 0, 'latin1');
  frameHeader.writeUInt32BE(frameBody.length, 4);
  const tagBody = Buffer.concat([frameHeader, frameBody, Buffer.alloc(16)]);
  const size = tagBody.length;
  const tagHeader = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, (size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
  const mp3 = Buffer.concat([tagHeader, tagBody, Buffer.from([0xff, 0xfb, 0x90, 0x00]), Buffer.alloc(400)]);
  const source = await workflowSourceFromBytes(mp3, 'tagged.mp3');
  assert.deepEqual([source.origin, source.format], ['audio', 'MP3']);
  assert.deepEqual(source.api, JSON.parse(prompt));
});
