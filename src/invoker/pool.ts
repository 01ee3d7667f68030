/**
 * The container pool of one invoker. Placement follows OpenWhisk's order: a warm container of the same
 * action, revision and invoking namespace → a prewarmed stem cell of the kind and memory → a cold start
 * if memory is free → evicting least-recently-used idle containers → waiting in a bounded FIFO.
 * Idle containers are paused after a grace period and removed after the idle timeout; stem cells are
 * refilled after use.
 */
import type { RuntimeFamily } from '../core/runtimes.js';
import type { SandboxFactory } from '../sandbox/sandbox.js';
import { Container } from './container.js';

export interface PrewarmConfig {
  kind: string;
  family: RuntimeFamily;
  memoryMB: number;
  count: number;
}

export interface PoolOptions {
  /** Memory budget for all containers, stem cells included. */
  memoryMB: number;
  prewarm: PrewarmConfig[];
  /** Idle warm containers are removed after this long. */
  idleTimeoutMs: number;
  /** Idle containers are paused (frozen) after this long; 0 disables pausing. */
  pauseGraceMs: number;
  /** Activations waiting for memory beyond this many are refused. */
  maxQueue: number;
  /** Environment every sandbox gets (e.g. `__OW_API_HOST`). */
  env: Record<string, string>;
}

export interface ContainerRequest {
  /** `invokingNamespace|/owner/pkg/action`. */
  actionKey: string;
  rev: number;
  kind: string;
  family: RuntimeFamily;
  image?: string;
  memoryMB: number;
  concurrency: number;
  /** `api-only` sandboxes reach the Whirl API alone; they never share containers with outbound ones. */
  network?: 'api-only';
}

/** The warm-reuse key: same action, revision, invoking namespace and network policy. */
function keyOf(req: ContainerRequest): string {
  return `${req.actionKey}#${req.rev}${req.network === undefined ? '' : `#${req.network}`}`;
}

/** How long a container must stay idle before its leftover processes are killed. */
const REAP_DELAY_MS = 50;

/** Sandbox ids name cgroups and directories: unique across every pool of this process. */
let sandboxSeq = 0;

export type StartKind = 'warm' | 'prewarm' | 'cold';

export interface Lease {
  container: Container;
  start: StartKind;
}

/** The pool refused work (its queue is full or it is shutting down). */
export class PoolBusyError extends Error {}

interface Waiter {
  req: ContainerRequest;
  resolve: (lease: Lease) => void;
  reject: (err: unknown) => void;
}

interface Stem {
  container: Container;
  kind: string;
}

export class ContainerPool {
  /** Every container with memory reserved: warm (idle or busy), starting, stem cells. */
  private readonly containers = new Set<Container>();
  private readonly stems: Stem[] = [];
  private readonly queue: Waiter[] = [];
  private usedMB = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  /** Stem cells being started, by `kind/memory`. */
  private stemsStarting = new Map<string, number>();
  /**
   * Cold starts of containers that serve several activations at once, by key: requests arriving while
   * one starts share it instead of starting their own.
   */
  private readonly starting = new Map<string, { ready: Promise<Container>; reserved: number; max: number }>();

  constructor(
    private readonly factory: SandboxFactory,
    private readonly options: PoolOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.timer = setInterval(() => this.housekeeping(), 1000);
    this.timer.unref();
  }

  /** Fills the stem cells; resolves when they are up. */
  async start(): Promise<void> {
    await Promise.all(this.options.prewarm.map((p) => this.refill(p)));
  }

  get stats(): { containers: number; stems: number; usedMB: number; queued: number; busy: number } {
    let busy = 0;
    for (const c of this.containers) if (c.active > 0) busy++;
    return {
      containers: this.containers.size,
      stems: this.stems.length,
      usedMB: this.usedMB,
      queued: this.queue.length,
      busy,
    };
  }

  /** A container for the request, now or when one frees up. */
  acquire(req: ContainerRequest): Promise<Lease> {
    if (this.closed) return Promise.reject(new PoolBusyError('the invoker is shutting down'));
    // Work that a warm container can take never waits behind work that waits for memory.
    const warm = this.warm(req);
    if (warm !== undefined) return this.lease(warm, 'warm');
    const joined = this.joinStarting(req);
    if (joined !== undefined) return joined;
    if (this.queue.length === 0) {
      const placed = this.place(req);
      if (placed !== undefined) return placed;
    }
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new PoolBusyError(`the invoker's queue is full (${this.options.maxQueue} activations wait)`),
      );
    }
    return new Promise((resolve, reject) => this.queue.push({ req, resolve, reject }));
  }

  /** Returns a container after an activation; `discard` destroys it. */
  release(container: Container, discard: boolean): void {
    container.active--;
    container.lastUsed = Date.now();
    if (discard || container.dead) {
      void this.remove(container);
      return;
    }
    if (container.active === 0) this.scheduleReap(container);
    this.drainQueue();
  }

  private warm(req: ContainerRequest): Container | undefined {
    const key = keyOf(req);
    for (const c of this.containers) {
      if (c.key === key && !c.dead && c.active < c.maxConcurrency) return c;
    }
    return undefined;
  }

  /** Tries stem cell, cold start, then eviction; undefined when memory is short. */
  private place(req: ContainerRequest): Promise<Lease> | undefined {
    this.retireStaleRevisions(req);
    const stemIndex = this.stems.findIndex(
      (s) =>
        s.kind === req.kind &&
        s.container.memoryMB === req.memoryMB &&
        !s.container.dead &&
        req.image === undefined &&
        req.network === undefined,
    );
    if (stemIndex >= 0) {
      const [stem] = this.stems.splice(stemIndex, 1);
      const c = stem!.container;
      c.key = keyOf(req);
      this.containers.add(c);
      const config = this.options.prewarm.find((p) => p.kind === req.kind && p.memoryMB === req.memoryMB);
      if (config !== undefined) void this.refill(config);
      return this.lease(c, 'prewarm');
    }
    if (!this.makeRoom(req.memoryMB)) return undefined;
    return this.coldStart(req);
  }

  /** Frees memory by evicting idle warm containers, oldest first; false if that cannot suffice. */
  private makeRoom(memoryMB: number): boolean {
    if (this.free() >= memoryMB) return true;
    const idle = [...this.containers].filter((c) => c.active === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    let reclaimable = this.free();
    const victims: Container[] = [];
    for (const c of idle) {
      if (reclaimable >= memoryMB) break;
      victims.push(c);
      reclaimable += c.memoryMB;
    }
    if (reclaimable < memoryMB) return false;
    for (const v of victims) void this.remove(v);
    return true;
  }

  private free(): number {
    return this.options.memoryMB - this.usedMB;
  }

  /** An updated action never runs stale code: idle containers of its older revisions go. */
  private retireStaleRevisions(req: ContainerRequest): void {
    const prefix = `${req.actionKey}#`;
    const current = keyOf(req);
    for (const c of this.containers) {
      if (c.key !== undefined && c.key !== current && c.key.startsWith(prefix) && c.active === 0)
        void this.remove(c);
    }
  }

  private coldStart(req: ContainerRequest): Promise<Lease> {
    const key = keyOf(req);
    this.usedMB += req.memoryMB;
    const entry = { reserved: 1, max: req.concurrency, ready: undefined as unknown as Promise<Container> };
    entry.ready = this.create(req.family, req.memoryMB, req.concurrency, req.image, req.network).then(
      (container) => {
        if (this.starting.get(key) === entry) this.starting.delete(key);
        container.key = key;
        // Every request that joined this start holds a slot from the outset.
        container.active += entry.reserved;
        container.lastUsed = Date.now();
        this.containers.add(container);
        return container;
      },
      (err: unknown) => {
        if (this.starting.get(key) === entry) this.starting.delete(key);
        this.usedMB -= req.memoryMB;
        this.drainQueue();
        throw err;
      },
    );
    if (req.concurrency > 1) this.starting.set(key, entry);
    return entry.ready.then((container) => ({ container, start: 'cold' }));
  }

  /** A slot in a container of this action that is still starting, if one has room. */
  private joinStarting(req: ContainerRequest): Promise<Lease> | undefined {
    const entry = this.starting.get(keyOf(req));
    if (entry === undefined || entry.reserved >= entry.max) return undefined;
    entry.reserved++;
    return entry.ready.then((container) => ({ container, start: 'cold' }));
  }

  private async create(
    family: RuntimeFamily,
    memoryMB: number,
    concurrency: number,
    image?: string,
    network?: 'api-only',
  ): Promise<Container> {
    const sandbox = await this.factory.create({
      id: `s${process.pid}x${(sandboxSeq++).toString(36)}`,
      family,
      memoryMB,
      concurrency,
      env: this.options.env,
      ...(image === undefined ? {} : { image }),
      ...(network === undefined ? {} : { network }),
    });
    const container = new Container(sandbox, family, memoryMB, concurrency);
    // A sandbox that dies on its own (crash, OOM, kill) gives its memory back.
    void sandbox.exited.then(() => {
      if (this.containers.has(container) || this.stems.some((s) => s.container === container))
        void this.remove(container);
    });
    return container;
  }

  /**
   * Nothing an action started may keep running once its container is idle: a moment after the last
   * activation leaves, whatever else runs in the sandbox is killed. The moment spares back-to-back
   * activations the cost (reading the sandbox's process list) while a container is kept busy.
   */
  private scheduleReap(container: Container): void {
    clearTimeout(container.reapTimer);
    container.reapTimer = setTimeout(() => {
      if (container.active > 0 || container.dead) return;
      container.sandbox.reap(() => container.active === 0).catch((err: unknown) => this.onError(err));
    }, REAP_DELAY_MS);
    container.reapTimer.unref();
  }

  /** Reserves a slot of the container at once (so no one else takes it), resuming it if paused. */
  private async lease(container: Container, start: StartKind): Promise<Lease> {
    clearTimeout(container.reapTimer);
    container.active++;
    container.lastUsed = Date.now();
    if (container.paused) {
      try {
        await container.resume();
      } catch (err) {
        container.active--;
        void this.remove(container);
        throw err;
      }
    }
    return { container, start };
  }

  private async refill(p: PrewarmConfig): Promise<void> {
    const key = `${p.kind}/${p.memoryMB}`;
    const have = this.stems.filter((s) => s.kind === p.kind && s.container.memoryMB === p.memoryMB).length;
    const starting = this.stemsStarting.get(key) ?? 0;
    const missing = p.count - have - starting;
    const starts: Promise<void>[] = [];
    for (let i = 0; i < missing && this.free() >= p.memoryMB && !this.closed; i++) {
      this.usedMB += p.memoryMB;
      this.stemsStarting.set(key, (this.stemsStarting.get(key) ?? 0) + 1);
      starts.push(
        this.create(p.family, p.memoryMB, 1, undefined)
          .then((container) => {
            if (this.closed) return void container.destroy();
            this.stems.push({ container, kind: p.kind });
            this.drainQueue();
          })
          .catch((err: unknown) => {
            this.usedMB -= p.memoryMB;
            this.onError(err);
          })
          .finally(() => this.stemsStarting.set(key, (this.stemsStarting.get(key) ?? 1) - 1)),
      );
    }
    await Promise.all(starts);
  }

  private async remove(container: Container): Promise<void> {
    const stem = this.stems.findIndex((s) => s.container === container);
    const stemKind = stem >= 0 ? this.stems[stem]!.kind : undefined;
    const known = this.containers.delete(container) || stem >= 0;
    if (stem >= 0) this.stems.splice(stem, 1);
    if (!known) return;
    this.usedMB -= container.memoryMB;
    try {
      await container.destroy();
    } catch (err) {
      this.onError(err);
    }
    this.drainQueue();
    if (stemKind !== undefined && !this.closed) {
      const config = this.options.prewarm.find(
        (p) => p.kind === stemKind && p.memoryMB === container.memoryMB,
      );
      if (config !== undefined) void this.refill(config);
    }
  }

  /** Serves waiting work in order; a head that needs memory blocks those behind it, except warm matches. */
  private drainQueue(): void {
    let blocked = false;
    for (let i = 0; i < this.queue.length;) {
      const w = this.queue[i]!;
      const warm = this.warm(w.req);
      let lease: Promise<Lease> | undefined;
      if (warm !== undefined) lease = this.lease(warm, 'warm');
      else lease = this.joinStarting(w.req);
      if (lease === undefined && !blocked) lease = this.place(w.req);
      if (lease === undefined) {
        blocked = true;
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      lease.then(w.resolve, w.reject);
    }
  }

  private housekeeping(): void {
    const now = Date.now();
    for (const c of this.containers) {
      if (c.active > 0) continue;
      const idle = now - c.lastUsed;
      if (idle >= this.options.idleTimeoutMs) void this.remove(c);
      else if (this.options.pauseGraceMs > 0 && idle >= this.options.pauseGraceMs && !c.paused) {
        c.pause().catch((err: unknown) => this.onError(err));
      }
    }
  }

  /** Refuses waiting work, then destroys every container. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.queue.splice(0)) w.reject(new PoolBusyError('the invoker is shutting down'));
    const all = [...this.containers, ...this.stems.map((s) => s.container)];
    this.containers.clear();
    this.stems.length = 0;
    await Promise.all(all.map((c) => c.destroy().catch(() => undefined)));
  }
}
