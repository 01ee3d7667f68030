/**
 * Docker's stream framing for containers without a TTY: stdout and stderr share one connection as frames
 * of an 8-byte header — stream type (1 stdout, 2 stderr), three zero bytes, payload length (big-endian
 * uint32) — followed by the payload. Frames arrive split across or glued into TCP chunks arbitrarily.
 */
import type { OutputStream } from '../sandbox.js';

const HEADER = 8;

export class StreamDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly emit: (stream: OutputStream, chunk: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    while (buf.length - off >= HEADER) {
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off - HEADER < size) break;
      const type = buf[off];
      const payload = buf.subarray(off + HEADER, off + HEADER + size);
      // Type 0 (stdin) is never sent for output; anything but stderr is treated as stdout.
      if (size > 0) this.emit(type === 2 ? 'stderr' : 'stdout', payload);
      off += HEADER + size;
    }
    buf = buf.subarray(off);
    // Copy the remainder: keeping a view would pin the whole (possibly large) chunk in memory.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}
