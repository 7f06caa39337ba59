/** Resampling of interleaved pixel arrays (ComfyUI's common_upscale, simplified). */

export type ResizeMethod = 'nearest' | 'bilinear';

export interface PixelArray<T extends Uint8Array | Float32Array> {
  data: T;
  width: number;
  height: number;
  channels: number;
}

/** Crops the centre of the source to the target aspect ratio first when `crop` is 'center'. */
export function resizePixels<T extends Uint8Array | Float32Array>(
  source: PixelArray<T>,
  width: number,
  height: number,
  method: ResizeMethod,
  crop: 'disabled' | 'center' = 'disabled',
): T {
  const { channels } = source;
  let x0 = 0;
  let y0 = 0;
  let cropWidth = source.width;
  let cropHeight = source.height;
  if (crop === 'center') {
    const oldAspect = source.width / source.height;
    const newAspect = width / height;
    if (oldAspect > newAspect) {
      x0 = Math.round((source.width - source.width * (newAspect / oldAspect)) / 2);
      cropWidth = source.width - 2 * x0;
    } else if (oldAspect < newAspect) {
      y0 = Math.round((source.height - source.height * (oldAspect / newAspect)) / 2);
      cropHeight = source.height - 2 * y0;
    }
  }
  const out = (source.data instanceof Float32Array ? new Float32Array(width * height * channels) : new Uint8Array(width * height * channels)) as T;
  const scaleX = cropWidth / width;
  const scaleY = cropHeight / height;
  const src = source.data;
  const isBytes = !(source.data instanceof Float32Array);
  const rowStride = source.width * channels;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(cropHeight - 1, Math.max(0, (y + 0.5) * scaleY - 0.5));
    const yA = Math.floor(sy);
    const yB = Math.min(cropHeight - 1, yA + 1);
    const fy = sy - yA;
    const nearestY = Math.min(cropHeight - 1, Math.floor((y + 0.5) * scaleY));
    for (let x = 0; x < width; x++) {
      const target = (y * width + x) * channels;
      if (method === 'nearest') {
        const nearestX = Math.min(cropWidth - 1, Math.floor((x + 0.5) * scaleX));
        const from = (y0 + nearestY) * rowStride + (x0 + nearestX) * channels;
        for (let c = 0; c < channels; c++) out[target + c] = src[from + c] ?? 0;
        continue;
      }
      const sx = Math.min(cropWidth - 1, Math.max(0, (x + 0.5) * scaleX - 0.5));
      const xA = Math.floor(sx);
      const xB = Math.min(cropWidth - 1, xA + 1);
      const fx = sx - xA;
      const a = (y0 + yA) * rowStride + (x0 + xA) * channels;
      const b = (y0 + yA) * rowStride + (x0 + xB) * channels;
      const c2 = (y0 + yB) * rowStride + (x0 + xA) * channels;
      const d = (y0 + yB) * rowStride + (x0 + xB) * channels;
      for (let c = 0; c < channels; c++) {
        const top = (src[a + c] ?? 0) * (1 - fx) + (src[b + c] ?? 0) * fx;
        const bottom = (src[c2 + c] ?? 0) * (1 - fx) + (src[d + c] ?? 0) * fx;
        const value = top * (1 - fy) + bottom * fy;
        out[target + c] = isBytes ? Math.round(value) : value;
      }
    }
  }
  return out;
}
