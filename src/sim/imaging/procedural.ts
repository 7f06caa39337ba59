/**
 * The pictures the simulated model "generates": a landscape (sky, sun or moon, layered hills)
 * whose palette comes from the prompt text and whose composition comes from the seed. Cheap to
 * draw at any size, deterministic, and different enough per prompt to be worth looking at.
 */
import type { PictureRecipe } from '../nodes/values.ts';

type Rgb = [number, number, number];

export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: small, fast, good enough for composition choices. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hsl(hue: number, saturation: number, lightness: number): Rgb {
  const h = (((hue % 360) + 360) % 360) / 60;
  const c = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = lightness - c / 2;
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Words that colour the land; the sky keeps sky colours unless the mood changes it. */
const COLOUR_WORDS: [RegExp, number][] = [
  [/\b(red|crimson|ruby|fire|volcano)\b/, 2],
  [/\b(orange|amber|autumn|fox)\b/, 26],
  [/\b(yellow|gold|golden|desert|sand|dune)\b/, 44],
  [/\b(green|forest|jungle|meadow|spring|grass)\b/, 110],
  [/\b(teal|turquoise|lagoon|jade)\b/, 168],
  [/\b(cyan|ice|frozen|winter|snow|glacier)\b/, 192],
  [/\b(blue|ocean|sea|lake|water|river)\b/, 214],
  [/\b(purple|violet|lavender|amethyst)\b/, 272],
  [/\b(magenta|neon|cyberpunk)\b/, 305],
  [/\b(pink|rose|cherry|blossom|flamingo)\b/, 336],
];

type Mood = 'day' | 'sunset' | 'night';

interface Layer {
  base: number;
  waves: [frequency: number, amplitude: number, phase: number][];
  colour: Rgb;
}

export interface Scene {
  mood: Mood;
  skyTop: Rgb;
  skyHorizon: Rgb;
  sun: { x: number; y: number; radius: number; colour: Rgb };
  layers: Layer[];
  contrast: number;
}

export function planScene(recipe: PictureRecipe, batchIndex: number): Scene {
  const text = recipe.prompt.toLowerCase();
  const random = randomSource(hash32(`${recipe.model}|${recipe.prompt}|${recipe.negative}|${recipe.seed}|${batchIndex}`));
  const promptHash = hash32(text);
  const named = COLOUR_WORDS.find(([pattern]) => pattern.test(text));
  const landHue = (named ? named[1] : promptHash % 360) + (random() - 0.5) * 24;
  const skyHue = 195 + ((promptHash >>> 9) % 50) + (random() - 0.5) * 16;
  const mood: Mood = /\b(night|moon|moonlit|stars?|space|galaxy|midnight|dark)\b/.test(text)
    ? 'night'
    : /\b(sunset|sunrise|dusk|dawn|evening)\b/.test(text)
      ? 'sunset'
      : 'day';

  const skyTop = mood === 'night' ? hsl(228, 0.55, 0.07) : mood === 'sunset' ? hsl(255 + (random() - 0.5) * 30, 0.45, 0.3) : hsl(skyHue, 0.6, 0.45);
  const skyHorizon =
    mood === 'night' ? hsl(skyHue + 20, 0.4, 0.22) : mood === 'sunset' ? hsl(22 + (random() - 0.5) * 20, 0.85, 0.62) : hsl(skyHue - 15, 0.5, 0.85);
  const sunColour = mood === 'night' ? hsl(skyHue, 0.25, 0.92) : mood === 'sunset' ? hsl(18, 1, 0.66) : hsl(50, 1, 0.93);
  const sun = { x: 0.2 + random() * 0.6, y: 0.14 + random() * 0.28, radius: 0.045 + random() * 0.045, colour: sunColour };

  const count = 3 + Math.floor(random() * 2);
  const layers: Layer[] = [];
  for (let k = 0; k < count; k++) {
    const nearness = (k + 1) / count;
    const lightness = (mood === 'night' ? 0.22 : 0.52) - nearness * (mood === 'night' ? 0.15 : 0.3);
    const ground = hsl(landHue + k * 10, mood === 'night' ? 0.25 : 0.5, Math.max(0.04, lightness));
    layers.push({
      base: 0.5 + k * (0.34 / count) + (random() - 0.5) * 0.06,
      waves: [
        [1 + random() * 1.5, 0.05 + random() * 0.05, random() * Math.PI * 2],
        [3 + random() * 3, 0.02 + random() * 0.025, random() * Math.PI * 2],
        [9 + random() * 8, 0.004 + random() * 0.01, random() * Math.PI * 2],
      ],
      colour: mix(skyHorizon, ground, 0.35 + 0.65 * nearness),
    });
  }
  return { mood, skyTop, skyHorizon, sun, layers, contrast: 0.85 + Math.min(Math.max(recipe.cfg, 0), 15) / 50 };
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Draws the scene into `out` (row-major, `channels` bytes per pixel; alpha set opaque). */
export function renderScene(scene: Scene, width: number, height: number, out: Uint8Array, channels: 3 | 4): void {
  const edges = scene.layers.map((layer) => {
    const edge = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      const u = x / Math.max(1, width - 1);
      let y = layer.base;
      for (const [frequency, amplitude, phase] of layer.waves) y -= Math.sin(u * frequency * Math.PI * 2 + phase) * amplitude;
      edge[x] = y * height;
    }
    return edge;
  });
  const size = Math.min(width, height);
  const sunX = scene.sun.x * width;
  const sunY = scene.sun.y * height;
  const sunRadius = scene.sun.radius * size;
  const glowRadius = sunRadius * 4;
  const contrast = scene.contrast;

  for (let y = 0; y < height; y++) {
    const sky = mix(scene.skyTop, scene.skyHorizon, Math.pow(y / Math.max(1, height - 1), 0.8));
    const nearSun = Math.abs(y - sunY) < glowRadius;
    for (let x = 0; x < width; x++) {
      let r: number;
      let g: number;
      let b: number;
      let layerIndex = -1;
      for (let k = edges.length - 1; k >= 0; k--) {
        if (y >= (edges[k]?.[x] ?? height)) {
          layerIndex = k;
          break;
        }
      }
      if (layerIndex >= 0) {
        const layer = scene.layers[layerIndex];
        // Shaded by depth below the layer's mean line, so the shading has no vertical streaks.
        const depth = Math.max(0, y / height - (layer?.base ?? 0));
        const shade = 1 - Math.min(0.4, depth * 1.2);
        const colour = layer?.colour ?? sky;
        r = colour[0] * shade;
        g = colour[1] * shade;
        b = colour[2] * shade;
      } else {
        r = sky[0];
        g = sky[1];
        b = sky[2];
        if (nearSun && Math.abs(x - sunX) < glowRadius) {
          const distance = Math.hypot(x - sunX, y - sunY);
          const disc = Math.min(1, Math.max(0, sunRadius + 0.75 - distance));
          const glow = Math.exp(-((distance / glowRadius) ** 2) * 3) * 0.55;
          const weight = Math.min(1, disc + glow);
          r += (scene.sun.colour[0] - r) * weight;
          g += (scene.sun.colour[1] - g) * weight;
          b += (scene.sun.colour[2] - b) * weight;
        }
        if (scene.mood === 'night') {
          const star = Math.imul((x * 73856093) ^ (y * 19349663), 0x9e3779b1) >>> 0;
          if (star % 997 === 0) {
            r = 235;
            g = 235;
            b = 255;
          }
        }
      }
      const out0 = (y * width + x) * channels;
      out[out0] = clampByte((r - 128) * contrast + 128);
      out[out0 + 1] = clampByte((g - 128) * contrast + 128);
      out[out0 + 2] = clampByte((b - 128) * contrast + 128);
      if (channels === 4) out[out0 + 3] = 255;
    }
  }
}

/**
 * One sampler preview: coarse coloured noise resolving into `picture` (RGBA) as `progress`
 * goes from 0 to 1, like a latent preview of a diffusion run.
 */
export function renderDenoisingFrame(picture: Uint8Array, width: number, height: number, progress: number, noiseSeed: number, out: Uint8Array): void {
  const cell = Math.max(4, Math.round(Math.min(width, height) / 16));
  const clarity = 1 - (1 - progress) * (1 - progress);
  const block = Math.max(1, Math.round(cell * Math.pow(1 - progress, 1.5)));
  for (let y = 0; y < height; y++) {
    const sampleY = Math.min(height - 1, Math.floor(y / block) * block + (block >> 1));
    const cellY = Math.floor(y / cell);
    for (let x = 0; x < width; x++) {
      const sampleX = Math.min(width - 1, Math.floor(x / block) * block + (block >> 1));
      const from = (sampleY * width + sampleX) * 4;
      const noise = Math.imul((Math.floor(x / cell) * 374761393) ^ (cellY * 668265263) ^ noiseSeed, 0x27d4eb2d) >>> 0;
      const target = (y * width + x) * 4;
      const r = (noise & 0xff) * 0.45 + 70;
      const g = ((noise >>> 8) & 0xff) * 0.45 + 70;
      const b = ((noise >>> 16) & 0xff) * 0.45 + 70;
      out[target] = r + ((picture[from] ?? 0) - r) * clarity;
      out[target + 1] = g + ((picture[from + 1] ?? 0) - g) * clarity;
      out[target + 2] = b + ((picture[from + 2] ?? 0) - b) * clarity;
      out[target + 3] = 255;
    }
  }
}
