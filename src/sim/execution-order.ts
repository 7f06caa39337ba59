/**
 * The order nodes run in, as ComfyUI's ExecutionList decides it: a depth-first registration
 * from each output node (skipping cached inputs), then repeatedly the first ready node, with a
 * preference for output nodes and for nodes one or two links away from an output.
 */
import { isLink, nodeInputs, type Prompt } from './prompt.ts';

export class ExecutionList {
  /** Insertion-ordered: the order nodes were registered decides ties. */
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  /** node → the nodes waiting for it (insertion-ordered). */
  private readonly blocking = new Map<string, Set<string>>();

  private readonly prompt: Prompt;
  private readonly isCached: (nodeId: string) => boolean;
  private readonly isOutput: (nodeId: string) => boolean;

  constructor(prompt: Prompt, isCached: (nodeId: string) => boolean, isOutput: (nodeId: string) => boolean) {
    this.prompt = prompt;
    this.isCached = isCached;
    this.isOutput = isOutput;
  }

  addNode(nodeId: string): void {
    const stack = [nodeId];
    const links: [from: string, to: string][] = [];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Set());
      const node = this.prompt[id];
      if (!node) continue;
      for (const value of Object.values(nodeInputs(node))) {
        if (!isLink(value)) continue;
        const [fromId] = value;
        if (!this.isCached(fromId)) stack.push(fromId);
        links.push([fromId, id]);
      }
    }
    for (const [from, to] of links) {
      if (this.isCached(from)) continue;
      const blocked = this.blocking.get(from);
      if (blocked && !blocked.has(to)) {
        blocked.add(to);
        this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
      }
    }
  }

  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** The node to run next (undefined only if the graph has a cycle). */
  next(): string | undefined {
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    return this.pickFriendly(ready);
  }

  complete(nodeId: string): void {
    this.pending.delete(nodeId);
    for (const blocked of this.blocking.get(nodeId) ?? []) this.blockCount.set(blocked, (this.blockCount.get(blocked) ?? 1) - 1);
    this.blocking.delete(nodeId);
  }

  /** Nodes still waiting (for a cycle report). */
  remaining(): string[] {
    return [...this.pending.keys()];
  }

  private pickFriendly(ready: string[]): string | undefined {
    const output = ready.find((id) => this.isOutput(id));
    if (output !== undefined) return output;
    const feedsOutput = ready.find((id) => [...(this.blocking.get(id) ?? [])].some((next) => this.isOutput(next)));
    if (feedsOutput !== undefined) return feedsOutput;
    const nearOutput = ready.find((id) =>
      [...(this.blocking.get(id) ?? [])].some((next) => [...(this.blocking.get(next) ?? [])].some((after) => this.isOutput(after))),
    );
    return nearOutput ?? ready[0];
  }
}
