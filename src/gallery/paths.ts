/**
 * Which file a `/files/…` request may read: only a regular file inside the gallery's folder,
 * after decoding and resolving symbolic links. `..` (plain or percent-encoded), absolute paths,
 * backslashes, NUL bytes and links that lead outside are refused.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';

export type Resolved = { ok: true; path: string; size: number; mtimeMs: number } | { ok: false; status: 400 | 403 | 404 };

/** `root` must already be a real path (see `realpath`). `encoded` is the part after `/files/`. */
export async function resolveInside(root: string, encoded: string): Promise<Resolved> {
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    return { ok: false, status: 400 };
  }
  if (name === '' || name.includes('\0') || name.includes('\\') || isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return { ok: false, status: 403 };
  const segments = name.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.' || segment === '')) return { ok: false, status: 403 };
  let real: string;
  try {
    real = await realpath(join(root, ...segments));
  } catch {
    return { ok: false, status: 404 };
  }
  if (!real.startsWith(root.endsWith(sep) ? root : root + sep)) return { ok: false, status: 403 };
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) return { ok: false, status: 404 };
  return { ok: true, path: real, size: info.size, mtimeMs: info.mtimeMs };
}
