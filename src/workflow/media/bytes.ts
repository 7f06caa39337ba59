/**
 * Random access to the bytes of a file (or of a buffer): container readers ask for the few
 * ranges they need, so a large video is never read whole.
 */
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** How the source is named in messages (a path, or "stdin"). */
  readonly name: string;
  readonly size: number;
  /** Up to `length` bytes from `offset`: fewer only when the source ends first. */
  read(offset: number, length: number): Promise<Buffer>;
}

export function bufferSource(bytes: Buffer, name: string): ByteSource {
  return {
    name,
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
  };
}

export function fileSource(handle: FileHandle, size: number, name: string): ByteSource {
  return {
    name,
    size,
    read: async (offset, length) => {
      const wanted = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.allocUnsafe(wanted);
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await handle.read(buffer, filled, wanted - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    },
  };
}
