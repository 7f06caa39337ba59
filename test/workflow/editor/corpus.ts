/** The editor/prompt pairs under test/fixtures/editor, made by ComfyUI's own frontend. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = fileURLToPath(new URL('../../fixtures/editor/', import.meta.url));

/** Where a public workflow was taken from. */
export interface PublicSource {
  repository: string;
  path: string;
  commit: string;
  url: string;
}

export interface Pair {
  file: string;
  name: string;
  features: string[];
  /** `generated` (written for this corpus), or the public file the workflow was taken from. */
  source: 'generated' | PublicSource;
  frontend_version: string;
  workflow: Record<string, unknown>;
  prompt: Record<string, { inputs: Record<string, unknown>; class_type: string; _meta: { title: string } }> | null;
  frontend_error?: string;
  /** Node classes the server lacks that the workflow uses, as they were given to the editor. */
  object_info?: Record<string, unknown>;
  /** The editor's titles for those classes. */
  frontend_titles?: Record<string, string>;
}

const SHARED = new Set(['object_info.json', 'frontend-nodes.json']);

export function loadPairs(): Pair[] {
  return readdirSync(CORPUS_DIR)
    .filter((file) => file.endsWith('.json') && !SHARED.has(file))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(CORPUS_DIR + file, 'utf8')) as Omit<Pair, 'file'>) }));
}

export function loadObjectInfo(): Record<string, unknown> {
  return JSON.parse(readFileSync(CORPUS_DIR + 'object_info.json', 'utf8')) as Record<string, unknown>;
}

export interface FrontendNodes {
  frontend_version: string;
  /** Per class: the title the editor gives a new node, and per widget [name, stored in widgets_values, sent]. */
  nodes: Record<string, { title: string; widgets: [string, boolean, boolean][] }>;
}

export function loadFrontendNodes(): FrontendNodes {
  return JSON.parse(readFileSync(CORPUS_DIR + 'frontend-nodes.json', 'utf8')) as FrontendNodes;
}

/** The editor's own English titles for untitled nodes (they come with the editor, not from the server). */
export function frontendTitles(): Record<string, string> {
  return Object.fromEntries(Object.entries(loadFrontendNodes().nodes).map(([type, node]) => [type, node.title]));
}

/** The node definitions a pair was converted with: the server's, plus any classes the pair brings. */
export function pairObjectInfo(pair: Pair, shared: Record<string, unknown>): Record<string, unknown> {
  return pair.object_info ? { ...shared, ...pair.object_info } : shared;
}

/** The editor's titles for a pair: the shared ones, plus those of the classes the pair brings. */
export function pairTitles(pair: Pair, shared: Record<string, string>): Record<string, string> {
  return pair.frontend_titles ? { ...shared, ...pair.frontend_titles } : shared;
}
