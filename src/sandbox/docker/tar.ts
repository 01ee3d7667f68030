/**
 * A minimal streaming tar (ustar + PAX long names) writer for what Docker needs from Whirl: a root
 * filesystem to import and a build context. Directories, regular files (from memory or streamed from
 * disk) and symbolic links; owner root, mtime fixed so that identical inputs give identical archives.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export type TarEntry =
  | { type: 'dir'; name: string; mode?: number }
  | { type: 'file'; name: string; mode?: number; data: Buffer }
  | { type: 'file'; name: string; mode?: number; path: string; size: number }
  | { type: 'symlink'; name: string; target: string };

const BLOCK = 512;
/** A fixed timestamp (2024-01-01): archives (and so image layers) depend only on their contents. */
const MTIME = 1704067200;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, o: { size: number; mode: number; typeflag: string; linkname?: string }) {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(o.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(o.size, 12), 124, 'ascii');
  h.write(octal(MTIME, 12), 136, 'ascii');
  h.write(' '.repeat(8), 148, 'ascii');
  h.write(o.typeflag, 156, 'ascii');
  if (o.linkname !== undefined) h.write(o.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7), 148, 'ascii');
  return h;
}

/** A PAX record `"<len> key=value\n"`, where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** Headers for one entry: a PAX header first when the name or link target is too long for ustar. */
function headersFor(name: string, o: { size: number; mode: number; typeflag: string; linkname?: string }) {
  const out: Buffer[] = [];
  let records = '';
  if (Buffer.byteLength(name) > 100) records += paxRecord('path', name);
  if (o.linkname !== undefined && Buffer.byteLength(o.linkname) > 100)
    records += paxRecord('linkpath', o.linkname);
  if (records !== '') {
    const data = Buffer.from(records, 'utf8');
    out.push(
      header('PaxHeader', { size: data.length, mode: 0o644, typeflag: 'x' }),
      data,
      padding(data.length),
    );
  }
  out.push(
    header(name.slice(0, 100), { ...o, ...(o.linkname ? { linkname: o.linkname.slice(0, 100) } : {}) }),
  );
  return out;
}

async function* generate(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const name = e.name.replace(/^\/+/, '');
    if (e.type === 'dir') {
      yield* headersFor(name.endsWith('/') ? name : `${name}/`, {
        size: 0,
        mode: e.mode ?? 0o755,
        typeflag: '5',
      });
    } else if (e.type === 'symlink') {
      yield* headersFor(name, { size: 0, mode: 0o777, typeflag: '2', linkname: e.target });
    } else if ('data' in e) {
      yield* headersFor(name, { size: e.data.length, mode: e.mode ?? 0o644, typeflag: '0' });
      yield e.data;
      yield padding(e.data.length);
    } else {
      yield* headersFor(name, { size: e.size, mode: e.mode ?? 0o644, typeflag: '0' });
      let written = 0;
      for await (const chunk of createReadStream(e.path)) {
        const c = chunk as Buffer;
        // The size went into the header already: a file that grew is cut, one that shrank is padded.
        const part = written + c.length > e.size ? c.subarray(0, e.size - written) : c;
        written += part.length;
        if (part.length > 0) yield part;
        if (written >= e.size) break;
      }
      if (written < e.size) yield Buffer.alloc(e.size - written);
      yield padding(e.size);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** The archive as a stream. */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  return Readable.from(generate(entries), { objectMode: false });
}
