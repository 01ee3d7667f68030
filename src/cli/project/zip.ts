/**
 * Zipping an action's folder (a manifest `function:` that names a directory), as wskdeploy does. The
 * archive is deterministic — entries sorted, timestamps fixed — so the same folder always gives the same
 * bytes and a redeploy changes nothing. Symbolic links are left out (runtimes refuse them in archives).
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZippedFolder {
  zip: Buffer;
  files: number;
  /** Relative paths of the symbolic links left out. */
  skipped: string[];
}

/** DOS date of 1980-01-01 00:00 (the format's epoch): no clock leaks into the archive. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

function walk(root: string, rel: string, out: { name: string; mode: number }[], skipped: string[]): void {
  const names = readdirSync(join(root, rel)).sort();
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, path));
    if (st.isSymbolicLink()) skipped.push(path);
    else if (st.isDirectory()) walk(root, path, out, skipped);
    else if (st.isFile()) out.push({ name: path, mode: st.mode & 0o777 });
  }
}

export function zipFolder(dir: string): ZippedFolder {
  const files: { name: string; mode: number }[] = [];
  const skipped: string[] = [];
  walk(dir, '', files, skipped);
  if (files.length > 0xffff)
    throw new Error(`'${dir}' holds ${files.length} files: a zip holds at most 65535`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const content = readFileSync(join(dir, f.name));
    const stored = deflateRawSync(content);
    const crc = crc32(content);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the permission bits below count
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return { zip: Buffer.concat([...locals, directory, end]), files: files.length, skipped };
}
