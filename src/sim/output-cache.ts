/**
 * Node results reused between prompts, keyed like ComfyUI's input-signature cache: a node's
 * class, its constant inputs and (recursively) the signatures of the nodes it reads from, so
 * an identical sub-graph hits the cache whatever its node ids. Each prompt keeps only the
 * entries it can use, so what survives is what the previous prompt computed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isLink, nodeIds, nodeInputs, type Prompt } from './prompt.ts';

export interface CacheEntry {
  outputs: unknown[];
  ui?: Record<string, unknown>;
}

export interface SignatureOptions {
  /** ComfyUI's IS_CHANGED value per node id, for the classes that have one. */
  changed: Map<string, unknown>;
  /** Classes whose result depends on the node id (they read UNIQUE_ID). */
  includesNodeId: (classType: string) => boolean;
}

export function computeSignatures(prompt: Prompt, options: SignatureOptions): Map<string, string> {
  const signatures = new Map<string, string>();
  const visiting = new Set<string>();
  const signatureOf = (nodeId: string): string => {
    const known = signatures.get(nodeId);
    if (known) return known;
    const node = prompt[nodeId];
    // A missing node or a cycle can never be reused.
    if (!node || visiting.has(nodeId)) return `unmatched:${randomUUID()}`;
    visiting.add(nodeId);
    const inputs = nodeInputs(node);
    const parts: unknown[] = [node.class_type, options.changed.get(nodeId) ?? null];
    if (options.includesNodeId(node.class_type)) parts.push(nodeId);
    for (const name of Object.keys(inputs).sort()) {
      const value = inputs[name];
      parts.push(isLink(value) ? [name, 'link', signatureOf(value[0]), value[1]] : [name, value]);
    }
    visiting.delete(nodeId);
    const signature = createHash('sha1').update(JSON.stringify(parts)).digest('base64');
    signatures.set(nodeId, signature);
    return signature;
  };
  for (const nodeId of nodeIds(prompt)) signatureOf(nodeId);
  return signatures;
}

export class OutputCache {
  private entries = new Map<string, CacheEntry>();

  /** Drops every entry the next prompt cannot use. */
  retainOnly(signatures: Iterable<string>): void {
    const keep = new Set(signatures);
    for (const key of this.entries.keys()) if (!keep.has(key)) this.entries.delete(key);
  }

  get(signature: string | undefined): CacheEntry | undefined {
    return signature === undefined ? undefined : this.entries.get(signature);
  }

  set(signature: string, entry: CacheEntry): void {
    this.entries.set(signature, entry);
  }
}
