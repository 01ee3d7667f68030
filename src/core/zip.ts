/**
 * Writing zip archives (no zip64): the byte layout of local headers, the central directory and its end
 * record, in one place. `whirl project` zips action folders with it, and the test fixtures build their
 * (sometimes deliberately hostile) archives with it. Reading zips is the runtimes' job (runtimes/common/zip.ts).
 */
import { deflateRawSync } from 'node:zlib';

export interface ZipRecord {
  /** Stored exactly as given (a fixture may want "../x"); a trailing "/" makes it a directory. */
  name: string;
  /** The uncompressed bytes. */
  content: Buffer;
  method: 'deflate' | 'store';
  /** Unix type and permission bits (0o100644, 0o40755, 0o120777 ...), written as made on Unix. */
  unixMode: number;
  /** The uncompressed size the headers declare; a fixture may lie. Defaults to the real size. */
  declaredSize?: number;
}

/** DOS date of 1980-01-01 00:00 (the format's epoch): no clock leaks into an archive. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as zip uses it (node:zlib has one only from Node 20.15). */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The archive of `records`, in the order given, with fixed timestamps. */
export function encodeZip(records: readonly ZipRecord[]): Buffer {
  if (records.length > 0xffff) throw new Error(`a zip holds at most 65535 entries, not ${records.length}`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const r of records) {
    const name = Buffer.from(r.name, 'utf8');
    const method = r.method === 'deflate' ? 8 : 0;
    const stored = method === 8 ? deflateRawSync(r.content) : r.content;
    const crc = crc32(r.content);
    const size = r.declaredSize ?? r.content.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode in the external attributes counts
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    const dosDirectory = r.name.endsWith('/') ? 0x10 : 0;
    central.writeUInt32LE(((r.unixMode << 16) | dosDirectory) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(records.length, 8);
  end.writeUInt16LE(records.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
