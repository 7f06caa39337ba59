/**
 * Latents and samplers. A sampler waits `stepMs` per step, ticks the progress bar once per
 * step with a preview of the picture "denoising", and returns a latent carrying the recipe of
 * the picture (prompt text, seed, cfg…) that VAEDecode then draws.
 */
import { numberInput, requireValue, stringInput } from './inputs.ts';
import { decodeLatent, DenoisingPreview } from './pictures.ts';
import type { NodeBehaviour, NodeContext } from './types.ts';
import { isValue, type LatentValue, type PictureRecipe } from './values.ts';

function conditioningText(value: unknown): string {
  return isValue(value, 'conditioning') ? value.text : '';
}

async function denoise(context: NodeContext, latent: LatentValue, ticks: number): Promise<void> {
  const preview = context.settings.previews ? new DenoisingPreview(latent, context.settings.previewSize) : undefined;
  for (let step = 1; step <= ticks; step++) {
    await context.sleep(context.settings.stepMs);
    await context.progress(step, ticks, preview ? () => preview.image(step / ticks) : undefined);
  }
}

function recipe(inputs: Record<string, unknown>, seed: unknown): PictureRecipe {
  const model = requireValue(inputs.model, 'model', 'model');
  return {
    prompt: conditioningText(inputs.positive),
    negative: conditioningText(inputs.negative),
    seed: numberInput(seed),
    cfg: numberInput(inputs.cfg, 8),
    sampler: stringInput(inputs.sampler_name),
    model: model.name,
  };
}

export const SAMPLING_NODES: Record<string, NodeBehaviour> = {
  EmptyLatentImage: {
    run: ({ width, height, batch_size }) => {
      const latent: LatentValue = {
        kind: 'latent',
        width: Math.floor(numberInput(width, 512) / 8) * 8,
        height: Math.floor(numberInput(height, 512) / 8) * 8,
        batch: numberInput(batch_size, 1),
      };
      return { outputs: [latent] };
    },
  },

  KSampler: {
    run: async (inputs, context) => {
      const latent = requireValue(inputs.latent_image, 'latent', 'copy');
      const strength = numberInput(inputs.denoise, 1);
      if (strength <= 0) return { outputs: [latent] };
      const result: LatentValue = { ...latent, recipe: recipe(inputs, inputs.seed), strength };
      await denoise(context, result, numberInput(inputs.steps, 20));
      return { outputs: [result] };
    },
  },

  KSamplerAdvanced: {
    run: async (inputs, context) => {
      const latent = requireValue(inputs.latent_image, 'latent', 'copy');
      const steps = numberInput(inputs.steps, 20);
      const start = numberInput(inputs.start_at_step);
      const ticks = Math.max(0, Math.min(numberInput(inputs.end_at_step, 10000), steps) - start);
      if (ticks === 0) return { outputs: [latent] };
      // Without added noise the sampler continues the picture it was given.
      const continues = inputs.add_noise === 'disable' && latent.recipe !== undefined;
      const result: LatentValue = {
        ...latent,
        recipe: continues ? latent.recipe : recipe(inputs, inputs.noise_seed),
        strength: continues ? (latent.strength ?? 1) : ticks / steps,
      };
      await denoise(context, result, ticks);
      return { outputs: [result] };
    },
  },

  VAEDecode: {
    run: ({ samples, vae }) => {
      requireValue(vae, 'vae', 'decode');
      return { outputs: [decodeLatent(requireValue(samples, 'latent', 'copy'))] };
    },
  },

  VAEEncode: {
    run: ({ pixels, vae }) => {
      requireValue(vae, 'vae', 'encode');
      const image = requireValue(pixels, 'image');
      const latent: LatentValue = {
        kind: 'latent',
        width: Math.max(8, Math.floor(image.width / 8) * 8),
        height: Math.max(8, Math.floor(image.height / 8) * 8),
        batch: image.frames.length,
        source: image,
      };
      return { outputs: [latent] };
    },
  },
};
