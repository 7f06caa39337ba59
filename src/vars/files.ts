/**
 * Variable files on disk: `NAME.txt` or `NAME.md` in the variable folders (the first folder that
 * has a name wins), one entry per line; blank lines and `#` comments do not count.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { PyrosError } from '../errors.ts';
import { isSafeName } from './syntax.ts';

export const EXTENSIONS = ['.txt', '.md'] as const;
/** How deep listVariables looks into sub-folders. */
const MAX_FOLDER_DEPTH = 8;
/** Files larger than this are refused: a variable file is a list of lines, not a data set. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface VariableFile {
  /** `color`, `styles/painters`. */
  name: string;
  path: string;
}

/** A path inside `dir`, or undefined when the name would lead outside it. */
function inside(dir: string, name: string, extension = ''): string | undefined {
  if (!isSafeName(name)) return undefined;
  const root = resolve(dir);
  const path = resolve(root, ...name.split('/')) + extension;
  return path.startsWith(root + sep) ? path : undefined;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** The file that defines `name`: the first folder that has NAME.txt or NAME.md. */
export async function findVariableFile(dirs: readonly string[], name: string): Promise<VariableFile | undefined> {
  for (const dir of dirs) {
    for (const extension of EXTENSIONS) {
      const path = inside(dir, name, extension);
      if (path !== undefined && (await isFile(path))) return { name, path };
    }
  }
  return undefined;
}

/** The files directly in `folder` of the first variable folder that has it, sorted by name. */
export async function findFolderFiles(dirs: readonly string[], folder: string): Promise<VariableFile[] | undefined> {
  for (const dir of dirs) {
    const path = inside(dir, folder);
    if (path === undefined || !(await isDirectory(path))) continue;
    const entries = await readdir(path, { withFileTypes: true });
    const files = new Map<string, VariableFile>();
    for (const entry of entries.map((e) => e.name).sort()) {
      const extension = EXTENSIONS.find((ext) => entry.endsWith(ext));
      if (!extension) continue;
      const stem = entry.slice(0, -extension.length);
      const name = `${folder}/${stem}`;
      const file = join(path, entry);
      // NAME.txt wins over NAME.md, as for single variables.
      if (!isSafeName(name) || !(await isFile(file))) continue;
      if (!files.has(stem) || extension === '.txt') files.set(stem, { name, path: file });
    }
    return [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, file]) => file);
  }
  return undefined;
}

export async function isVariableFolder(dirs: readonly string[], name: string): Promise<boolean> {
  for (const dir of dirs) {
    const path = inside(dir, name);
    if (path !== undefined && (await isDirectory(path))) return true;
  }
  return false;
}

const MARKDOWN_LIST_MARKER = /^(?:[-*+]|\d+[.)])\s+/;

/** The entries of a variable file, in order. In `.md` files a list marker (`- `, `1. `) is dropped. */
export function parseEntries(text: string, markdown: boolean): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const entries: string[] = [];
  for (const raw of body.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (markdown) line = line.replace(MARKDOWN_LIST_MARKER, '').trim();
    if (line !== '') entries.push(line);
  }
  return entries;
}

export async function readEntries(file: VariableFile): Promise<string[]> {
  try {
    const info = await stat(file.path);
    if (info.size > MAX_FILE_BYTES) {
      throw new PyrosError('usage', `The variable file ${file.path} is too large (${info.size} bytes; the limit is ${MAX_FILE_BYTES}).`, {
        reason: 'variable-file-too-large',
        fields: { path: file.path, bytes: info.size, limit: MAX_FILE_BYTES },
      });
    }
    return parseEntries(await readFile(file.path, 'utf8'), file.path.endsWith('.md'));
  } catch (error) {
    if (error instanceof PyrosError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new PyrosError('usage', `Cannot read the variable file ${file.path}: ${(error as Error).message}.`, {
      reason: 'variable-file-unreadable',
      fields: { path: file.path, ...(code ? { code } : {}) },
      cause: error,
    });
  }
}

/** Every variable file under `dir` (sub-folders too), as names relative to it. */
export async function walkVariableFiles(dir: string): Promise<VariableFile[]> {
  const root = resolve(dir);
  const found: VariableFile[] = [];
  const visit = async (folder: string, depth: number): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      const info = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
      if (info?.isDirectory()) {
        if (depth < MAX_FOLDER_DEPTH) await visit(path, depth + 1);
        continue;
      }
      const extension = EXTENSIONS.find((ext) => entry.name.endsWith(ext));
      if (!extension || !info?.isFile()) continue;
      const name = relative(root, path).slice(0, -extension.length).split(sep).join('/');
      if (isSafeName(name)) found.push({ name, path });
    }
  };
  await visit(root, 0);
  return found;
}
