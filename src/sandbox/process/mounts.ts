/**
 * The root filesystem a process sandbox sees: the host's system directories read-only, a copy of the few
 * /etc files programs need, the runtime proxies read-only, fresh /proc, /dev, /tmp, and the socket
 * directory — and nothing else (no data directory, no home directories, no other sandboxes).
 *
 * A skeleton directory holding every mount point (and the /etc copies) is built once per backend, so that
 * entering a sandbox costs one `mount` per step and no mkdir: enter.sh follows the plan built here.
 */
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { nameservers } from '../network-policy.js';

export const SANDBOX_SOCKET_DIR = '/run/whirl';
export const SANDBOX_RUNTIMES_DIR = '/whirl/runtimes';
export const NOBODY = 65534;

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
// The CA bundle alone serves TLS clients (OpenSSL loads it as its default file); /etc/ssl/certs' hundreds of
// hash links would make every start-up slower for nothing.
const ETC_ENTRIES = [
  'hosts',
  'nsswitch.conf',
  'localtime',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'ssl/openssl.cnf',
  'ssl/certs/ca-certificates.crt',
  'alternatives',
  'mime.types',
];
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom'];

const checkPath = (p: string) => {
  if (/\s/.test(p)) throw new Error(`sandbox paths may not contain whitespace: ${JSON.stringify(p)}`);
  return p;
};

export interface SkeletonInput {
  /** Where to build the skeleton (on the host). */
  dir: string;
  /** Interpreters the proxies run with (node, python3); their install trees become visible. */
  interpreters: string[];
}

export interface Skeleton {
  dir: string;
  /** Install trees outside the system directories, mounted read-only at the same path. */
  extraTrees: string[];
  /** System directories that are real directories (the others are recreated as symlinks). */
  systemDirs: string[];
}

/** Builds the skeleton: mount points, symlinks, and /etc with only what programs need. */
export function buildSkeleton(input: SkeletonInput): Skeleton {
  const root = input.dir;
  const dirs = (...ps: string[]) => ps.forEach((p) => mkdirSync(join(root, p), { recursive: true }));
  dirs('.old', 'proc', 'dev', 'tmp', 'etc', SANDBOX_SOCKET_DIR, SANDBOX_RUNTIMES_DIR);
  const systemDirs: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    // Merged-/usr systems make /bin, /lib... symlinks into /usr; keep them symlinks.
    if (lstatSync(dir).isSymbolicLink()) {
      symlinkSync(readlinkSync(dir), join(root, dir));
    } else {
      dirs(dir);
      systemDirs.push(dir);
    }
  }
  for (const e of ETC_ENTRIES) {
    const src = join('/etc', e);
    if (existsSync(src))
      cpSync(src, join(root, 'etc', e), { recursive: true, verbatimSymlinks: true, dereference: false });
  }
  writeFileSync(
    join(root, 'etc', 'passwd'),
    `root:x:0:0:root:/:/usr/sbin/nologin\nnobody:x:${NOBODY}:${NOBODY}:nobody:/tmp:/usr/sbin/nologin\n`,
  );
  writeFileSync(join(root, 'etc', 'group'), `root:x:0:\nnogroup:x:${NOBODY}:\n`);
  // A sandbox has its own network: a resolver on the host's loopback (systemd-resolved) is out of its reach,
  // so it gets the upstream resolvers.
  const resolvers = nameservers();
  if (resolvers.length > 0) {
    writeFileSync(join(root, 'etc', 'resolv.conf'), resolvers.map((r) => `nameserver ${r}\n`).join(''));
  } else if (existsSync('/etc/resolv.conf')) {
    cpSync('/etc/resolv.conf', join(root, 'etc', 'resolv.conf'));
  }
  const covered = (p: string) => SYSTEM_DIRS.some((d) => p === d || p.startsWith(`${d}/`));
  const extraTrees: string[] = [];
  for (const bin of input.interpreters) {
    const real = realpathSync(bin);
    if (covered(real)) continue;
    // e.g. ~/.nvm/versions/node/v20/bin/node: expose that one install tree, read-only, at the same path.
    const prefix = checkPath(dirname(dirname(real)));
    dirs(prefix);
    extraTrees.push(prefix);
  }
  return { dir: root, extraTrees, systemDirs };
}

export interface PlanInput {
  skeleton: Skeleton;
  /** Host directory holding the proxy socket (read-write inside). */
  socketDir: string;
  /** Host directory of the compiled runtime proxies. */
  runtimesDir: string;
  tmpSizeMB: number;
}

/**
 * The steps enter.sh performs, one per line, relative to the new root:
 * `ro SRC DST` (read-only bind), `rw SRC DST`, `tmpfs DST OPTS`, `devices DIR`. The first step mounts the
 * skeleton itself as the (read-only) root; /proc is mounted by enter.sh after the pivot.
 */
export function buildMountPlan(input: PlanInput): string {
  const s = input.skeleton;
  const steps = [`ro ${checkPath(s.dir)} /`];
  for (const dir of s.systemDirs) steps.push(`ro ${dir} ${dir}`);
  for (const tree of s.extraTrees) steps.push(`ro ${tree} ${tree}`);
  steps.push('tmpfs /dev mode=0755,size=64k,nosuid,noexec');
  steps.push('devices /dev');
  steps.push(`tmpfs /tmp mode=1777,size=${input.tmpSizeMB}m,nosuid,nodev`);
  steps.push(`rw ${checkPath(input.socketDir)} ${SANDBOX_SOCKET_DIR}`);
  steps.push(`ro ${checkPath(input.runtimesDir)} ${SANDBOX_RUNTIMES_DIR}`);
  return steps.join('\n');
}

export const SANDBOX_DEVICES = DEVICES;
