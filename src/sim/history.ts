/**
 * Finished prompts, oldest first, as GET /history serves them. Entries never change once
 * stored, so each is serialised once.
 */
const MAXIMUM_HISTORY_SIZE = 10000;

export interface HistoryEntry {
  prompt: unknown[];
  outputs: Record<string, unknown>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, unknown][] };
  meta: Record<string, unknown>;
}

export class History {
  private readonly entries = new Map<string, string>();

  /** A prompt id seen before keeps its place (a Python dict assignment). */
  put(promptId: string, entry: HistoryEntry): void {
    if (!this.entries.has(promptId) && this.entries.size >= MAXIMUM_HISTORY_SIZE) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(promptId, JSON.stringify(entry));
  }

  has(promptId: string): boolean {
    return this.entries.has(promptId);
  }

  /** `{<id>: entry}` or `{}`. */
  one(promptId: string): string {
    const entry = this.entries.get(promptId);
    return entry === undefined ? '{}' : `{${JSON.stringify(promptId)}: ${entry}}`;
  }

  /** The last `maxItems` entries (all when undefined), starting at `offset` when given. */
  list(maxItems?: number, offset?: number): string {
    const ids = [...this.entries.keys()];
    let start = offset ?? -1;
    if (start < 0 && maxItems !== undefined) start = ids.length - maxItems;
    start = Math.max(0, start);
    const selected = ids.slice(start, maxItems === undefined ? undefined : start + maxItems);
    return `{${selected.map((id) => `${JSON.stringify(id)}: ${this.entries.get(id) ?? '{}'}`).join(', ')}}`;
  }

  delete(promptId: string): void {
    this.entries.delete(promptId);
  }

  clear(): void {
    this.entries.clear();
  }
}
