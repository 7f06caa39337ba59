/**
 * The model files the simulated server pretends to have, per ComfyUI model folder (the folder
 * list and order are the real server's /models). `tiny-sd2-unet.safetensors` is the model the
 * traffic fixtures were recorded with, so their workflows run unchanged.
 */
export const MODEL_FOLDERS: Readonly<Record<string, readonly string[]>> = {
  checkpoints: ['sim-v1.safetensors'],
  configs: [],
  loras: [],
  vae: [],
  text_encoders: [],
  diffusion_models: ['tiny-sd2-unet.safetensors'],
  clip_vision: [],
  style_models: [],
  embeddings: [],
  diffusers: [],
  vae_approx: [],
  controlnet: [],
  gligen: [],
  upscale_models: [],
  custom_nodes: [],
  hypernetworks: [],
  photomaker: [],
  classifiers: [],
  model_patches: [],
  audio_encoders: [],
};

/** VAELoader also offers the built-in decoders. */
export const BUILT_IN_VAES = ['taesd', 'pixel_space'];

export function modelFiles(folder: string): string[] {
  return [...(MODEL_FOLDERS[folder] ?? [])];
}
