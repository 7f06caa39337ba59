/**
 * The data directory: output/, temp/ and input/ like ComfyUI's, path checks that keep requests
 * inside them, and the `<prefix>_00001_.png` numbering of saved files.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { NodeError, nodeFrame } from './errors.ts';

export type FileType = 'output' | 'temp' | 'input';

export interface SaveTarget {
  folder: string;
  filename: string;
  subfolder: string;
  /** First free counter; the caller reserves the numbers it uses with `commitCounter`. */
  counter: number;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.jfif', '.avif', '.heic']);

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Python's os.path.normpath for the '/'-separated names clients send. */
function normpath(path: string): string {
  const normalized = posix.normalize(path.replaceAll('\\', '/'));
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

export class Storage {
  readonly root: string;
  readonly dirs: Record<FileType, string>;
  /** Next counter per folder + name, learnt from one directory scan then kept in memory. */
  private readonly counters = new Map<string, number>();

  private constructor(root: string) {
    this.root = resolve(root);
    this.dirs = { output: join(this.root, 'output'), temp: join(this.root, 'temp'), input: join(this.root, 'input') };
  }

  /** Creates the directories; temp/ starts empty, as ComfyUI clears it on start. */
  static async open(root: string): Promise<Storage> {
    const storage = new Storage(root);
    await rm(storage.dirs.temp, { recursive: true, force: true });
    await Promise.all(Object.values(storage.dirs).map((dir) => mkdir(dir, { recursive: true })));
    return storage;
  }

  dirFor(type: string): string | undefined {
    return type === 'output' || type === 'temp' || type === 'input' ? this.dirs[type] : undefined;
  }

  /**
   * ComfyUI's get_save_image_path: `a/b` saves into subfolder `a` as `b_00001_.png`; a prefix
   * that leaves the folder fails the node like the real one does.
   */
  async saveTarget(type: 'output' | 'temp', filenamePrefix: string, width: number, height: number): Promise<SaveTarget> {
    const root = this.dirs[type];
    const prefix = expandPrefixVariables(filenamePrefix, width, height);
    const normalized = normpath(prefix);
    const slash = normalized.lastIndexOf('/');
    const subfolder = slash >= 0 ? normalized.slice(0, slash) : '';
    const filename = slash >= 0 ? normalized.slice(slash + 1) : normalized;
    const folder = resolve(root, subfolder);
    if (!isInside(root, folder)) {
      throw new NodeError(
        'Exception',
        `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${folder}\n         output_dir: ${root}\n         commonpath: ${commonPath(root, folder)}`,
        [nodeFrame('folder_paths.py', 424, 'get_save_image_path', 'raise Exception(err)')],
      );
    }
    const key = `${folder}\0${filename}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = await scanCounter(folder, filename);
      this.counters.set(key, counter);
    }
    return { folder, filename, subfolder, counter };
  }

  commitCounter(target: SaveTarget, next: number): void {
    this.counters.set(`${target.folder}\0${target.filename}`, next);
  }

  /** Image files directly in input/, sorted: LoadImage's choices. */
  async inputImages(): Promise<string[]> {
    const entries = await readdir(this.dirs.input, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(entry.name.slice(entry.name.lastIndexOf('.')).toLowerCase()))
      .map((entry) => entry.name)
      .sort();
  }
}

function commonPath(a: string, b: string): string {
  const left = a.split(sep);
  const right = b.split(sep);
  const shared: string[] = [];
  for (let i = 0; i < Math.min(left.length, right.length) && left[i] === right[i]; i++) shared.push(left[i] ?? '');
  return shared.join(sep) || sep;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

function expandPrefixVariables(prefix: string, width: number, height: number): string {
  if (!prefix.includes('%')) return prefix;
  const now = new Date();
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', pad2(now.getMonth() + 1))
    .replaceAll('%day%', pad2(now.getDate()))
    .replaceAll('%hour%', pad2(now.getHours()))
    .replaceAll('%minute%', pad2(now.getMinutes()))
    .replaceAll('%second%', pad2(now.getSeconds()));
}

/** One more than the highest `<filename>_NNNNN…` already in the folder (creating it if needed). */
async function scanCounter(folder: string, filename: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    await mkdir(folder, { recursive: true });
    return 1;
  }
  // os.path.normcase: case-insensitive only on Windows.
  const fold = process.platform === 'win32' ? (text: string): string => text.toLowerCase() : (text: string): string => text;
  const wanted = fold(filename);
  let highest = 0;
  for (const name of names) {
    const prefix = name.slice(0, filename.length + 1);
    if (fold(prefix.slice(0, -1)) !== wanted || !prefix.endsWith('_')) continue;
    const digits = name.slice(filename.length + 1).split('_')[0] ?? '';
    if (/^\d+$/.test(digits)) highest = Math.max(highest, Number(digits));
  }
  return highest + 1;
}
