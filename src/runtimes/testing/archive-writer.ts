// In-memory zip and tar.gz writers for test fixtures (no `zip` or `tar` binary needed). They write
// whatever they are told, including hostile archives: names like "../x", symbolic links, lying sizes.
//
// This lives under src/runtimes/ (not test/) because the shared protocol cases in
// src/runtimes/testing/protocol.cases.ts use it and the build's rootDir is src/; test/helpers/archive-writer.ts
// re-exports it for every other test.
import { gzipSync } from 'node:zlib';
import { crc32, encodeZip } from '../../core/zip.js';

export { crc32 };

export interface ZipEntryInput {
  /** The name exactly as stored (may be "../evil" or "/abs" on purpose). A trailing "/" makes a directory. */
  name: string;
  data?: string | Uint8Array;
  /** "deflate" (default) or "store". */
  method?: 'deflate' | 'store';
  /** Unix permission bits (e.g. 0o755 for an executable). */
  mode?: number;
  /** Makes the entry a symbolic link to this target (Unix external attributes). */
  symlinkTo?: string;
  /** Overrides the uncompressed size written in the headers (to forge bombs and liars). */
  declaredSize?: number;
}

function toBuffer(data: string | Uint8Array | undefined): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data ?? new Uint8Array());
}

/** Builds a zip archive (no zip64; fine for fixtures under 4 GB). */
export function makeZip(entries: ZipEntryInput[]): Buffer {
  return encodeZip(
    entries.map((entry) => {
      const isDir = entry.name.endsWith('/');
      const link = entry.symlinkTo !== undefined;
      const type = link ? 0o120000 : isDir ? 0o040000 : 0o100000;
      return {
        name: entry.name,
        content: link ? Buffer.from(entry.symlinkTo!, 'utf8') : toBuffer(entry.data),
        method: entry.method === 'store' || isDir || link ? 'store' : 'deflate',
        unixMode: type | (entry.mode ?? (isDir ? 0o755 : 0o644)),
        ...(entry.declaredSize === undefined ? {} : { declaredSize: entry.declaredSize }),
      };
    }),
  );
}

export interface TarEntryInput {
  name: string;
  data?: string | Uint8Array;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  /** Target of a link. */
  linkTo?: string;
  mode?: number;
}

function tarHeader(name: string, size: number, typeflag: string, mode: number, linkTo = ''): Buffer {
  const header = Buffer.alloc(512);
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 'latin1');
  header.write(octal(0, 8), 108, 'latin1');
  header.write(octal(0, 8), 116, 'latin1');
  header.write(octal(size, 12), 124, 'latin1');
  header.write(octal(0, 12), 136, 'latin1');
  header.write(typeflag, 156, 'latin1');
  header.write(linkTo, 157, 100, 'utf8');
  header.write('ustar\0' + '00', 257, 'latin1');
  header.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return header;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % 512;
  return rest === 0 ? [data] : [data, Buffer.alloc(512 - rest)];
}

/** Builds a gzip-compressed ustar archive; names over 100 bytes use a GNU long-name record. */
export function makeTarGz(entries: TarEntryInput[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? (entry.name.endsWith('/') ? 'dir' : 'file');
    const flag = { file: '0', dir: '5', symlink: '2', hardlink: '1' }[type];
    const data = type === 'file' ? toBuffer(entry.data) : Buffer.alloc(0);
    const nameBytes = Buffer.from(entry.name, 'utf8');
    if (nameBytes.length > 100) {
      const longName = Buffer.concat([nameBytes, Buffer.from([0])]);
      blocks.push(tarHeader('././@LongLink', longName.length, 'L', 0o644), ...padded(longName));
    }
    const mode = entry.mode ?? (type === 'dir' ? 0o755 : 0o644);
    blocks.push(tarHeader(entry.name.slice(0, 100), data.length, flag, mode, entry.linkTo), ...padded(data));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
