import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32, makeTarGz, makeZip } from '../../../test/helpers/archive-writer.js';
import { ArchiveError, archiveKind, defaultLimits, extractArchive, safeEntryPath } from './archive.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whirl-archive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = (path: string): string => readFileSync(join(dir, path), 'utf8');

/** Text that compresses a little but nowhere near the ratio limit. */
function prose(bytes: number): Buffer {
  return Buffer.from(
    randomBytes(Math.ceil(bytes / 2))
      .toString('hex')
      .slice(0, bytes),
  );
}

describe('archive kind detection', () => {
  it('recognises zip and gzip magic bytes only', () => {
    expect(archiveKind(makeZip([{ name: 'a', data: 'x' }]))).toBe('zip');
    expect(archiveKind(makeTarGz([{ name: 'a', data: 'x' }]))).toBe('tar.gz');
    expect(archiveKind(Buffer.from('#!/bin/sh\n'))).toBeUndefined();
    expect(archiveKind(Buffer.alloc(0))).toBeUndefined();
  });

  it('takes the size cap from __WHIRL_MAX_UNZIP_BYTES', () => {
    expect(defaultLimits({}).maxBytes).toBe(512 * 1024 * 1024);
    expect(defaultLimits({ __WHIRL_MAX_UNZIP_BYTES: '1234' }).maxBytes).toBe(1234);
    expect(defaultLimits({ __WHIRL_MAX_UNZIP_BYTES: 'lots' }).maxBytes).toBe(512 * 1024 * 1024);
  });
});

describe('entry names', () => {
  it('maps safe names under the root', () => {
    expect(safeEntryPath('/r', 'a/b.txt')).toBe('/r/a/b.txt');
    expect(safeEntryPath('/r', './a//b/./c')).toBe('/r/a/b/c');
    expect(safeEntryPath('/r', './')).toBeUndefined();
    expect(safeEntryPath('/r', 'a..b/..c')).toBe('/r/a..b/..c');
  });

  it.each(['../x', 'a/../../x', 'a/..', '..\\x', 'a\\..\\..\\x'])(
    'refuses %s as escaping the root',
    (name) => {
      expect(() => safeEntryPath('/r', name)).toThrow(/outside the archive root/);
    },
  );

  it.each(['/etc/passwd', '\\x', 'C:/x', 'c:x'])('refuses %s as absolute', (name) => {
    expect(() => safeEntryPath('/r', name)).toThrow(/absolute path/);
  });

  it('refuses NUL bytes', () => {
    expect(() => safeEntryPath('/r', 'a\0b')).toThrow(ArchiveError);
  });
});

describe('zip extraction', () => {
  it('extracts stored and deflated entries, directories, unicode names and the executable bit', async () => {
    const zip = makeZip([
      { name: 'dir/' },
      { name: 'dir/stored.txt', data: 'stored', method: 'store' },
      { name: 'dir/deflated.txt', data: 'deflated '.repeat(100) },
      { name: 'deep/er/❄.txt', data: '☃' },
      { name: 'exec', data: '#!/bin/sh\n', mode: 0o755 },
      { name: 'empty', data: '' },
    ]);
    const summary = await extractArchive(zip, dir);
    expect(summary).toMatchObject({ files: 5, directories: 1, skipped: [] });
    expect(read('dir/stored.txt')).toBe('stored');
    expect(read('dir/deflated.txt')).toBe('deflated '.repeat(100));
    expect(read('deep/er/❄.txt')).toBe('☃');
    expect(read('empty')).toBe('');
    expect(statSync(join(dir, 'exec')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'empty')).mode & 0o777).toBe(0o644);
  });

  it('streams a large entry to disk', async () => {
    const big = prose(6 * 1024 * 1024);
    await extractArchive(makeZip([{ name: 'big.txt', data: big }]), dir);
    expect(readFileSync(join(dir, 'big.txt')).equals(big)).toBe(true);
  });

  it('skips symbolic links instead of creating them', async () => {
    const zip = makeZip([
      { name: 'link', symlinkTo: '/etc/passwd' },
      { name: 'dirlink', symlinkTo: '..' },
      { name: 'real.txt', data: 'ok' },
    ]);
    const summary = await extractArchive(zip, dir);
    expect(summary.skipped).toEqual(['link', 'dirlink']);
    expect(readdirSync(dir)).toEqual(['real.txt']);
  });

  it('refuses traversal even for an entry it would skip', async () => {
    await expect(extractArchive(makeZip([{ name: '../escape', data: 'x' }]), dir)).rejects.toThrow(/outside/);
    await expect(extractArchive(makeZip([{ name: '../link', symlinkTo: 'x' }]), dir)).rejects.toThrow(
      /outside/,
    );
    await expect(extractArchive(makeZip([{ name: '/abs', data: 'x' }]), dir)).rejects.toThrow(/absolute/);
    expect(existsSync(join(dir, '..', 'escape'))).toBe(false);
  });

  it('caps the number of entries before extracting anything', async () => {
    const zip = makeZip(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: 'x' })));
    await expect(extractArchive(zip, dir, { maxEntries: 10 })).rejects.toThrow(/more than 10 entries/);
    expect(readdirSync(dir)).toEqual([]);
    await expect(extractArchive(zip, dir, { maxEntries: 11 })).resolves.toMatchObject({ files: 11 });
  });

  it('caps the total unpacked size', async () => {
    const zip = makeZip([
      { name: 'a', data: 'x'.repeat(60) },
      { name: 'b', data: 'x'.repeat(60) },
    ]);
    await expect(extractArchive(zip, dir, { maxBytes: 100 })).rejects.toThrow(/more than 100 bytes/);
  });

  it('refuses an entry with a bomb-like compression ratio, but not small compressible files', async () => {
    const bomb = makeZip([{ name: 'zeros', data: Buffer.alloc(20 * 1024 * 1024) }]);
    await expect(extractArchive(bomb, dir)).rejects.toThrow(/suspicious compression ratio/);
    const fine = makeZip([{ name: 'zeros', data: Buffer.alloc(512 * 1024) }]);
    await expect(extractArchive(fine, dir)).resolves.toMatchObject({ bytes: 512 * 1024 });
  });

  it('refuses entries whose data does not match their declared size', async () => {
    const smaller = makeZip([{ name: 'a', data: 'x'.repeat(1000), declaredSize: 10 }]);
    await expect(extractArchive(smaller, dir)).rejects.toThrow(ArchiveError);
    const larger = makeZip([{ name: 'b', data: 'x'.repeat(10), declaredSize: 1000 }]);
    await expect(extractArchive(larger, dir)).rejects.toThrow(/size mismatch/);
    const liar = makeZip([{ name: 'c', data: randomBytes(6 * 1024 * 1024), declaredSize: 5 * 1024 * 1024 }]);
    await expect(extractArchive(liar, dir)).rejects.toThrow(/larger than its declared size/);
  });

  it('detects corruption', async () => {
    const zip = makeZip([{ name: 'a.txt', data: 'hello world', method: 'store' }]);
    const flipped = Buffer.from(zip);
    const first = 30 + 'a.txt'.length; // first data byte, after the local header and name
    flipped.writeUInt8(flipped.readUInt8(first) ^ 0xff, first);
    if (typeof (zlib as { crc32?: unknown }).crc32 === 'function') {
      await expect(extractArchive(flipped, dir)).rejects.toThrow(/CRC mismatch/);
    }
    await expect(extractArchive(zip.subarray(0, zip.length - 30), join(dir, 'x'))).rejects.toThrow(/corrupt/);
    await expect(extractArchive(randomBytes(100), dir)).rejects.toThrow(/neither a zip nor a tar.gz/);
  });

  it('refuses duplicate entries instead of overwriting', async () => {
    const zip = makeZip([
      { name: 'a', data: '1' },
      { name: 'a', data: '2' },
    ]);
    await expect(extractArchive(zip, dir)).rejects.toThrow(/more than once/);
    expect(read('a')).toBe('1');
  });
});

describe('tar.gz extraction', () => {
  it('extracts files, directories, long names and the executable bit', async () => {
    const longName = `${'deep/'.repeat(30)}file.txt`;
    const tgz = makeTarGz([
      { name: 'dir/', type: 'dir' },
      { name: 'dir/a.txt', data: 'A' },
      { name: longName, data: 'long' },
      { name: 'exec', data: '#!/bin/sh\n', mode: 0o755 },
      { name: 'blob', data: prose(3 * 1024 * 1024 + 7) },
    ]);
    const summary = await extractArchive(tgz, dir);
    expect(summary).toMatchObject({ files: 4, directories: 1 });
    expect(read('dir/a.txt')).toBe('A');
    expect(read(longName)).toBe('long');
    expect(statSync(join(dir, 'exec')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'blob')).size).toBe(3 * 1024 * 1024 + 7);
  });

  it('skips symbolic and hard links', async () => {
    const tgz = makeTarGz([
      { name: 'real', data: 'r' },
      { name: 'sym', type: 'symlink', linkTo: '/etc/passwd' },
      { name: 'hard', type: 'hardlink', linkTo: 'real' },
    ]);
    const summary = await extractArchive(tgz, dir);
    expect(summary.skipped).toEqual(['sym', 'hard']);
    expect(readdirSync(dir)).toEqual(['real']);
    expect(lstatSync(join(dir, 'real')).isFile()).toBe(true);
  });

  it('refuses traversal and absolute names', async () => {
    await expect(extractArchive(makeTarGz([{ name: 'a/../../x', data: 'x' }]), dir)).rejects.toThrow(
      /outside/,
    );
    await expect(extractArchive(makeTarGz([{ name: '/x', data: 'x' }]), dir)).rejects.toThrow(/absolute/);
  });

  it('applies the entry, size and ratio limits', async () => {
    const many = makeTarGz(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: 'x' })));
    await expect(extractArchive(many, dir, { maxEntries: 10 })).rejects.toThrow(/more than 10 entries/);
    const big = makeTarGz([{ name: 'big', data: 'x'.repeat(200) }]);
    await expect(extractArchive(big, join(dir, 'b'), { maxBytes: 100 })).rejects.toThrow(
      /more than 100 bytes/,
    );
    const bomb = makeTarGz([{ name: 'zeros', data: Buffer.alloc(20 * 1024 * 1024) }]);
    await expect(extractArchive(bomb, join(dir, 'c'))).rejects.toThrow(/suspicious compression ratio/);
  });

  it('detects data that is not a tar, and truncated gzip', async () => {
    await expect(extractArchive(zlib.gzipSync(randomBytes(2048)), dir)).rejects.toThrow(
      /not a valid tar archive/,
    );
    const tgz = makeTarGz([{ name: 'a', data: prose(100_000) }]);
    await expect(extractArchive(tgz.subarray(0, tgz.length / 2), join(dir, 'x'))).rejects.toThrow(
      ArchiveError,
    );
  });
});

describe('test archive writer', () => {
  it('computes the same CRC-32 as zlib', () => {
    const data = randomBytes(1000);
    const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    if (native) expect(crc32(data)).toBe(native(data) >>> 0);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});
