/**
 * Finding the outputs of a prompt: every list of `{filename, subfolder, type}` under any key of a
 * node's output (images, gifs, video, audio, … from custom nodes too), and text lists apart.
 */
import * as v from 'valibot';
import { outputItemSchema } from './messages.ts';
import type { HistoryEntry } from './schemas-http.ts';
import type { OutputRef, TextOutput } from './types.ts';

function outputsOfNode(nodeId: string, output: Record<string, unknown>): { files: OutputRef[]; texts: TextOutput[] } {
  const files: OutputRef[] = [];
  const texts: TextOutput[] = [];
  for (const [key, value] of Object.entries(output)) {
    if (!Array.isArray(value)) continue;
    if (value.length > 0 && value.every((entry) => typeof entry === 'string')) {
      texts.push({ nodeId, key, values: value as string[] });
      continue;
    }
    for (const entry of value) {
      const parsed = v.safeParse(outputItemSchema, entry);
      if (parsed.success && parsed.output.filename !== '') files.push({ nodeId, key, item: parsed.output });
    }
  }
  return { files, texts };
}

export function collectOutputs(history: HistoryEntry): { outputs: OutputRef[]; texts: TextOutput[] } {
  const outputs: OutputRef[] = [];
  const texts: TextOutput[] = [];
  for (const [nodeId, output] of Object.entries(history.outputs ?? {})) {
    if (!output) continue;
    const found = outputsOfNode(nodeId, output);
    outputs.push(...found.files);
    texts.push(...found.texts);
  }
  return { outputs, texts };
}

export function outputsOfExecuted(nodeId: string, output: Record<string, unknown>): OutputRef[] {
  return outputsOfNode(nodeId, output).files;
}

function sameFile(a: OutputRef, b: OutputRef): boolean {
  return a.item.filename === b.item.filename && a.item.subfolder === b.item.subfolder && a.item.type === b.item.type;
}

/** Adds the outputs of `more` that `into` lacks; returns `into`. */
export function mergeOutputs(into: OutputRef[], more: OutputRef[]): OutputRef[] {
  for (const ref of more) if (!into.some((known) => sameFile(known, ref))) into.push(ref);
  return into;
}
