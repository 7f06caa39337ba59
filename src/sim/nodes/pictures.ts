/**
 * From latents to pixels: the decoded picture of a latent, and the "denoising" previews a
 * sampler shows while it runs.
 */
import { encodeJpeg } from '../imaging/jpeg.ts';
import { hash32, planScene, renderDenoisingFrame, renderScene } from '../imaging/procedural.ts';
import { resizePixels } from '../imaging/resize.ts';
import type { PreviewImage } from './types.ts';
import { bytesToFrame, ensureAllocatable, newImage, type ImageValue, type LatentValue } from './values.ts';

const PREVIEW_QUALITY = 70;
/** What decoding an empty latent gives: a flat grey. */
const EMPTY_LATENT_GREY = 119;

/** Blends `source` (resized to the picture) under `picture` by 1 - strength. */
function blendSource(picture: Uint8Array, width: number, height: number, channels: 3 | 4, source: ImageValue, index: number, strength: number): void {
  const frame = source.frames[Math.min(index, source.frames.length - 1)];
  if (!frame || strength >= 1) return;
  const resized = resizePixels({ data: frame, width: source.width, height: source.height, channels: source.channels }, width, height, 'bilinear');
  for (let i = 0, j = 0; i < picture.length; i += channels, j += source.channels) {
    for (let c = 0; c < 3; c++) {
      const under = (resized[j + c] ?? 0) * 255;
      picture[i + c] = Math.round(under + ((picture[i + c] ?? 0) - under) * strength);
    }
  }
}

/** Draws batch item `index` of a latent at `width`×`height`. */
function drawLatent(latent: LatentValue, index: number, width: number, height: number, channels: 3 | 4): Uint8Array {
  const pixels = new Uint8Array(width * height * channels);
  if (latent.recipe) {
    renderScene(planScene(latent.recipe, index), width, height, pixels, channels);
    if (latent.source) blendSource(pixels, width, height, channels, latent.source, index, latent.strength ?? 1);
    return pixels;
  }
  if (latent.source) {
    blendSource(pixels, width, height, channels, latent.source, index, 0);
  } else {
    pixels.fill(EMPTY_LATENT_GREY);
  }
  if (channels === 4) for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  return pixels;
}

export function decodeLatent(latent: LatentValue): ImageValue {
  ensureAllocatable(latent.width * latent.height * 3 * 4 * latent.batch);
  const image = newImage(latent.width, latent.height, 3, 0);
  image.frames = Array.from({ length: latent.batch }, (_, index) => bytesToFrame(drawLatent(latent, index, latent.width, latent.height, 3)));
  return image;
}

/** Fits width×height into a square of `size`, keeping the aspect ratio (like PIL's ImageOps.contain). */
function containSize(width: number, height: number, size: number): [number, number] {
  const scale = size / Math.max(width, height);
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** The preview frames of one sampler run (batch item 0, as ComfyUI previews it). */
export class DenoisingPreview {
  private readonly latent: LatentValue;
  private readonly width: number;
  private readonly height: number;
  private picture: Uint8Array | undefined;
  private readonly frame: Uint8Array;
  private readonly noiseSeed: number;

  constructor(latent: LatentValue, size: number) {
    this.latent = latent;
    [this.width, this.height] = containSize(latent.width, latent.height, size);
    this.frame = new Uint8Array(this.width * this.height * 4);
    this.noiseSeed = hash32(`${latent.recipe?.seed ?? 0}|${latent.recipe?.prompt ?? ''}`);
  }

  /** JPEG of the picture at `progress` (0..1) of the denoising. */
  image(progress: number): PreviewImage {
    this.picture ??= drawLatent(this.latent, 0, this.width, this.height, 4);
    renderDenoisingFrame(this.picture, this.width, this.height, progress, this.noiseSeed, this.frame);
    return { format: 'JPEG', bytes: encodeJpeg(this.frame, this.width, this.height, PREVIEW_QUALITY) };
  }
}
