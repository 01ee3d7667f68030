// Zip extraction (stored and deflated entries, zip64 sizes) from a buffer, bounded by the limits and
// confined to the root (see archive-sink.ts). Sizes come from the central directory; an entry that
// inflates to anything else than its declared size is refused, which also enforces the ratio check.
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { closeSync } from 'node:fs';
import {
  ArchiveError,
  MB,
  Sink,
  printable,
  writeAll,
  type ExtractLimits,
  type ExtractSummary,
} from './archive-sink.js';

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** Unix mode bits when the archive was made on Unix, else 0. */
  mode: number;
  isDirectory: boolean;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U16 = 0xffff;
const U32 = 0xffffffff;

function corrupt(what: string): ArchiveError {
  return new ArchiveError(`the zip archive is corrupt (${what})`);
}

function readBig(buf: Buffer, at: number): number {
  const value = buf.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('size out of range');
  return Number(value);
}

/** Locates the central directory through the end-of-central-directory record (zip64 aware). */
function readDirectoryInfo(buf: Buffer): { count: number; offset: number; size: number } {
  const lowest = Math.max(0, buf.length - 22 - 0xffff);
  let eocd = -1;
  for (let i = buf.length - 22; i >= lowest; i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end of central directory');
  let count = buf.readUInt16LE(eocd + 10);
  let size = buf.readUInt32LE(eocd + 12);
  let offset = buf.readUInt32LE(eocd + 16);
  if (count === U16 || size === U32 || offset === U32) {
    const locator = eocd - 20;
    if (locator < 0 || buf.readUInt32LE(locator) !== SIG_EOCD64_LOCATOR) throw corrupt('no zip64 locator');
    const at = readBig(buf, locator + 8);
    if (at + 56 > buf.length || buf.readUInt32LE(at) !== SIG_EOCD64) throw corrupt('bad zip64 record');
    count = readBig(buf, at + 32);
    size = readBig(buf, at + 40);
    offset = readBig(buf, at + 48);
  }
  if (offset + size > buf.length) throw corrupt('central directory out of bounds');
  return { count, offset, size };
}

function readCentralDirectory(buf: Buffer, limits: ExtractLimits): ZipEntry[] {
  const { count, offset } = readDirectoryInfo(buf);
  // Refuse before doing any work: the declared count is cheap to check.
  if (count > limits.maxEntries)
    throw new ArchiveError(`the archive has more than ${limits.maxEntries} entries`);
  const entries: ZipEntry[] = [];
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== SIG_CENTRAL)
      throw corrupt('bad central directory entry');
    const madeBy = buf.readUInt16LE(p + 4) >> 8;
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    let localOffset = buf.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > buf.length) throw corrupt('central directory entry out of bounds');
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // Zip64 sizes live in extra field 0x0001, in this order, only for the fields that overflowed.
    let x = p + 46 + nameLen;
    const extraEnd = x + extraLen;
    while (x + 4 <= extraEnd) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        const fields = [size, compressedSize, localOffset].map((v) => v === U32);
        const values: number[] = [];
        for (let q = x + 4; q + 8 <= x + 4 + len; q += 8) values.push(readBig(buf, q));
        if (fields[0]) size = values.shift() ?? size;
        if (fields[1]) compressedSize = values.shift() ?? compressedSize;
        if (fields[2]) localOffset = values.shift() ?? localOffset;
      }
      x += 4 + len;
    }
    const mode = madeBy === 3 ? external >>> 16 : 0;
    const isDirectory =
      name.endsWith('/') || name.endsWith('\\') || (mode & 0o170000) === 0o040000 || (external & 0x10) !== 0;
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset, mode, isDirectory });
    p = end;
  }
  return entries;
}

/** The entry's compressed bytes, found through its local header (whose sizes may be zero). */
function entryData(buf: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== SIG_LOCAL)
    throw corrupt(`bad local header for "${entry.name}"`);
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  if (start + entry.compressedSize > buf.length) throw corrupt(`data of "${entry.name}" out of bounds`);
  return buf.subarray(start, start + entry.compressedSize);
}

/** Entries up to this size are inflated in one go; bigger ones as a stream, to bound memory. */
const INFLATE_IN_MEMORY = 4 * MB;

const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (
  zlib as { crc32?: (data: Uint8Array, value?: number) => number }
).crc32;

export async function extractZip(buf: Buffer, root: string, limits: ExtractLimits): Promise<ExtractSummary> {
  const sink = new Sink(root, limits);
  for (const entry of readCentralDirectory(buf, limits)) {
    sink.countEntry();
    const type = entry.mode & 0o170000;
    if (entry.isDirectory) {
      sink.directory(entry.name);
      continue;
    }
    if (type !== 0 && type !== 0o100000) {
      sink.skip(entry.name); // symbolic link, device, fifo: never materialised
      continue;
    }
    if (entry.flags & 0x1) throw new ArchiveError(`entry "${printable(entry.name)}" is encrypted`);
    if (entry.method !== 0 && entry.method !== 8) {
      throw new ArchiveError(
        `entry "${printable(entry.name)}" uses unsupported compression method ${entry.method}`,
      );
    }
    if (entry.size > limits.ratioMinBytes && entry.size > entry.compressedSize * limits.maxRatio) {
      throw new ArchiveError(
        `entry "${printable(entry.name)}" has a suspicious compression ratio (${entry.size} bytes from ${entry.compressedSize})`,
      );
    }
    sink.addBytes(entry.size);
    const data = entryData(buf, entry);
    const fd = sink.openFile(entry.name, (entry.mode & 0o111) !== 0);
    if (fd === undefined) continue;
    try {
      let crc: number | undefined;
      if (entry.method === 0) {
        if (data.length !== entry.size) throw corrupt(`stored size mismatch for "${entry.name}"`);
        writeAll(fd, data);
        crc = crc32?.(data);
      } else if (entry.size <= INFLATE_IN_MEMORY) {
        let out: Buffer;
        try {
          // One byte of slack so that data longer than declared is caught rather than truncated.
          out = inflateRawSync(data, { maxOutputLength: entry.size + 1 });
        } catch (err) {
          throw corrupt(`cannot inflate "${entry.name}": ${(err as Error).message}`);
        }
        if (out.length !== entry.size) throw corrupt(`size mismatch for "${entry.name}"`);
        writeAll(fd, out);
        crc = crc32?.(out);
      } else {
        crc = await inflateToFile(data, fd, entry);
      }
      if (crc !== undefined && crc >>> 0 !== entry.crc >>> 0)
        throw corrupt(`CRC mismatch for "${entry.name}"`);
    } finally {
      closeSync(fd);
    }
  }
  return sink.summary;
}

/** Streams one large deflated entry to disk, stopping as soon as it outgrows its declared size. */
async function inflateToFile(data: Buffer, fd: number, entry: ZipEntry): Promise<number | undefined> {
  const inflater = createInflateRaw();
  inflater.end(data);
  let written = 0;
  let crc = crc32 ? 0 : undefined;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > entry.size) throw corrupt(`"${entry.name}" is larger than its declared size`);
      writeAll(fd, chunk);
      if (crc !== undefined && crc32) crc = crc32(chunk, crc);
    }
  } catch (err) {
    inflater.destroy();
    if (err instanceof ArchiveError) throw err;
    throw corrupt(`cannot inflate "${entry.name}": ${(err as Error).message}`);
  }
  if (written !== entry.size) throw corrupt(`size mismatch for "${entry.name}"`);
  return crc;
}
