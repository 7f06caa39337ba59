/** Pixel nodes: they really compute on the pixels, like the real ones. */
import { NodeError } from '../errors.ts';
import { hash32, randomSource } from '../imaging/procedural.ts';
import { resizePixels, type ResizeMethod } from '../imaging/resize.ts';
import { numberInput, requireValue } from './inputs.ts';
import type { NodeBehaviour } from './types.ts';
import { ensureAllocatable, newImage, type ImageValue, type MaskValue } from './values.ts';

/** The traceback frame of ImageBatch's torch.cat, as the real node fails. */
const IMAGE_BATCH_FRAME =
  '  File "/opt/comfyui/ComfyUI/nodes.py", line 1857, in batch\n    s = torch.cat((image1, image2), dim=0)\n        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n';

function resizeImage(image: ImageValue, width: number, height: number, method: ResizeMethod, crop: 'disabled' | 'center'): ImageValue {
  ensureAllocatable(width * height * image.channels * image.frames.length * 4);
  return {
    ...image,
    width,
    height,
    frames: image.frames.map((frame) => resizePixels({ data: frame, width: image.width, height: image.height, channels: image.channels }, width, height, method, crop)),
  };
}

function resizeMask(mask: MaskValue, width: number, height: number): MaskValue {
  if (mask.width === width && mask.height === height) return mask;
  return {
    ...mask,
    width,
    height,
    frames: mask.frames.map((frame) => resizePixels({ data: frame, width: mask.width, height: mask.height, channels: 1 }, width, height, 'bilinear')),
  };
}

export const IMAGE_NODES: Record<string, NodeBehaviour> = {
  EmptyImage: {
    run: ({ width, height, batch_size, color }) => {
      const image = newImage(numberInput(width, 512), numberInput(height, 512), 3, numberInput(batch_size, 1));
      const rgb = numberInput(color);
      const channels = [((rgb >> 16) & 0xff) / 0xff, ((rgb >> 8) & 0xff) / 0xff, (rgb & 0xff) / 0xff];
      for (const frame of image.frames) for (let i = 0; i < frame.length; i++) frame[i] = channels[i % 3] ?? 0;
      return { outputs: [image] };
    },
  },

  ImageInvert: {
    run: ({ image }) => {
      const source = requireValue(image, 'image');
      return { outputs: [{ ...source, frames: source.frames.map((frame) => frame.map((value) => 1 - value)) }] };
    },
  },

  /** Gaussian noise from the seed (not torch's numbers: the same seed gives the same picture here). */
  ImageAddNoise: {
    run: ({ image, seed, strength }) => {
      const source = requireValue(image, 'image');
      const random = randomSource(hash32(String(seed)));
      const amount = numberInput(strength, 0.5);
      const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const frames = source.frames.map((frame) => frame.map((value) => Math.min(1, Math.max(0, value + amount * gaussian()))));
      return { outputs: [{ ...source, frames }] };
    },
  },

  ImageBatch: {
    run: ({ image1, image2 }) => {
      const first = requireValue(image1, 'image');
      let second = requireValue(image2, 'image');
      if (first.width !== second.width || first.height !== second.height) {
        second = resizeImage(second, first.width, first.height, 'bilinear', 'center');
      }
      if (first.channels !== second.channels) {
        throw new NodeError(
          'RuntimeError',
          `Sizes of tensors must match except in dimension 0. Expected size ${first.channels} but got size ${second.channels} for tensor number 1 in the list.`,
          [IMAGE_BATCH_FRAME],
        );
      }
      return { outputs: [{ ...first, frames: [...first.frames, ...second.frames] }] };
    },
  },

  ImageScale: {
    run: ({ image, upscale_method, width, height, crop }) => {
      const source = requireValue(image, 'image');
      let targetWidth = numberInput(width);
      let targetHeight = numberInput(height);
      if (targetWidth === 0 && targetHeight === 0) return { outputs: [source] };
      if (targetWidth === 0) targetWidth = Math.max(1, Math.round((source.width * targetHeight) / source.height));
      else if (targetHeight === 0) targetHeight = Math.max(1, Math.round((source.height * targetWidth) / source.width));
      const method: ResizeMethod = upscale_method === 'nearest-exact' ? 'nearest' : 'bilinear';
      return { outputs: [resizeImage(source, targetWidth, targetHeight, method, crop === 'center' ? 'center' : 'disabled')] };
    },
  },

  SolidMask: {
    run: ({ value, width, height }) => {
      const w = numberInput(width, 512);
      const h = numberInput(height, 512);
      ensureAllocatable(w * h * 4);
      const mask: MaskValue = { kind: 'mask', width: w, height: h, frames: [new Float32Array(w * h).fill(numberInput(value, 1))] };
      return { outputs: [mask] };
    },
  },

  JoinImageWithAlpha: {
    run: ({ image, alpha }) => {
      const source = requireValue(image, 'image');
      const mask = resizeMask(requireValue(alpha, 'mask'), source.width, source.height);
      const count = Math.min(source.frames.length, mask.frames.length);
      const result = newImage(source.width, source.height, 4, count);
      for (let b = 0; b < count; b++) {
        const from = source.frames[b] as Float32Array;
        const opacity = mask.frames[b] as Float32Array;
        const to = result.frames[b] as Float32Array;
        for (let p = 0; p < source.width * source.height; p++) {
          to[p * 4] = from[p * source.channels] ?? 0;
          to[p * 4 + 1] = from[p * source.channels + 1] ?? 0;
          to[p * 4 + 2] = from[p * source.channels + 2] ?? 0;
          to[p * 4 + 3] = 1 - (opacity[p] ?? 0);
        }
      }
      return { outputs: [result] };
    },
  },

  GetImageSize: {
    run: ({ image }, context) => {
      const source = requireValue(image, 'image');
      const batch = source.frames.length;
      context.sendText(`width: ${source.width}, height: ${source.height}\n batch size: ${batch}`);
      return { outputs: [source.width, source.height, batch] };
    },
  },
};
