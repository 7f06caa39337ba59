/**
 * What the gallery lists: the outputs in one folder (not its sub-folders) with what their `.json`
 * sidecars say (prompt, template, seed, server, workflow file, prompt id, timings), newest first.
 * Media files without a sidecar are listed too; sidecars and prompt `.txt` files are not.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { reproduceCommand } from './reproduce.ts';

export type ItemKind = 'image' | 'video' | 'audio' | 'text' | 'other';

export interface GalleryItem {
  /** File name inside the folder. */
  file: string;
  url: string;
  kind: ItemKind;
  bytes: number;
  /** When it was saved (the sidecar's `saved_at`, else the file's modification time). */
  savedAt: string;
  sidecar?: string;
  prompt?: string;
  /** The prompt as written, when variables were expanded. */
  template?: string;
  seed?: number;
  server?: string;
  workflowFile?: string;
  promptId?: string;
  nodeId?: string;
  totalMs?: number;
  /** `pyros run …` that makes it again. */
  command?: string;
}

const KINDS: Record<string, ItemKind> = {
  '.png': 'image',
  '.jpg': 'image',
  '.jpeg': 'image',
  '.webp': 'image',
  '.gif': 'image',
  '.avif': 'image',
  '.bmp': 'image',
  '.mp4': 'video',
  '.webm': 'video',
  '.mov': 'video',
  '.mp3': 'audio',
  '.wav': 'audio',
  '.flac': 'audio',
  '.ogg': 'audio',
  '.txt': 'text',
  '.json': 'text',
};

export function kindOf(name: string): ItemKind {
  return KINDS[extname(name).toLowerCase()] ?? 'other';
}

interface Sidecar {
  name: string;
  data: Record<string, unknown>;
}

/** Parsed sidecars by name, kept while the file's size and time stay the same. */
export class SidecarCache {
  private readonly entries = new Map<string, { key: string; data: Record<string, unknown> | undefined }>();

  async read(dir: string, name: string, size: number, mtimeMs: number): Promise<Record<string, unknown> | undefined> {
    const key = `${size}:${mtimeMs}`;
    const hit = this.entries.get(name);
    if (hit?.key === key) return hit.data;
    let data: Record<string, unknown> | undefined;
    try {
      const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
      data = parsed && typeof parsed === 'object' && !Array.isArray(parsed) && typeof (parsed as { file?: unknown }).file === 'string' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      data = undefined;
    }
    this.entries.set(name, { key, data });
    return data;
  }

  /** Forgets files that are gone. */
  keepOnly(names: Set<string>): void {
    for (const name of this.entries.keys()) if (!names.has(name)) this.entries.delete(name);
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export async function scanOutputs(dir: string, cache = new SidecarCache()): Promise<GalleryItem[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = new Map<string, { bytes: number; mtimeMs: number }>();
  await Promise.all(
    entries
      .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
      .map(async (entry) => {
        const info = await stat(join(dir, entry.name)).catch(() => undefined);
        if (info?.isFile()) files.set(entry.name, { bytes: info.size, mtimeMs: info.mtimeMs });
      }),
  );
  cache.keepOnly(new Set(files.keys()));

  const sidecars = new Map<string, Sidecar>();
  for (const [name, info] of files) {
    if (!name.endsWith('.json')) continue;
    const data = await cache.read(dir, name, info.bytes, info.mtimeMs);
    const target = data ? text(data.file) : undefined;
    if (data && target && target !== name && files.has(target)) sidecars.set(target, { name, data });
  }
  const sidecarNames = new Set([...sidecars.values()].map((s) => s.name));
  // The prompt beside each output: NAME.txt, or NAME.ext.prompt.txt for text outputs.
  const promptFiles = new Set<string>();
  for (const target of sidecars.keys()) {
    const dot = target.lastIndexOf('.');
    const stem = dot > 0 ? target.slice(0, dot) : target;
    promptFiles.add(target.endsWith('.txt') || target.endsWith('.json') ? `${target}.prompt.txt` : `${stem}.txt`);
  }

  const items: GalleryItem[] = [];
  for (const [name, info] of files) {
    const sidecar = sidecars.get(name);
    const kind = kindOf(name);
    if (!sidecar && (sidecarNames.has(name) || promptFiles.has(name) || kind === 'text' || kind === 'other')) continue;
    const data = sidecar?.data ?? {};
    const prompt = text(data.prompt);
    // `prompt_template`: the prompt as written, when its variables were expanded.
    const template = text(data.prompt_template) ?? text(data.template);
    const seed = num(data.seed);
    const server = text(data.server);
    const workflowFile = text(data.workflow_file);
    const timings = data.timings && typeof data.timings === 'object' ? (data.timings as Record<string, unknown>) : {};
    items.push({
      file: name,
      url: `/files/${encodeURIComponent(name)}`,
      kind,
      bytes: info.bytes,
      savedAt: text(data.saved_at) ?? new Date(info.mtimeMs).toISOString(),
      sidecar: sidecar?.name,
      prompt,
      template: template !== undefined && template !== prompt ? template : undefined,
      seed,
      server,
      workflowFile,
      promptId: text(data.prompt_id),
      nodeId: text(data.node_id),
      totalMs: num(timings.total_ms),
      command: sidecar ? reproduceCommand({ workflowFile, prompt: template ?? prompt, seed, server }) : undefined,
    });
  }
  return items.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.file < b.file ? 1 : a.file > b.file ? -1 : 0));
}

/** Items whose prompt, template or file name contains every word of the query (any case). */
export function searchItems(items: readonly GalleryItem[], query: string): GalleryItem[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...items];
  return items.filter((item) => {
    const haystack = `${item.prompt ?? ''}\n${item.template ?? ''}\n${item.file}`.toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}
