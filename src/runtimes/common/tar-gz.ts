// tar.gz extraction as a stream (gunzip output parsed block by block, files written as they come),
// so memory stays bounded whatever the archive holds. Understands ustar, GNU long names and pax
// path/size records; links, devices and fifos are skipped.
import { createGunzip } from 'node:zlib';
import { closeSync } from 'node:fs';
import { ArchiveError, MB, Sink, writeAll, type ExtractLimits, type ExtractSummary } from './archive-sink.js';

/** Pulls exact byte counts out of a stream of chunks (the gunzip output). */
class ChunkReader {
  private pending: Buffer[] = [];
  private available = 0;
  private done = false;

  constructor(
    private readonly source: AsyncIterator<Buffer>,
    private readonly onBytes: (n: number) => void,
  ) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.onBytes(next.value.length);
    this.pending.push(next.value);
    this.available += next.value.length;
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.available < n && (await this.fill()));
    return this.take(Math.min(n, this.available));
  }

  /** Up to max bytes (at least one unless the stream ended), for streaming file contents. */
  async readSome(max: number): Promise<Buffer> {
    if (this.available === 0) await this.fill();
    return this.take(Math.min(max, this.available));
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.available = rest.length;
    return out;
  }
}

function tarString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? field.length : nul);
}

/** Numeric tar fields: octal text, or base-256 when the top bit of the first byte is set. */
function tarNumber(block: Buffer, start: number, length: number): number {
  if (block[start]! & 0x80) {
    let value = block[start]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[start + i]!;
    return value;
  }
  const text = tarString(block, start, length).trim();
  const value = text === '' ? 0 : parseInt(text, 8);
  if (!Number.isFinite(value)) throw new ArchiveError('the tar archive is corrupt (bad number field)');
  return value;
}

function checksumOk(block: Buffer): boolean {
  let stored: number;
  try {
    stored = tarNumber(block, 148, 8);
  } catch {
    return false; // not even a number: not a tar header
  }
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** Reads "length key=value\n" records of a pax extended header. */
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < data.length) {
    const space = data.indexOf(0x20, p);
    if (space < 0) break;
    const len = parseInt(data.toString('utf8', p, space), 10);
    if (!(len > 0) || p + len > data.length) break;
    const record = data.toString('utf8', space + 1, p + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    p += len;
  }
  return out;
}

export async function extractTarGz(
  buf: Buffer,
  root: string,
  limits: ExtractLimits,
): Promise<ExtractSummary> {
  const sink = new Sink(root, limits);
  const gunzip = createGunzip();
  gunzip.end(buf);
  const iterator = (gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  // A tar.gz has no per-entry compressed size, so the ratio applies to the stream as a whole.
  let unpacked = 0;
  const reader = new ChunkReader(iterator, (n) => {
    unpacked += n;
    if (unpacked > limits.ratioMinBytes && unpacked > buf.length * limits.maxRatio) {
      throw new ArchiveError(`the archive has a suspicious compression ratio (over ${limits.maxRatio}:1)`);
    }
  });

  try {
    let longName: string | undefined;
    let pax = new Map<string, string>();
    for (;;) {
      const block = await reader.read(512);
      if (block.length < 512) {
        if (block.length === 0 && sink.summary.files + sink.summary.directories > 0) break; // no end blocks: tolerated
        throw new ArchiveError('the tar archive is truncated');
      }
      if (block.every((b) => b === 0)) break; // end-of-archive marker
      if (!checksumOk(block))
        throw new ArchiveError('the data is not a valid tar archive (bad header checksum)');

      const type = String.fromCharCode(block[156]!);
      const size = pax.has('size') ? Number(pax.get('size')) : tarNumber(block, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0)
        throw new ArchiveError('the tar archive is corrupt (bad size)');
      const padded = Math.ceil(size / 512) * 512;

      // Metadata entries that describe the next header.
      if (type === 'L' || type === 'x' || type === 'g' || type === 'K') {
        if (size > 1 * MB) throw new ArchiveError('the tar archive has an oversized metadata header');
        const data = (await reader.read(padded)).subarray(0, size);
        if (type === 'L') longName = tarString(data, 0, data.length);
        if (type === 'x') pax = parsePax(data);
        continue;
      }

      const ustar = block.toString('latin1', 257, 262) === 'ustar';
      const prefix = ustar ? tarString(block, 345, 155) : '';
      const name =
        pax.get('path') ??
        longName ??
        (prefix ? `${prefix}/${tarString(block, 0, 100)}` : tarString(block, 0, 100));
      longName = undefined;
      pax = new Map();
      sink.countEntry();

      if (type === '0' || type === '\0' || type === '7') {
        sink.addBytes(size);
        const fd = sink.openFile(name, (tarNumber(block, 100, 8) & 0o111) !== 0);
        try {
          let left = size;
          while (left > 0) {
            const chunk = await reader.readSome(Math.min(left, 1 * MB));
            if (chunk.length === 0) throw new ArchiveError('the tar archive is truncated');
            if (fd !== undefined) writeAll(fd, chunk);
            left -= chunk.length;
          }
        } finally {
          if (fd !== undefined) closeSync(fd);
        }
        await reader.read(padded - size);
      } else {
        if (type === '5') sink.directory(name);
        else sink.skip(name); // links (1, 2), devices (3, 4), fifos (6) and unknown types
        await reader.read(padded);
      }
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new ArchiveError(`the gzip data is corrupt: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    await iterator.return?.();
    gunzip.destroy();
  }
  return sink.summary;
}
