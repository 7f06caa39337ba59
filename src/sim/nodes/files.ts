/**
 * Nodes that read and write files: LoadImage and LoadImageMask (input/), SaveImage (output/, PNG with the prompt
 * embedded), PreviewImage (temp/) and SaveImageWebsocket (images only as socket frames).
 */
import { createHash, randomInt } from 'node:crypto';
import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NodeError, nodeFrame } from '../errors.ts';
import { decodeJpeg, isJpeg, isPng } from '../imaging/jpeg.ts';
import { decodePng, encodePng, type DecodedImage } from '../imaging/png.ts';
import { pyJsonDumps } from '../python.ts';
import { isInside, type Storage } from '../storage.ts';
import { requireValue, stringInput } from './inputs.ts';
import type { NodeBehaviour, NodeContext, NodeEnvironment } from './types.ts';
import { bytesToFrame, frameToBytes, type ImageValue, type MaskValue } from './values.ts';

/** LoadImage names files of input/ (optionally "sub/name.png", or annotated "name.png [output]"). */
function inputPath(storage: Storage, name: string): string | undefined {
  let directory = storage.dirs.input;
  let file = name;
  for (const type of ['input', 'output', 'temp'] as const) {
    if (name.endsWith(` [${type}]`)) {
      directory = storage.dirs[type];
      file = name.slice(0, -` [${type}]`.length);
    }
  }
  const path = resolve(directory, file);
  return isInside(directory, path) ? path : undefined;
}

async function fileExists(path: string | undefined): Promise<boolean> {
  if (path === undefined) return false;
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

function decodeImageFile(bytes: Buffer, name: string): DecodedImage {
  try {
    if (isPng(bytes)) return decodePng(bytes);
    if (isJpeg(bytes)) return decodeJpeg(bytes);
  } catch {
    // fall through: reported like PIL does for a file it cannot read
  }
  throw new NodeError('PIL.UnidentifiedImageError', `cannot identify image file '${name}'`, [
    nodeFrame('nodes.py', 1657, 'load_image', 'img = node_helpers.pillow(Image.open, image_path)'),
  ]);
}

interface SavedImage {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp';
}

/** ComfyUI's save_images: one PNG per batch item, numbered after the files already there. */
async function saveImages(
  context: NodeContext,
  images: ImageValue,
  filenamePrefix: string,
  type: 'output' | 'temp',
  level: number,
  metadata: { prompt: unknown; extraPngInfo: unknown },
): Promise<SavedImage[]> {
  const target = await context.storage.saveTarget(type, filenamePrefix, images.width, images.height);
  const text: [string, string][] = [];
  if (metadata.prompt !== undefined && metadata.prompt !== null) text.push(['prompt', pyJsonDumps(metadata.prompt)]);
  if (typeof metadata.extraPngInfo === 'object' && metadata.extraPngInfo !== null) {
    for (const [key, value] of Object.entries(metadata.extraPngInfo)) {
      if (/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(key)) text.push([key, pyJsonDumps(value)]);
    }
  }
  const results: SavedImage[] = [];
  let counter = target.counter;
  for (const [index, frame] of images.frames.entries()) {
    const filename = `${target.filename.replaceAll('%batch_num%', String(index))}_${String(counter).padStart(5, '0')}_.png`;
    const png = await encodePng(frameToBytes(frame), images.width, images.height, images.channels, { level, text });
    const path = join(target.folder, filename);
    await writeFile(path, png).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      await mkdir(target.folder, { recursive: true });
      await writeFile(path, png);
    });
    // A large output for download tests: the PNG followed by a hole of zeros (no memory, no disk).
    if (type === 'output' && context.settings.outputBytes > png.length) await truncate(path, context.settings.outputBytes);
    results.push({ filename, subfolder: target.subfolder, type });
    counter += 1;
  }
  context.storage.commitCounter(target, counter);
  return results;
}

const TEMP_SUFFIX_LETTERS = 'abcdefghijklmnopqrstupvxyz';

/** What LoadImage and LoadImageMask share: choices, validation, cache key, reading the file. */
const IMAGE_FILE_INPUT = {
  comboOptions: { image: (env: NodeEnvironment) => env.storage.inputImages() },
  validateInputs: {
    inputs: ['image'],
    check: async ({ image }: Record<string, unknown>, env: NodeEnvironment) =>
      (await fileExists(inputPath(env.storage, stringInput(image)))) ? true : `Invalid image file: ${stringInput(image)}`,
  },
  isChanged: async ({ image }: Record<string, unknown>, env: NodeEnvironment) => {
    const path = inputPath(env.storage, stringInput(image));
    if (path === undefined) throw new Error('outside the input directory');
    return createHash('sha256').update(await readFile(path)).digest('hex');
  },
} satisfies Partial<NodeBehaviour>;

async function loadInputImage(image: unknown, storage: Storage): Promise<DecodedImage> {
  const name = stringInput(image);
  const path = inputPath(storage, name);
  const bytes = path === undefined ? undefined : await readFile(path).catch(() => undefined);
  if (bytes === undefined) {
    throw new NodeError('FileNotFoundError', `[Errno 2] No such file or directory: '${path ?? name}'`, [
      nodeFrame('nodes.py', 1657, 'load_image', 'img = node_helpers.pillow(Image.open, image_path)'),
    ]);
  }
  return decodeImageFile(bytes, path ?? name);
}

const MASK_CHANNELS: Record<string, number> = { red: 0, green: 1, blue: 2, alpha: 3 };

export const FILE_NODES: Record<string, NodeBehaviour> = {
  LoadImage: {
    ...IMAGE_FILE_INPUT,
    run: async ({ image }, context) => {
      const decoded = await loadInputImage(image, context.storage);
      const pixels = new Uint8Array(decoded.width * decoded.height * 3);
      let mask: MaskValue;
      if (decoded.channels === 4) {
        const opacity = new Float32Array(decoded.width * decoded.height);
        for (let p = 0; p < opacity.length; p++) {
          pixels[p * 3] = decoded.pixels[p * 4] ?? 0;
          pixels[p * 3 + 1] = decoded.pixels[p * 4 + 1] ?? 0;
          pixels[p * 3 + 2] = decoded.pixels[p * 4 + 2] ?? 0;
          opacity[p] = 1 - (decoded.pixels[p * 4 + 3] ?? 255) / 255;
        }
        mask = { kind: 'mask', width: decoded.width, height: decoded.height, frames: [opacity] };
      } else {
        pixels.set(decoded.pixels.subarray(0, pixels.length));
        mask = { kind: 'mask', width: 64, height: 64, frames: [new Float32Array(64 * 64)] };
      }
      const result: ImageValue = { kind: 'image', width: decoded.width, height: decoded.height, channels: 3, frames: [bytesToFrame(pixels)] };
      return { outputs: [result, mask] };
    },
  },

  /** One channel of the picture as a mask (converted to RGBA first; alpha inverted, as opacity). */
  LoadImageMask: {
    ...IMAGE_FILE_INPUT,
    run: async ({ image, channel }, context) => {
      const decoded = await loadInputImage(image, context.storage);
      const index = MASK_CHANNELS[stringInput(channel, 'alpha')] ?? 3;
      const values = new Float32Array(decoded.width * decoded.height);
      for (let p = 0; p < values.length; p++) {
        const byte = index < decoded.channels ? (decoded.pixels[p * decoded.channels + index] ?? 0) : 255;
        values[p] = index === 3 ? 1 - byte / 255 : byte / 255;
      }
      const mask: MaskValue = { kind: 'mask', width: decoded.width, height: decoded.height, frames: [values] };
      return { outputs: [mask] };
    },
  },

  SaveImage: {
    run: async ({ images, filename_prefix, prompt, extra_pnginfo }, context) => {
      const source = requireValue(images, 'image');
      const saved = await saveImages(context, source, stringInput(filename_prefix, 'ComfyUI'), 'output', 4, { prompt, extraPngInfo: extra_pnginfo });
      return { ui: { images: saved } };
    },
  },

  PreviewImage: {
    run: async ({ images, prompt, extra_pnginfo }, context) => {
      const source = requireValue(images, 'image');
      const suffix = context.nodeState(() => Array.from({ length: 5 }, () => TEMP_SUFFIX_LETTERS[randomInt(TEMP_SUFFIX_LETTERS.length)]).join(''));
      const saved = await saveImages(context, source, `ComfyUI_temp_${suffix}`, 'temp', 1, { prompt, extraPngInfo: extra_pnginfo });
      return { ui: { images: saved } };
    },
  },

  SaveImageWebsocket: {
    run: async ({ images }, context) => {
      const source = requireValue(images, 'image');
      const count = source.frames.length;
      for (const [step, frame] of source.frames.entries()) {
        await context.progress(step, count, async () => ({
          format: 'PNG',
          bytes: await encodePng(frameToBytes(frame), source.width, source.height, source.channels, { level: 1 }),
        }));
      }
      return {};
    },
  },
};
