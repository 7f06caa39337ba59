/**
 * The per-prompt node states behind `progress_state` messages. The real server sends
 * `0.0`/`1.0` floats for node start and finish and integers from progress ticks; the JSON is
 * written by hand to keep that distinction.
 */
type NodeState = 'running' | 'finished';

interface Entry {
  value: number;
  max: number;
  /** Print value/max as floats (they came from start/finish, not from a tick). */
  floats: boolean;
  state: NodeState;
}

function number(value: number, asFloat: boolean): string {
  if (!Number.isFinite(value)) return 'null';
  return asFloat && Number.isInteger(value) ? `${value}.0` : String(value);
}

export class ProgressState {
  private readonly entries = new Map<string, Entry>();
  private readonly promptIdJson: string;

  constructor(promptId: string) {
    this.promptIdJson = JSON.stringify(promptId);
  }

  start(nodeId: string): void {
    this.entries.set(nodeId, { value: 0, max: 1, floats: true, state: 'running' });
  }

  tick(nodeId: string, value: number, max: number): void {
    const entry = this.entries.get(nodeId);
    this.entries.set(nodeId, { value, max, floats: false, state: entry?.state ?? 'running' });
  }

  finish(nodeId: string): void {
    const entry = this.entries.get(nodeId) ?? { value: 0, max: 1, floats: false, state: 'running' };
    this.entries.set(nodeId, { ...entry, value: entry.max, state: 'finished' });
  }

  /** The whole `progress_state` text frame. */
  message(): string {
    const nodes: string[] = [];
    for (const [nodeId, entry] of this.entries) {
      const id = JSON.stringify(nodeId);
      nodes.push(
        `${id}: {"value": ${number(entry.value, entry.floats)}, "max": ${number(entry.max, entry.floats)}, "state": "${entry.state}", "node_id": ${id}, "prompt_id": ${this.promptIdJson}, "display_node_id": ${id}, "parent_node_id": null, "real_node_id": ${id}}`,
      );
    }
    return `{"type": "progress_state", "data": {"prompt_id": ${this.promptIdJson}, "nodes": {${nodes.join(', ')}}}}`;
  }
}
