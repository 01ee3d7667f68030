/**
 * Resource limits for process sandboxes through Linux cgroups: memory (no extra swap), pids, CPU shares,
 * a way to pause and resume a sandbox, and reliable kill-all. cgroup v1 (one hierarchy per controller) and v2
 * (unified) are both handled; which one is present is detected once.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

export interface CgroupLimits {
  memoryMB: number;
  pids: number;
  cpuShares: number;
}

export interface SandboxCgroup {
  /** Directories whose `cgroup.procs` the sandbox's first process writes itself into. */
  readonly procsDirs: string[];
  oomKilled(): boolean;
  /** Stops (or resumes) every process of the group, in a way that a SIGKILL still ends at once. */
  pause(paused: boolean): Promise<void>;
  /** SIGKILLs every process still in the group. */
  killAll(): void;
  /** SIGKILLs every process in the group except `keep`, if `go()` still agrees once they are listed. */
  killAllBut(keep: number[], go: () => boolean): Promise<void>;
  remove(): Promise<void>;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  create(name: string, limits: CgroupLimits): SandboxCgroup;
  /** Removes leftovers of an earlier run of this instance (their processes are killed first). */
  sweep(): Promise<void>;
}

const write = (file: string, value: string | number) => writeFileSync(file, String(value));
const tryWrite = (file: string, value: string | number) => {
  try {
    write(file, value);
    return true;
  } catch {
    return false;
  }
};
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

function pidsIn(dir: string): number[] {
  return read(join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
}

async function pidsInAsync(dir: string): Promise<number[]> {
  try {
    return (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Signals every process of the group until no new one turns up (a process may fork meanwhile). */
async function signalAll(dir: string, signal: NodeJS.Signals): Promise<void> {
  const done = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const fresh = (await pidsInAsync(dir)).filter((p) => !done.has(p));
    if (fresh.length === 0) return;
    for (const pid of fresh) {
      done.add(pid);
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    }
  }
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** rmdir needs the group empty; processes disappear asynchronously after SIGKILL, so retry briefly. */
async function removeDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const child of readdirSync(dir, { withFileTypes: true })) {
    if (child.isDirectory()) await removeDir(join(dir, child.name));
  }
  for (let i = 0; i < 100; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      killPids(pidsIn(dir));
      await sleep(10);
    }
  }
}

class V1 implements CgroupManager {
  readonly version = 1;
  constructor(private readonly instance: string) {}

  private dir(controller: string, name?: string) {
    return join(ROOT, controller, 'whirl', this.instance, ...(name === undefined ? [] : [name]));
  }

  create(name: string, limits: CgroupLimits): SandboxCgroup {
    const dirs = {
      memory: this.dir('memory', name),
      pids: this.dir('pids', name),
      cpu: this.dir('cpu', name),
      freezer: this.dir('freezer', name),
    };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    // Under CPU contention all sandboxes together weigh a quarter of a normal process against the platform's
    // own processes, so that CPU-hungry actions cannot starve Whirl (and with it every other tenant).
    tryWrite(join(this.dir('cpu'), 'cpu.shares'), 256);
    const bytes = limits.memoryMB * 1024 * 1024;
    write(join(dirs.memory, 'memory.limit_in_bytes'), bytes);
    // Present only with swap accounting; where it is, the sandbox gets no swap beyond its memory.
    tryWrite(join(dirs.memory, 'memory.memsw.limit_in_bytes'), bytes);
    tryWrite(join(dirs.memory, 'memory.swappiness'), 0);
    write(join(dirs.pids, 'pids.max'), limits.pids);
    write(join(dirs.cpu, 'cpu.shares'), limits.cpuShares);
    return {
      procsDirs: Object.values(dirs),
      oomKilled: () => /oom_kill [1-9]/.test(read(join(dirs.memory, 'memory.oom_control'))),
      // Not the v1 freezer: a frozen task keeps a SIGKILL pending until thawed, so a sandbox paused when Whirl
      // dies (kill -9) would outlive it. Stopped tasks die of SIGKILL at once.
      pause: (paused) => signalAll(dirs.pids, paused ? 'SIGSTOP' : 'SIGCONT'),
      killAll: () => {
        // Freeze first so that nothing forks between listing and killing.
        tryWrite(join(dirs.freezer, 'freezer.state'), 'FROZEN');
        killPids(pidsIn(dirs.freezer));
        tryWrite(join(dirs.freezer, 'freezer.state'), 'THAWED');
      },
      killAllBut: async (keep, go) => {
        const others = (await pidsInAsync(dirs.pids)).filter((p) => !keep.includes(p));
        if (others.length > 0 && go()) killPids(others);
      },
      remove: async () => {
        for (const d of Object.values(dirs)) await removeDir(d);
      },
    };
  }

  async sweep(): Promise<void> {
    for (const c of ['freezer', 'memory', 'pids', 'cpu']) await removeDir(this.dir(c));
  }
}

class V2 implements CgroupManager {
  readonly version = 2;
  private readonly base: string;
  constructor(instance: string) {
    this.base = join(ROOT, 'whirl', instance);
  }

  private prepareBase(): void {
    mkdirSync(this.base, { recursive: true });
    // Controllers must be enabled on every level above a group that uses them.
    for (const d of [ROOT, join(ROOT, 'whirl'), this.base])
      tryWrite(join(d, 'cgroup.subtree_control'), '+memory +pids +cpu');
  }

  create(name: string, limits: CgroupLimits): SandboxCgroup {
    this.prepareBase();
    const dir = join(this.base, name);
    mkdirSync(dir, { recursive: true });
    write(join(dir, 'memory.max'), limits.memoryMB * 1024 * 1024);
    tryWrite(join(dir, 'memory.swap.max'), 0);
    write(join(dir, 'pids.max'), limits.pids);
    // cpu.weight is 1..10000 (default 100) where v1 shares default to 1024.
    tryWrite(
      join(dir, 'cpu.weight'),
      Math.max(1, Math.min(10000, Math.round((limits.cpuShares * 100) / 1024))),
    );
    return {
      procsDirs: [dir],
      oomKilled: () => /oom_kill [1-9]/.test(read(join(dir, 'memory.events'))),
      // The v2 freezer lets SIGKILL through, unlike v1's.
      pause: async (paused) => write(join(dir, 'cgroup.freeze'), paused ? 1 : 0),
      killAll: () => {
        if (!tryWrite(join(dir, 'cgroup.kill'), 1)) killPids(pidsIn(dir));
      },
      killAllBut: async (keep, go) => {
        const others = (await pidsInAsync(dir)).filter((p) => !keep.includes(p));
        if (others.length > 0 && go()) killPids(others);
      },
      remove: () => removeDir(dir),
    };
  }

  sweep(): Promise<void> {
    return removeDir(this.base);
  }
}

/** The manager for this host, or the reason there is none. */
export async function openCgroups(instance: string): Promise<CgroupManager | { unavailable: string }> {
  if (process.platform !== 'linux') return { unavailable: 'cgroups exist only on Linux' };
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      const m = new V2(instance);
      const probe = m.create('probe', { memoryMB: 64, pids: 8, cpuShares: 1024 });
      await probe.remove();
      return m;
    }
    for (const c of ['memory', 'pids', 'freezer', 'cpu']) {
      if (!existsSync(join(ROOT, c)))
        return { unavailable: `the cgroup v1 '${c}' controller is not mounted` };
    }
    const m = new V1(instance);
    const probe = m.create('probe', { memoryMB: 64, pids: 8, cpuShares: 1024 });
    await probe.remove();
    return m;
  } catch (err) {
    return {
      unavailable: `cannot create cgroups (${(err as Error).message}); run as root or delegate a cgroup`,
    };
  }
}
