/**
 * Zipping an action's folder (a manifest `function:` that names a directory), as wskdeploy does. The
 * archive is deterministic — entries sorted, timestamps fixed — so the same folder always gives the same
 * bytes and a redeploy changes nothing. Symbolic links are left out (runtimes refuse them in archives).
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeZip } from '../../core/zip.js';

export interface ZippedFolder {
  zip: Buffer;
  files: number;
  /** Relative paths of the symbolic links left out. */
  skipped: string[];
}

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
  const zip = encodeZip(
    files.map((f) => ({
      name: f.name,
      content: readFileSync(join(dir, f.name)),
      method: 'deflate' as const,
      unixMode: 0o100000 | f.mode,
    })),
  );
  return { zip, files: files.length, skipped };
}
