/**
 * The offline base image: a root filesystem assembled from this host's own runtime binaries — the Node.js
 * that runs Whirl, the system python3 with its standard library, a POSIX shell and the usual command-line
 * tools — each with the shared libraries it needs (found with `ldd`), laid out at the same paths as on the
 * host (symlinks such as merged-/usr's `/bin -> usr/bin` included). No registry, no network.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { findPython } from '../host.js';
import type { TarEntry } from './tar.js';

/** Tools native actions (shell scripts) commonly use; those the host lacks are skipped. */
const TOOLS = [
  'sh',
  'bash',
  'env',
  'cat',
  'echo',
  'printf',
  'ls',
  'cp',
  'mv',
  'rm',
  'mkdir',
  'rmdir',
  'ln',
  'touch',
  'chmod',
  'head',
  'tail',
  'wc',
  'tr',
  'cut',
  'sort',
  'uniq',
  'tee',
  'sed',
  'grep',
  'awk',
  'mawk',
  'xargs',
  'find',
  'date',
  'sleep',
  'id',
  'whoami',
  'uname',
  'basename',
  'dirname',
  'readlink',
  'realpath',
  'pwd',
  'test',
  '[',
  'true',
  'false',
  'expr',
  'seq',
  'od',
  'base64',
  'sha256sum',
  'md5sum',
  'stat',
  'du',
  'df',
  'timeout',
  'gzip',
  'tar',
  'ps',
];

/**
 * Parts of the standard library no action needs: GUI toolkits, the test suite, pip's bootstrap, and the
 * build configuration (`config-3.x-*`, with a static libpython).
 */
const PYTHON_SKIP = (name: string) =>
  ['test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'site-packages'].includes(name) ||
  name.startsWith('config-');

export interface HostRuntimes {
  node: string;
  nodeVersion: string;
  python?: string;
  pythonVersion?: string;
}

export function hostRuntimes(): HostRuntimes {
  const python = findPython();
  let pythonVersion: string | undefined;
  if (python !== undefined) {
    try {
      pythonVersion = execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])'])
        .toString()
        .trim();
    } catch {
      pythonVersion = undefined;
    }
  }
  return {
    node: process.execPath,
    nodeVersion: process.version,
    ...(python !== undefined && pythonVersion !== undefined ? { python, pythonVersion } : {}),
  };
}

function which(cmd: string): string | undefined {
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Collects the entries of a root filesystem, following host symlinks and shared-library dependencies. */
class RootBuilder {
  readonly entries = new Map<string, TarEntry>();
  private readonly elfDone = new Set<string>();

  private dir(path: string, mode = 0o755): void {
    if (path === '/' || this.entries.has(path)) return;
    this.dir(dirname(path));
    this.entries.set(path, { type: 'dir', name: path, mode });
  }

  write(path: string, data: string | Buffer, mode = 0o644): void {
    this.dir(dirname(path));
    this.entries.set(path, { type: 'file', name: path, data: Buffer.from(data), mode });
  }

  emptyDir(path: string, mode = 0o755): void {
    this.dir(path, mode);
  }

  /**
   * Adds a host path as the host has it: each symlink on the way becomes a symlink in the image and is
   * followed; returns the real path added (undefined when it does not exist).
   */
  add(
    path: string,
    opts: { recursive?: boolean; skip?: (name: string) => boolean } = {},
    depth = 0,
  ): string | undefined {
    if (depth > 40) throw new Error(`too many symbolic links resolving ${path}`);
    const parts = path.split('/').filter((p) => p !== '');
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      const next = `${cur}/${parts[i]}`;
      let st;
      try {
        st = lstatSync(next);
      } catch {
        return undefined;
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(next);
        this.dir(cur || '/');
        if (!this.entries.has(next)) this.entries.set(next, { type: 'symlink', name: next, target });
        const resolved = posix.resolve(cur || '/', target);
        return this.add(posix.join(resolved, ...parts.slice(i + 1)), opts, depth + 1);
      }
      cur = next;
    }
    const st = statSync(cur);
    if (st.isDirectory()) {
      this.dir(cur, st.mode & 0o7777);
      if (opts.recursive) {
        for (const name of readdirSync(cur)) {
          if (opts.skip?.(name) === true) continue;
          this.add(`${cur}/${name}`, { recursive: true }, depth);
        }
      }
    } else if (st.isFile()) {
      this.dir(dirname(cur));
      this.entries.set(cur, { type: 'file', name: cur, path: cur, size: st.size, mode: st.mode & 0o7777 });
    }
    return cur;
  }

  /** Adds an executable or shared object and, transitively, the libraries `ldd` says it loads. */
  addElf(path: string): void {
    const real = this.add(path);
    if (real === undefined || this.elfDone.has(real)) return;
    this.elfDone.add(real);
    let out: string;
    try {
      out = execFileSync('ldd', [real], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } catch {
      return; // not dynamic (a script, a static binary): nothing more to add
    }
    for (const line of out.split('\n')) {
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (m) this.addElf(m[1]!);
    }
  }
}

/**
 * The entries of the host base image. Throws when the host cannot provide one (no `ldd`: not glibc);
 * python is left out, with a note, when the host has none.
 */
export function hostRootfs(rt: HostRuntimes = hostRuntimes()): { entries: TarEntry[]; notes: string[] } {
  try {
    execFileSync('ldd', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'assembling images from this host needs ldd (a glibc system); build from the Dockerfiles instead (--base official)',
    );
  }
  const notes: string[] = [];
  const b = new RootBuilder();
  for (const d of ['/proc', '/sys', '/dev', '/etc', '/root', '/run', '/var/tmp']) b.emptyDir(d);
  b.emptyDir('/tmp', 0o1777);
  // Merged-/usr hosts: keep /bin, /lib... as the symlinks they are.
  for (const top of ['/bin', '/sbin', '/lib', '/lib64']) {
    if (existsSync(top) && lstatSync(top).isSymbolicLink()) b.add(top);
  }
  const node = b.add(rt.node);
  b.addElf(rt.node);
  if (node !== undefined && !['/usr/bin', '/usr/local/bin', '/bin'].includes(dirname(node))) {
    // A node installed elsewhere (nvm, a tarball): the image's PATH finds it through /usr/local/bin.
    b.emptyDir('/usr/local/bin');
    b.entries.set('/usr/local/bin/node', { type: 'symlink', name: '/usr/local/bin/node', target: node });
  }
  for (const tool of TOOLS) {
    const p = which(tool);
    if (p !== undefined) b.addElf(p);
  }
  if (rt.python !== undefined) {
    b.addElf(rt.python);
    const paths = JSON.parse(
      execFileSync(rt.python, [
        '-c',
        'import json, sysconfig; p = sysconfig.get_paths(); print(json.dumps([p["stdlib"], p["platstdlib"]]))',
      ]).toString(),
    ) as string[];
    for (const lib of new Set(paths)) {
      const real = b.add(lib, { recursive: true, skip: PYTHON_SKIP });
      const dynload = real === undefined ? undefined : join(real, 'lib-dynload');
      if (dynload !== undefined && existsSync(dynload)) {
        for (const so of readdirSync(dynload)) if (so.endsWith('.so')) b.addElf(join(dynload, so));
      }
    }
    // `python` as well as `python3`, as OpenWhisk's images have it.
    if (which('python') === undefined) {
      b.emptyDir('/usr/bin');
      b.entries.set('/usr/bin/python', { type: 'symlink', name: '/usr/bin/python', target: rt.python });
    }
  } else {
    notes.push('no python3 on this host: the python runtime image cannot be built from it');
  }
  for (const f of ['/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/openssl.cnf', '/etc/mime.types']) b.add(f);
  b.write(
    '/etc/passwd',
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  b.write('/etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  b.write('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
  b.write(
    '/etc/os-release',
    `NAME="Whirl runtime base"\nID=whirl\nPRETTY_NAME="Whirl runtime base (node ${rt.nodeVersion}${rt.pythonVersion ? `, python ${rt.pythonVersion}` : ''}, from the host)"\n`,
  );
  // Directories before their contents (the map keeps insertion order, parents are always inserted first).
  return { entries: [...b.entries.values()], notes };
}
