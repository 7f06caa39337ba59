/** Listing the variables there are: for completion, help and "did you mean". */
import { resolve, sep } from 'node:path';
import { readEntries, walkVariableFiles, type VariableFile } from './files.ts';

export interface VariableInfo {
  /** `color`, `styles/painters`, or `styles/*` for a whole folder. */
  name: string;
  /** The files that define it, the one used first (later folders are shadowed by earlier ones). */
  files: string[];
  /** Number of entries it can expand to. */
  entries: number;
  /** Its first few entries. */
  samples: string[];
}

const SAMPLES = 3;

export async function listVariables(dirs: string[]): Promise<VariableInfo[]> {
  const byName = new Map<string, VariableFile[]>();
  /** For each folder, the variable folder that provides it first. */
  const folderOwner = new Map<string, string>();
  for (const dir of dirs) {
    for (const file of await walkVariableFiles(dir)) {
      const list = byName.get(file.name) ?? [];
      list.push(file);
      byName.set(file.name, list);
      const slash = file.name.lastIndexOf('/');
      if (slash > 0 && !folderOwner.has(file.name.slice(0, slash))) folderOwner.set(file.name.slice(0, slash), dir);
    }
  }
  const entriesOf = new Map<string, string[]>();
  const infos: VariableInfo[] = [];
  for (const [name, files] of byName) {
    const first = files[0] as VariableFile;
    const entries = await readEntries(first).catch(() => []);
    entriesOf.set(name, entries);
    infos.push({ name, files: files.map((f) => f.path), entries: entries.length, samples: entries.slice(0, SAMPLES) });
  }
  for (const [folder, dir] of folderOwner) {
    const members = [...byName.entries()].filter(([name, files]) => name.slice(0, name.lastIndexOf('/')) === folder && files[0]?.path.startsWith(resolve(dir) + sep));
    const entries = members.flatMap(([name]) => entriesOf.get(name) ?? []);
    infos.push({ name: `${folder}/*`, files: members.map(([, files]) => files[0]?.path ?? ''), entries: entries.length, samples: entries.slice(0, SAMPLES) });
  }
  return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
