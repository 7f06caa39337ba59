/**
 * Recorded ids (client_id, prompt_id) → the ids the client under test chose. Applied to every
 * JSON the replay sends: string values and object keys that equal a recorded id are replaced
 * (history bodies are keyed by prompt id), and the metadata JSON inside type-4 binary frames.
 */
export class IdMap {
  private readonly toClient = new Map<string, string>();
  private readonly toRecorded = new Map<string, string>();

  set(recorded: string, actual: string): void {
    this.toClient.set(recorded, actual);
    this.toRecorded.set(actual, recorded);
  }

  /** The client's id for a recorded one (the recorded id when it has not been mapped). */
  actual(recorded: string): string {
    return this.toClient.get(recorded) ?? recorded;
  }

  /** The recorded id behind an id the client uses (itself when it is not a mapped id). */
  recorded(actual: string): string {
    return this.toRecorded.get(actual) ?? actual;
  }

  json(value: unknown): unknown {
    if (typeof value === 'string') return this.actual(value);
    if (Array.isArray(value)) return value.map((item) => this.json(item));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.actual(key), this.json(item)]));
    }
    return value;
  }

  /** Replaces quoted recorded ids in a JSON text, keeping the server's own formatting. */
  jsonText(text: string): string {
    let mapped = text;
    for (const [recorded, actual] of this.toClient) mapped = mapped.split(JSON.stringify(recorded)).join(JSON.stringify(actual));
    return mapped;
  }

  /** Rewrites the prompt id inside a PREVIEW_IMAGE_WITH_METADATA frame; other frames pass unchanged. */
  binaryFrame(frame: Buffer): Buffer {
    if (frame.length < 8 || frame.readUInt32BE(0) !== 4) return frame;
    const metadataLength = frame.readUInt32BE(4);
    const mapped = Buffer.from(this.jsonText(frame.subarray(8, 8 + metadataLength).toString('utf8')), 'utf8');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(4, 0);
    header.writeUInt32BE(mapped.length, 4);
    return Buffer.concat([header, mapped, frame.subarray(8 + metadataLength)]);
  }
}
