/**
 * Keeps a server's node definitions (/object_info) on disk, keyed by the server and its ComfyUI
 * version, so a conversion does not need to fetch them every time. Independent of the client: the
 * caller passes the fetcher.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isObject } from './detect.ts';

export interface DefinitionsCacheKey {
  /** The server as shown to the user (its address, secrets masked). */
  server: string;
  /** `system.comfyui_version` from /system_stats. */
  comfyuiVersion: string;
}

interface CacheFile {
  key: DefinitionsCacheKey;
  savedAt: string;
  definitions: unknown;
}

/** The file that holds the definitions for `key` inside `directory`. */
export function definitionsCachePath(directory: string, key: DefinitionsCacheKey): string {
  const digest = createHash('sha256').update(`${key.server}\u0000${key.comfyuiVersion}`).digest('hex').slice(0, 24);
  return join(directory, `object-info-${digest}.json`);
}

/**
 * Returns the cached definitions for `key`, or calls `fetch`, stores its result and returns it.
 * The file is written to a temporary name and renamed, so readers never see half a file; a cache
 * that cannot be read or written is treated as absent.
 */
export async function cachedDefinitions<T>(directory: string, key: DefinitionsCacheKey, fetch: () => Promise<T>): Promise<T> {
  const path = definitionsCachePath(directory, key);
  const cached = await readCache(path, key);
  if (cached !== undefined) return cached as T;
  const definitions = await fetch();
  await writeCache(directory, path, { key, savedAt: new Date().toISOString(), definitions });
  return definitions;
}

async function readCache(path: string, key: DefinitionsCacheKey): Promise<unknown> {
  try {
    const file: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (!isObject(file) || !isObject(file.key) || !('definitions' in file)) return undefined;
    if (file.key.server !== key.server || file.key.comfyuiVersion !== key.comfyuiVersion) return undefined;
    return file.definitions;
  } catch {
    return undefined;
  }
}

async function writeCache(directory: string, path: string, file: CacheFile): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(directory, { recursive: true });
    await writeFile(temporary, JSON.stringify(file), { mode: 0o600 });
    await rename(temporary, path);
  } catch {
    await rm(temporary, { force: true }).catch(() => undefined);
  }
}
