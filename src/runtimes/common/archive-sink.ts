// The parts of archive extraction both formats share: errors, limits, entry-name confinement and a
// Sink that creates directories and files under the root while keeping count against the limits.
import { fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const MB = 1024 * 1024;

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface ExtractLimits {
  /** Most entries (files, directories, skipped links) an archive may hold. */
  maxEntries: number;
  /** Most bytes all files may add up to once unpacked. */
  maxBytes: number;
  /** Highest unpacked:packed ratio allowed for an entry bigger than ratioMinBytes. */
  maxRatio: number;
  /** Entries up to this size are exempt from the ratio check (small files compress very well). */
  ratioMinBytes: number;
}

export interface ExtractSummary {
  files: number;
  directories: number;
  bytes: number;
  /** Entries that were not extracted on purpose (symbolic and hard links, devices). */
  skipped: string[];
}

export type ArchiveKind = 'zip' | 'tar.gz';

/**
 * Maps an entry name to a path under root, refusing anything that could land outside it. Returns
 * undefined for names that denote root itself ("./"). Backslashes count as separators because some
 * Windows tools write them, and "..\\x" must not slip through.
 */
export function safeEntryPath(root: string, name: string): string | undefined {
  if (name.includes('\0')) throw new ArchiveError(`entry "${printable(name)}" has a NUL byte in its name`);
  const normal = name.replace(/\\/g, '/');
  if (normal.startsWith('/') || /^[A-Za-z]:/.test(normal)) {
    throw new ArchiveError(`entry "${printable(name)}" has an absolute path`);
  }
  const parts = normal.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new ArchiveError(`entry "${printable(name)}" points outside the archive root`);
  return parts.length === 0 ? undefined : join(root, ...parts);
}

export function printable(name: string): string {
  return name.length > 200 ? `${name.slice(0, 200)}...` : name.replace(/[\0-\x1f]/g, '?');
}

/**
 * Bookkeeping shared by both formats: limit checks, directory creation and exclusive file creation
 * ("wx": an entry can never overwrite, or write through, something that is already there).
 */
export class Sink {
  readonly summary: ExtractSummary = { files: 0, directories: 0, bytes: 0, skipped: [] };
  private entries = 0;
  private readonly madeDirs = new Set<string>();

  constructor(
    readonly root: string,
    readonly limits: ExtractLimits,
  ) {}

  countEntry(): void {
    if (++this.entries > this.limits.maxEntries) {
      throw new ArchiveError(`the archive has more than ${this.limits.maxEntries} entries`);
    }
  }

  /** Reserves room for bytes about to be written; throws once the total would pass the cap. */
  addBytes(n: number): void {
    this.summary.bytes += n;
    if (this.summary.bytes > this.limits.maxBytes) {
      throw new ArchiveError(`the archive unpacks to more than ${this.limits.maxBytes} bytes`);
    }
  }

  mkdir(path: string): void {
    if (this.madeDirs.has(path)) return;
    mkdirSync(path, { recursive: true });
    this.madeDirs.add(path);
  }

  directory(name: string): void {
    const path = safeEntryPath(this.root, name);
    if (path) this.mkdir(path);
    this.summary.directories++;
  }

  /** Opens a new file for an entry; returns undefined for a name that denotes the root. */
  openFile(name: string, executable: boolean): number | undefined {
    const path = safeEntryPath(this.root, name);
    if (!path) return undefined;
    this.mkdir(dirname(path));
    let fd: number;
    try {
      fd = openSync(path, 'wx', executable ? 0o755 : 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new ArchiveError(`entry "${printable(name)}" appears more than once`);
      throw err;
    }
    // The umask may have removed bits the action needs (an executable "exec" must stay executable).
    fchmodSync(fd, executable ? 0o755 : 0o644);
    this.summary.files++;
    return fd;
  }

  skip(name: string): void {
    safeEntryPath(this.root, name); // an unsafe name is an error even for an entry we skip
    this.summary.skipped.push(name);
  }
}

export function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset);
}
