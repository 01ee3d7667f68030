/**
 * The `process` sandbox backend: each sandbox is a runtime proxy process.
 *
 * On Linux as root it is isolated. The command line is
 *   setpriv --pdeathsig KILL -- unshare --kill-child --fork --pid --mount --ipc --uts -- sh -c <enter.sh> <proxy>
 * - `--pdeathsig KILL` makes the kernel kill `unshare` if Whirl dies, even by `kill -9`;
 * - `--kill-child` then kills the namespace's pid 1, and the kernel kills every process of a pid namespace
 *   whose pid 1 exits: nothing an action started can outlive its sandbox or Whirl;
 * - enter.sh joins the cgroups (memory, pids, cpu, freezer for kill-all), builds a minimal read-only root (mounts.ts),
 *   and drops to uid 65534 with no capabilities; pid 1 then stays a shell that runs the proxy and reaps orphans.
 * Elsewhere it runs the proxy as a plain child process and says so (IsolationReport).
 *
 * Proxies listen on a Unix socket in a per-sandbox directory, so no TCP port is opened for them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { RuntimeFamily } from '../../core/runtimes.js';
import type {
  IsolationReport,
  OutputStream,
  Sandbox,
  SandboxExit,
  SandboxFactory,
  SandboxSpec,
} from '../sandbox.js';
import { SandboxStartError } from '../sandbox.js';
import { openCgroups, type CgroupManager, type SandboxCgroup } from './cgroups.js';
import {
  buildMountPlan,
  buildSkeleton,
  NOBODY,
  SANDBOX_RUNTIMES_DIR,
  SANDBOX_SOCKET_DIR,
  type Skeleton,
} from './mounts.js';
import { networkPolicy, type NetworkPolicy } from '../network-policy.js';
import { SandboxNetwork, type Attachment } from './network.js';
import { findPython, which } from '../host.js';

export interface ProcessSandboxOptions {
  /** Short host directory for per-sandbox sockets and files (Unix socket paths must stay < 108 bytes). */
  runDir: string;
  /** Names this instance's cgroup subtree; leftovers from an earlier run with the same name are swept. */
  instance: string;
  /** `auto`: isolate when the host allows; `off`: never (tests of the fallback, development). */
  isolation?: 'auto' | 'off';
  runtimesDir?: string;
  pidsLimit?: number;
  nofileLimit?: number;
  /** Start-up deadline for a proxy to report ready. */
  startTimeoutMs?: number;
  /** What sandboxes may reach (default: from the environment, see network-policy.ts). */
  networkPolicy?: NetworkPolicy;
}

/**
 * The compiled runtime proxies: next to this module in dist/, or in dist/ when this module runs from src/
 * (tests run the TypeScript sources; the proxies always run compiled).
 */
function defaultRuntimesDir(): string {
  const beside = fileURLToPath(new URL('../../runtimes', import.meta.url));
  if (existsSync(join(beside, 'nodejs', 'main.js'))) return beside;
  return fileURLToPath(new URL('../../../dist/runtimes', import.meta.url));
}
const ENTER_SCRIPT = readFileSync(fileURLToPath(new URL('./enter.sh', import.meta.url)), 'utf8');

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}

function proxyCommand(family: RuntimeFamily, runtimesDir: string, python: string | undefined): string[] {
  switch (family) {
    case 'nodejs':
      return [process.execPath, '--max-http-header-size=65536', join(runtimesDir, 'nodejs', 'main.js')];
    case 'native':
      return [process.execPath, join(runtimesDir, 'native', 'main.js')];
    case 'python':
      if (python === undefined) throw new SandboxStartError('python3 is not installed on this host');
      return [python, '-u', join(runtimesDir, 'python', 'proxy.py')];
  }
}

export class ProcessSandboxFactory implements SandboxFactory {
  readonly name = 'process';
  private readonly live = new Set<ProcessSandbox>();
  private readonly python = findPython();
  private closed = false;

  private readonly skeleton: Skeleton | undefined;

  private constructor(
    private readonly options: Required<ProcessSandboxOptions>,
    readonly isolation: IsolationReport,
    private readonly cgroups: CgroupManager | undefined,
    private readonly network: SandboxNetwork | undefined,
  ) {
    if (isolation.namespaces) {
      mkdirSync(join(options.runDir, 'mnt'));
      this.skeleton = buildSkeleton({
        dir: join(options.runDir, 'skeleton'),
        interpreters: [process.execPath, ...(this.python === undefined ? [] : [this.python])],
      });
    }
  }

  /** Probes the host, sweeps leftovers of an earlier run and returns a ready factory. */
  static async open(opts: ProcessSandboxOptions): Promise<ProcessSandboxFactory> {
    const options: Required<ProcessSandboxOptions> = {
      isolation: 'auto',
      runtimesDir: defaultRuntimesDir(),
      pidsLimit: 512,
      nofileLimit: 1024,
      startTimeoutMs: 15_000,
      networkPolicy: networkPolicy(),
      ...opts,
    };
    rmSync(options.runDir, { recursive: true, force: true });
    mkdirSync(options.runDir, { recursive: true, mode: 0o711 });
    const { report, cgroups, network } = await probe(options);
    if (cgroups !== undefined) await cgroups.sweep();
    const factory = new ProcessSandboxFactory(options, report, cgroups, network);
    if (report.namespaces) await factory.selfTest();
    return factory;
  }

  /** Starts a throwaway isolated process once, so a broken host fails at start-up, not at first invoke. */
  private async selfTest(): Promise<void> {
    const s = await this.spawnSandbox(
      { id: 'selftest', family: 'native', memoryMB: 128, concurrency: 1, env: {} },
      ['/bin/sh', '-c', 'test "$(id -u)" = 65534 && test ! -e /sys/fs/cgroup && echo ready >&3'],
    );
    await s.destroy();
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    if (this.closed) throw new SandboxStartError('the sandbox backend is shutting down');
    if (spec.image !== undefined) {
      throw new SandboxStartError(`the process sandbox cannot run the docker image '${spec.image}'`);
    }
    const dir = join(this.options.runDir, spec.id);
    const isolated = this.isolation.namespaces;
    const runtimesDir = isolated ? SANDBOX_RUNTIMES_DIR : this.options.runtimesDir;
    const proxyEnv: Record<string, string> = {
      __WHIRL_LISTEN: isolated ? `${SANDBOX_SOCKET_DIR}/proxy.sock` : join(dir, 'sock', 'proxy.sock'),
      __WHIRL_TMP: isolated ? '/tmp' : join(dir, 'tmp'),
      // The packages the runtime ships to actions (`require('openwhisk')`), after the action's own.
      ...(spec.family === 'nodejs' ? { NODE_PATH: join(runtimesDir, 'nodejs', 'node_modules') } : {}),
    };
    // In its own network namespace a sandbox cannot see the host's loopback: a loopback API host is reached
    // through the relay on the sandbox's gateway instead.
    const apiHost = spec.env.__OW_API_HOST;
    if (this.network !== undefined && apiHost !== undefined && isLoopbackUrl(apiHost)) {
      proxyEnv.__OW_API_HOST = await this.network.apiHostFor(apiHost);
    }
    return this.spawnSandbox(spec, proxyCommand(spec.family, runtimesDir, this.python), proxyEnv);
  }

  private async spawnSandbox(spec: SandboxSpec, command: string[], proxyEnv: Record<string, string> = {}) {
    const o = this.options;
    const dir = join(o.runDir, spec.id);
    const socketDir = join(dir, 'sock');
    mkdirSync(socketDir, { recursive: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const isolated = this.isolation.namespaces;
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: isolated ? '/tmp' : join(dir, 'tmp'),
      LANG: 'C.UTF-8',
      __WHIRL_READY_FD: '3',
      ...(spec.concurrency > 1 ? { __OW_ALLOW_CONCURRENT: 'true', __WHIRL_LOG_TAGS: '1' } : {}),
      ...spec.env,
      ...proxyEnv,
    };
    let cgroup: SandboxCgroup | undefined;
    let attachment: Attachment | undefined;
    let args: string[];
    if (isolated) {
      chownSync(socketDir, NOBODY, NOBODY);
      cgroup = this.cgroups?.create(spec.id, {
        memoryMB: spec.memoryMB,
        pids: o.pidsLimit,
        // Proportional to memory, as OpenWhisk does: a 256 MB action gets the default share.
        cpuShares: Math.max(2, Math.round((spec.memoryMB * 1024) / 256)),
      });
      Object.assign(env, {
        // Every sandbox mounts its root on the same empty directory, each in its own mount namespace.
        WHIRL_ROOT: join(o.runDir, 'mnt'),
        WHIRL_CGROUPS: cgroup?.procsDirs.join(' ') ?? '',
        WHIRL_NOFILE: String(o.nofileLimit),
        WHIRL_PLAN: buildMountPlan({
          skeleton: this.skeleton!,
          socketDir,
          runtimesDir: o.runtimesDir,
          tmpSizeMB: Math.min(512, spec.memoryMB),
        }),
      });
      if (this.network !== undefined) {
        const outbound = spec.network !== 'api-only' && o.networkPolicy.egress === 'internet';
        attachment = this.network.reserve(outbound);
        env.WHIRL_NET = attachment.insideCommands;
      }
      args = [
        '--pdeathsig',
        'KILL',
        '--',
        'unshare',
        '--kill-child',
        '--fork',
        '--pid',
        '--mount',
        '--ipc',
        '--uts',
        ...(attachment === undefined ? [] : ['--net']),
      ];
      args.push('--', '/bin/sh', '-c', ENTER_SCRIPT, 'whirl-sandbox', ...command);
    } else {
      args = ['--pdeathsig', 'KILL', '--', ...command];
    }
    const child = spawn('setpriv', args, {
      env,
      cwd: isolated ? '/' : join(dir, 'tmp'),
      // fd 3: the sandbox reports to us (its pid, then "ready"); fd 4: we tell it its network is plugged in.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', attachment === undefined ? 'ignore' : 'pipe'],
      // Unisolated proxies get their own process group so destroy() can reach their children.
      detached: !isolated,
    });
    const endpoint = { socketPath: join(socketDir, 'proxy.sock') };
    const network = this.network;
    const plugIn =
      network === undefined || attachment === undefined
        ? undefined
        : (pid: number) => network.attach(attachment, pid);
    const sandbox = new ProcessSandbox(spec.id, endpoint, child, cgroup, dir, isolated, plugIn);
    this.live.add(sandbox);
    void sandbox.exited.then(() => {
      this.live.delete(sandbox);
      if (attachment !== undefined) this.network?.release(attachment);
    });
    try {
      await sandbox.ready(o.startTimeoutMs);
      // The socket directory is on the host's disk and the proxy (uid nobody, like the action) needed it
      // writable only to create its socket. Closed now, before any action code runs, an action can
      // neither fill the host's disk there nor remove the socket; /tmp is its (bounded) scratch space.
      if (isolated) {
        chownSync(socketDir, 0, 0);
        chmodSync(socketDir, 0o555);
      }
    } catch (err) {
      await sandbox.destroy();
      throw err;
    }
    return sandbox;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live].map((s) => s.destroy()));
    await this.network?.close();
    rmSync(this.options.runDir, { recursive: true, force: true });
  }
}

class ProcessSandbox implements Sandbox {
  readonly exited: Promise<SandboxExit>;
  private listener: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  /** Output that arrived before anyone listened (start-up errors). */
  private early: [OutputStream, Buffer][] = [];
  private destroying: Promise<void> | undefined;
  private hasExited = false;
  /** The namespace's pid 1 and the runtime proxy as the host sees them: what reap() spares. */
  private keep: number[] = [];

  constructor(
    readonly id: string,
    readonly endpoint: { socketPath: string },
    private readonly child: ChildProcess,
    private readonly cgroup: SandboxCgroup | undefined,
    private readonly dir: string,
    private readonly isolated: boolean,
    /** Plugs the network link into the sandbox's namespace, given a pid in it. */
    private readonly plugIn?: (pid: number) => Promise<void>,
  ) {
    const forward = (stream: OutputStream) => (chunk: Buffer) => {
      // When the sandbox's pid 1 dies of a signal (an OOM kill), `unshare` complains on the way out
      // ("unshare: sigprocmask unblock failed: ..."): that is the wrapper talking, not the action.
      if (stream === 'stderr' && chunk.subarray(0, 9).toString() === 'unshare: ') return;
      if (this.listener !== undefined) this.listener(stream, chunk);
      else if (this.early.length < 64) this.early.push([stream, chunk]);
    };
    child.stdout!.on('data', forward('stdout'));
    child.stderr!.on('data', forward('stderr'));
    this.exited = new Promise((resolve) => {
      child.once('error', () => undefined);
      child.once('close', (code, signal) => {
        this.hasExited = true;
        resolve({ code, signal, oomKilled: cgroup?.oomKilled() ?? false });
      });
    });
  }

  onOutput(listener: (stream: OutputStream, chunk: Buffer) => void): void {
    this.listener = listener;
    for (const [stream, chunk] of this.early) listener(stream, chunk);
    this.early = [];
  }

  /** Resolves when the proxy writes `ready` on fd 3; rejects on exit or timeout. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const pipe = this.child.stdio[3] as NodeJS.ReadableStream | null;
      let buffered = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        const said = this.early
          .map(([, c]) => c.toString())
          .join('')
          .trim();
        reject(
          new SandboxStartError(`the runtime did not start: ${why}${said ? `: ${said.slice(0, 2000)}` : ''}`),
        );
      };
      const timer = setTimeout(() => fail(`no ready signal within ${timeoutMs} ms`), timeoutMs);
      pipe?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const pid = /^pid (\d+)\n/m.exec(buffered);
        if (pid !== null) this.keep = [Number(pid[1])];
        if (pid !== null && this.plugIn !== undefined) {
          buffered = buffered.replace(pid[0], '');
          // The sandbox waits on fd 4 until its network link exists.
          const go = this.child.stdio[4] as NodeJS.WritableStream;
          this.plugIn(Number(pid[1])).then(
            () => go.write('go\n'),
            (err: unknown) => fail(`cannot plug in its network: ${(err as Error).message}`),
          );
        }
        if (buffered.includes('ready')) {
          // No action has run yet, so pid 1's one child is the proxy.
          if (this.keep.length === 1) this.keep.push(...childrenOf(this.keep[0]!));
          clearTimeout(timer);
          resolve();
        }
      });
      this.child.once('error', (err) => fail(err.message));
      void this.exited.then((e) => fail(`exited with ${e.signal ?? `code ${e.code}`}`));
    });
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (!this.hasExited) {
        this.cgroup?.killAll();
        try {
          if (this.isolated) this.child.kill('SIGKILL');
          else process.kill(-this.child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await this.exited;
      await this.cgroup?.remove();
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.destroying;
  }

  async reap(idle: () => boolean): Promise<void> {
    // Both pid 1 and the proxy must be known: a kernel without /proc/<pid>/task/<pid>/children leaves the
    // proxy unidentified, and then nothing is reaped rather than the proxy killed.
    if (!this.hasExited && this.keep.length === 2) await this.cgroup?.killAllBut(this.keep, idle);
  }

  async pause(): Promise<void> {
    if (!this.hasExited) await this.cgroup?.pause(true);
  }

  async resume(): Promise<void> {
    if (!this.hasExited) await this.cgroup?.pause(false);
  }
}

/** A process's children, by pid as the host sees them. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** What this host lets the backend do, and the cgroup manager when there is one. */
async function probe(
  o: Required<ProcessSandboxOptions>,
): Promise<{ report: IsolationReport; cgroups?: CgroupManager; network?: SandboxNetwork }> {
  const notes: string[] = [];
  const none = { isolated: false, namespaces: false, cgroups: false, network: false, notes };
  if (o.isolation === 'off') {
    notes.push('isolation turned off by configuration: actions run as plain processes of the Whirl user');
    return { report: none };
  }
  if (process.platform !== 'linux') {
    notes.push(`no isolation on ${process.platform}: actions run as plain processes of the Whirl user`);
    return { report: none };
  }
  const missing = ['setpriv', 'unshare', 'pivot_root', 'mount'].filter((c) => which(c) === undefined);
  let namespaces = false;
  if (process.getuid?.() !== 0) {
    notes.push('not running as root: Linux namespaces are not used (actions can see the host filesystem)');
  } else if (missing.length > 0) {
    notes.push(`missing ${missing.join(', ')} (util-linux): Linux namespaces are not used`);
  } else {
    const r = spawnSync('unshare', ['--fork', '--pid', '--mount', '--ipc', '--uts', 'true'], {
      timeout: 5000,
    });
    namespaces = r.status === 0;
    if (!namespaces)
      notes.push(`cannot create namespaces: ${r.stderr.toString().trim() || 'unshare failed'}`);
  }
  const cg = namespaces
    ? await openCgroups(o.instance)
    : { unavailable: 'cgroups are used only with namespaces' };
  const cgroups = 'unavailable' in cg ? undefined : cg;
  if (cgroups === undefined)
    notes.push(`no memory/pids limits: ${(cg as { unavailable: string }).unavailable}`);
  if (namespaces) {
    notes.push(
      'pid, mount, ipc and uts namespaces; read-only system view; private /tmp; uid 65534, no capabilities',
    );
  }
  if (cgroups !== undefined) notes.push(`cgroup v${cgroups.version} memory (no swap), pids and cpu shares`);
  const net = namespaces ? await SandboxNetwork.open(o.networkPolicy) : { unavailable: 'needs namespaces' };
  const network = net instanceof SandboxNetwork ? net : undefined;
  notes.push(
    network !== undefined
      ? `network: own namespace per sandbox; reaches the Whirl API and the outside, not the host's services, other sandboxes or link-local addresses`
      : `network: shared with the host, so actions can reach its loopback services (${(net as { unavailable: string }).unavailable})`,
  );
  return {
    report: {
      isolated: namespaces && cgroups !== undefined && network !== undefined,
      namespaces,
      cgroups: cgroups !== undefined,
      network: network !== undefined,
      notes,
    },
    ...(cgroups === undefined ? {} : { cgroups }),
    ...(network === undefined ? {} : { network }),
  };
}
