/**
 * Starts a real Whirl cluster on loopback for end-to-end tests: `whirl controller` and `whirl invoker`
 * processes (the compiled CLI, as an operator runs them) over this machine's PostgreSQL and NATS, in a
 * schema and NATS prefix of their own. Short health timings so that tests see failures and recoveries
 * within seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { NatsBus } from '../../src/bus/nats/nats-bus.js';
import type { NamespaceLimits } from '../../src/core/limits.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { GENEROUS_LIMITS } from './limits.js';
import { DATABASE_URL, NATS_URL, dropSchema, uniqueName } from './services.js';
import { GUEST_KEY, SYSTEM_KEY, WHIRL_BIN } from './standalone.js';

export interface Proc {
  id: string;
  /** The API URL (controllers). */
  url: string;
  process: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface ClusterOptions {
  /** Seconds before a dead invoker's work is redelivered. */
  ackWait?: number;
  /** Seconds of silence before an invoker is offline. */
  offlineAfter?: number;
  limits?: Record<string, NamespaceLimits>;
  env?: Record<string, string>;
}

export class TestCluster {
  readonly schema = uniqueName('whirl_e2e');
  readonly prefix = uniqueName('we');
  readonly guestKey = GUEST_KEY;
  readonly controllers = new Map<string, Proc>();
  readonly invokers = new Map<string, Proc>();
  /** Every process started, restarted ones included (for logs). */
  private readonly all: Proc[] = [];

  constructor(private readonly o: ClusterOptions = {}) {}

  /** Creates the schema (migrations) and seeds limits, before any process starts. */
  async prepare(): Promise<void> {
    const store = await PostgresStore.open({ url: DATABASE_URL, schema: this.schema, poolSize: 1 });
    for (const [ns, l] of Object.entries(this.o.limits ?? { guest: GENEROUS_LIMITS }))
      await store.setLimits(ns, l);
    await store.close();
  }

  private common(): string[] {
    return [
      '--database-url',
      DATABASE_URL,
      '--database-schema',
      this.schema,
      '--database-pool',
      '4',
      '--nats-url',
      NATS_URL,
      '--nats-prefix',
      this.prefix,
      '--ack-wait',
      String(this.o.ackWait ?? 2),
      '--offline-after',
      String(this.o.offlineAfter ?? 3),
    ];
  }

  private spawn(role: 'controller' | 'invoker', id: string, args: string[], ready: RegExp): Promise<Proc> {
    const child = spawn(process.execPath, [WHIRL_BIN, role, '--id', id, ...this.common(), ...args], {
      env: { ...process.env, ...this.o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (c: Buffer) => (out += c.toString());
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return new Promise<Proc>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${id} did not become ready:\n${out}`)), 30_000);
      const check = () => {
        const m = ready.exec(out);
        if (m === null) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve({
          id,
          url: m[1] ?? '',
          process: child,
          output: () => out,
          exited,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
          kill: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${id} exited with ${code} before it was ready:\n${out}`));
      });
    });
  }

  async startController(id: string, port = 0): Promise<Proc> {
    const p = await this.spawn(
      'controller',
      id,
      ['--port', String(port), '--guest-key', GUEST_KEY, '--system-key', SYSTEM_KEY, '--probe-interval', '1'],
      /ready on (http:\/\/\S+)/,
    );
    this.controllers.set(id, p);
    this.all.push(p);
    return p;
  }

  async startInvoker(id: string, args: string[] = []): Promise<Proc> {
    const apiHost = [...this.controllers.values()][0]?.url ?? 'http://127.0.0.1:10001';
    const p = await this.spawn(
      'invoker',
      id,
      ['--memory', '1024', '--api-host', apiHost, '--no-prewarm', ...args],
      /whirl invoker \S+ (ready)/,
    );
    p.url = '';
    this.invokers.set(id, p);
    this.all.push(p);
    return p;
  }

  url(controller: string): string {
    return this.controllers.get(controller)!.url;
  }

  /** Waits until `controller` reports `n` invokers up. */
  async waitHealthy(controller: string, n: number, ms = 30_000): Promise<Record<string, string>> {
    const end = Date.now() + ms;
    let last: Record<string, string> = {};
    while (Date.now() < end) {
      const r = await fetch(`${this.url(controller)}/invokers`).catch(() => undefined);
      if (r?.ok === true) {
        last = (await r.json()) as Record<string, string>;
        if (Object.values(last).filter((s) => s === 'up').length >= n) return last;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${controller} saw fewer than ${n} invokers up: ${JSON.stringify(last)}`);
  }

  /** Output of every process, for failure reports. */
  logs(): string {
    return this.all.map((p) => `--- ${p.id}\n${p.output()}`).join('\n');
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.invokers.values(), ...this.controllers.values()].map((p) => p.kill()));
    await dropSchema(this.schema);
    const bus = await NatsBus.open({ url: NATS_URL, prefix: this.prefix });
    await bus.destroy();
    await bus.close();
  }
}

/** Basic auth header for guest. */
export const guestAuth = `Basic ${Buffer.from(GUEST_KEY).toString('base64')}`;
