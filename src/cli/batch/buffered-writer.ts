/** Many small writes to a stream gathered into few, waiting when the stream asks to (a long summary on a pipe). */
import { once } from 'node:events';

const CHUNK = 64 * 1024;

export class BufferedWriter {
  private readonly out: NodeJS.WritableStream;
  private pending: string[] = [];
  private size = 0;

  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.size = 0;
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
}
