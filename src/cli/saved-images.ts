/** Which saved file is "the image" of a job (for --open, --show, /last): the last image it saved. */
import { extname } from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif']);

export function lastImage<T extends { path: string }>(files: readonly T[]): T | undefined {
  return files.filter((file) => IMAGE_EXTENSIONS.has(extname(file.path).toLowerCase())).at(-1);
}
