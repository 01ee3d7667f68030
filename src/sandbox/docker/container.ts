/**
 * One docker sandbox: a container started through the Engine API, its output read from an attach stream,
 * its exit from a wait on a connection of its own, its endpoint its address on the sandbox network.
 *
 * Start-up is a numbered protocol: create → attach and wait (both registered before anything runs, so no
 * output and no exit can be missed) → start → inspect (address) → readiness, i.e. the runtime accepts a
 * TCP connection on 8080 — raced against the container's exit and a deadline. Polling the port works for
 * any image that speaks the action protocol, Whirl's or not, which a ready signal on a pipe would not.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import type { OutputStream, Sandbox, SandboxExit } from '../sandbox.js';
import { SandboxStartError } from '../sandbox.js';
import { StreamDemuxer } from './demux.js';
import { DockerError, type DockerEngine } from './engine.js';

/** The port every action image serves the protocol on (OpenWhisk's convention). */
export const ACTION_PORT = 8080;

interface ContainerInspect {
  State?: { OOMKilled?: boolean; ExitCode?: number; Running?: boolean; Paused?: boolean; Pid?: number };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export interface StartRequest {
  engine: DockerEngine;
  /** Sandbox id (the pool's). */
  id: string;
  /** Container name. */
  name: string;
  network: string;
  /** The container's create body. */
  config: Record<string, unknown>;
  startTimeoutMs: number;
  /** Whether reap() may kill what the runtime did not start itself. */
  reapable: boolean;
}

export class DockerSandbox implements Sandbox {
  readonly exited: Promise<SandboxExit>;
  private settle!: (e: SandboxExit) => void;
  private hasExited = false;
  private listener: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  /** Output that arrived before anyone listened (start-up errors). */
  private early: [OutputStream, Buffer][] = [];
  private stream: Duplex | undefined;
  private destroying: Promise<void> | undefined;
  private address: { host: string; port: number } = { host: '0.0.0.0', port: ACTION_PORT };
  /** The container's cgroup.procs and the processes to keep (see recordBaseline). */
  private reaping: { procs: string; keep: Set<number> } | undefined;

  private constructor(
    private readonly engine: DockerEngine,
    readonly id: string,
    /** The Docker container id. */
    readonly containerId: string,
  ) {
    this.exited = new Promise((resolve) => (this.settle = resolve));
  }

  get endpoint(): { host: string; port: number } {
    return this.address;
  }

  /** Creates, starts and waits for a container to serve; on any failure it is removed again. */
  static async start(r: StartRequest, track: (s: DockerSandbox) => void): Promise<DockerSandbox> {
    const { Id } = await r.engine.json<{ Id: string }>('POST', '/containers/create', {
      query: { name: r.name },
      body: r.config,
    });
    const s = new DockerSandbox(r.engine, r.id, Id);
    track(s);
    try {
      const [stream, exit] = await Promise.allSettled([r.engine.attach(Id), r.engine.waitForExit(Id)]);
      if (stream.status === 'rejected' || exit.status === 'rejected') {
        if (stream.status === 'fulfilled') stream.value.destroy();
        throw stream.status === 'rejected' ? stream.reason : (exit as PromiseRejectedResult).reason;
      }
      s.wire(stream.value, exit.value.exit);
      await r.engine.call('POST', `/containers/${Id}/start`);
      const info = await r.engine.json<ContainerInspect>('GET', `/containers/${Id}/json`);
      const ip = info.NetworkSettings?.Networks?.[r.network]?.IPAddress;
      if (ip === undefined || ip === '') {
        throw new SandboxStartError(`the container has no address on network ${r.network}`);
      }
      s.address = { host: ip, port: ACTION_PORT };
      await s.ready(r.startTimeoutMs);
      if (r.reapable && info.State?.Pid !== undefined) await s.recordBaseline(info.State.Pid);
      return s;
    } catch (err) {
      await s.destroy().catch(() => undefined);
      if (err instanceof SandboxStartError) throw err;
      throw new SandboxStartError(
        `cannot start the container: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private wire(stream: Duplex, exit: Promise<number | null>): void {
    this.stream = stream;
    const demux = new StreamDemuxer((kind, chunk) => {
      if (this.listener !== undefined) this.listener(kind, chunk);
      else if (this.early.length < 64) this.early.push([kind, chunk]);
    });
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.on('error', () => undefined); // the wait below reports the exit
    void exit.then(async (code) => {
      let oomKilled = false;
      try {
        const info = await this.engine.json<ContainerInspect>('GET', `/containers/${this.containerId}/json`, {
          timeoutMs: 5000,
        });
        oomKilled = info.State?.OOMKilled === true;
      } catch {
        // removed already: not an OOM we could know of
      }
      const signal = code !== null && code > 128 ? (signalNames.get(code - 128) ?? null) : null;
      this.finish({ code, signal, oomKilled });
    });
  }

  private finish(e: SandboxExit): void {
    if (this.hasExited) return;
    this.hasExited = true;
    this.settle(e);
  }

  onOutput(listener: (stream: OutputStream, chunk: Buffer) => void): void {
    this.listener = listener;
    for (const [stream, chunk] of this.early) listener(stream, chunk);
    this.early = [];
  }

  /** Resolves once the runtime accepts connections; rejects on exit or at the deadline. */
  private ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      let done = false;
      let delay = 2;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        const said = this.early
          .map(([, c]) => c.toString())
          .join('')
          .trim();
        reject(
          new SandboxStartError(`the runtime did not start: ${why}${said ? `: ${said.slice(0, 2000)}` : ''}`),
        );
      };
      void this.exited.then((e) =>
        // Let output written just before the exit arrive, so the error can quote it.
        setTimeout(() => fail(`the container exited with ${e.signal ?? `code ${e.code}`}`), 50),
      );
      const attempt = () => {
        if (done) return;
        if (Date.now() > deadline)
          return fail(`nothing listens on port ${ACTION_PORT} after ${timeoutMs} ms`);
        const sock = net.connect({ host: this.address.host, port: this.address.port });
        sock.once('connect', () => {
          sock.destroy();
          if (done) return;
          done = true;
          resolve();
        });
        sock.once('error', () => {
          sock.destroy();
          // Fast at first (a Node.js proxy listens within ~50 ms), gentler for slow images.
          setTimeout(attempt, delay);
          delay = Math.min(delay * 2, 25);
        });
      };
      attempt();
    });
  }

  /**
   * Notes the container's cgroup (as the host sees it) and the processes the runtime runs once ready —
   * its init and the proxy — which reap() leaves alone. Best effort: where Whirl cannot see the
   * container's processes (it runs in a container itself), reap() does nothing.
   */
  private async recordBaseline(initPid: number): Promise<void> {
    try {
      const lines = (await readFile(`/proc/${initPid}/cgroup`, 'utf8')).split('\n');
      const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('pids'));
      let dir: string | undefined;
      if (v1 !== undefined) dir = join('/sys/fs/cgroup/pids', v1.split(':')[2] ?? '');
      else {
        const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
        if (v2 !== undefined) {
          const root = existsSync('/sys/fs/cgroup/cgroup.controllers')
            ? '/sys/fs/cgroup'
            : '/sys/fs/cgroup/unified';
          dir = join(root, v2);
        }
      }
      if (dir === undefined) return;
      const procs = join(dir, 'cgroup.procs');
      const baseline = await pidsIn(procs);
      if (!baseline.includes(initPid)) return;
      this.reaping = { procs, keep: new Set(baseline) };
    } catch {
      // not visible from here
    }
  }

  async reap(idle: () => boolean): Promise<void> {
    if (this.reaping === undefined || this.hasExited || this.destroying !== undefined) return;
    const { procs, keep } = this.reaping;
    const strays = (await pidsIn(procs)).filter((p) => !keep.has(p));
    if (strays.length === 0 || !idle()) return;
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      try {
        await this.engine.call('DELETE', `/containers/${this.containerId}`, {
          query: { force: true, v: true },
        });
      } catch (err) {
        // Gone already, or being removed by an earlier call: either way it will not run again.
        if (!(err instanceof DockerError && (err.status === 404 || err.status === 409))) throw err;
      }
      // Removed: if nothing waits for its exit (start-up failed early), or the wait has not reported yet
      // (a container that never ran), it is over all the same.
      if (this.stream === undefined) this.finish({ code: null, signal: null, oomKilled: false });
      const late = setTimeout(() => this.finish({ code: null, signal: 'SIGKILL', oomKilled: false }), 2000);
      await this.exited;
      clearTimeout(late);
      this.stream?.destroy();
    })();
    return this.destroying;
  }

  async pause(): Promise<void> {
    if (this.hasExited || this.destroying !== undefined) return;
    await this.lifecycle('pause');
  }

  async resume(): Promise<void> {
    if (this.hasExited || this.destroying !== undefined) return;
    await this.lifecycle('unpause');
  }

  private async lifecycle(op: 'pause' | 'unpause'): Promise<void> {
    try {
      await this.engine.call('POST', `/containers/${this.containerId}/${op}`);
    } catch (err) {
      // Already in the wanted state, or no longer running (which `exited` reports): nothing to do. Docker
      // says so with 409 or 500 depending on its version, so the message decides.
      if (!(err instanceof DockerError && /is (not|already) (running|paused)/i.test(err.message))) throw err;
    }
  }
}

async function pidsIn(procs: string): Promise<number[]> {
  try {
    return (await readFile(procs, 'utf8')).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
