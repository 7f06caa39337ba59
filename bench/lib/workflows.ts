/** The simulator's text-to-image workflow that the benchmark runs, in the sizes its sections need. */
export function samplerWorkflow(options: { seed: number; steps: number; size: number; text: string; prefix: string; negative?: string }): Record<string, unknown> {
  const negative = options.negative === undefined ? undefined : { class_type: 'CLIPTextEncode', inputs: { text: options.negative, clip: ['4', 1] } };
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sim-v1.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: options.size, height: options.size, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: options.text, clip: ['4', 1] } },
    ...(negative ? { '7': negative } : {}),
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: options.seed,
        steps: options.steps,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: [negative ? '7' : '6', 0],
        latent_image: ['5', 0],
      },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: options.prefix, images: ['8', 0] } },
  };
}
