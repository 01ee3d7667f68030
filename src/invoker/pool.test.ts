import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSandboxFactory } from '../sandbox/process/process-sandbox.js';
import { ContainerPool, PoolBusyError, type ContainerRequest, type PoolOptions } from './pool.js';

// Real sandboxes: the pool's decisions are checked against real start-ups, crashes and kills.
let factory: ProcessSandboxFactory;
beforeAll(async () => {
  factory = await ProcessSandboxFactory.open({
    runDir: mkdtempSync(join(tmpdir(), 'wp-')),
    instance: `pooltest-${process.pid}`,
  });
});
afterAll(async () => factory.close());

const req = (actionKey: string, over: Partial<ContainerRequest> = {}): ContainerRequest => ({
  actionKey,
  rev: 1,
  kind: 'nodejs:20',
  family: 'nodejs',
  memoryMB: 256,
  concurrency: 1,
  ...over,
});

function pool(over: Partial<PoolOptions> = {}): ContainerPool {
  return new ContainerPool(factory, {
    memoryMB: 512,
    prewarm: [],
    idleTimeoutMs: 60_000,
    pauseGraceMs: 0,
    maxQueue: 10,
    env: {},
    ...over,
  });
}

describe('ContainerPool', () => {
  it('reuses a warm container for the same action and namespace, never across namespaces', async () => {
    const p = pool();
    const a = await p.acquire(req('guest|/guest/a'));
    expect(a.start).toBe('cold');
    a.container.initialized = true;
    p.release(a.container, false);
    const again = await p.acquire(req('guest|/guest/a'));
    expect(again.start).toBe('warm');
    expect(again.container).toBe(a.container);
    p.release(again.container, false);
    const other = await p.acquire(req('alice|/guest/a'));
    expect(other.container).not.toBe(a.container);
    p.release(other.container, false);
    await p.close();
  });

  it('takes a prewarmed stem cell of the kind and memory, and refills it', async () => {
    const p = pool({
      memoryMB: 1024,
      prewarm: [{ kind: 'nodejs:20', family: 'nodejs', memoryMB: 256, count: 1 }],
    });
    await p.start();
    expect(p.stats.stems).toBe(1);
    const lease = await p.acquire(req('guest|/guest/a'));
    expect(lease.start).toBe('prewarm');
    for (let i = 0; i < 500 && p.stats.stems < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(p.stats.stems).toBe(1);
    const small = await p.acquire(req('guest|/guest/b', { memoryMB: 128 }));
    expect(small.start).toBe('cold');
    await p.close();
  });

  it('evicts the least recently used idle container when memory is full', async () => {
    const p = pool({ memoryMB: 512 });
    const a = await p.acquire(req('ns|/ns/a'));
    a.container.initialized = true;
    p.release(a.container, false);
    await new Promise((r) => setTimeout(r, 10));
    const b = await p.acquire(req('ns|/ns/b'));
    b.container.initialized = true;
    p.release(b.container, false);
    const c = await p.acquire(req('ns|/ns/c'));
    expect(c.start).toBe('cold');
    expect(a.container.dead).toBe(true);
    expect(b.container.dead).toBe(false);
    expect(p.stats.usedMB).toBe(512);
    await p.close();
  });

  it('buffers work in FIFO order when nothing fits, and refuses beyond the queue bound', async () => {
    const p = pool({ memoryMB: 256, maxQueue: 2 });
    const busy = await p.acquire(req('ns|/ns/a'));
    busy.container.initialized = true;
    const order: string[] = [];
    const first = p.acquire(req('ns|/ns/b')).then((l) => (order.push('b'), l));
    const second = p.acquire(req('ns|/ns/c')).then((l) => (order.push('c'), l));
    await expect(p.acquire(req('ns|/ns/d'))).rejects.toBeInstanceOf(PoolBusyError);
    expect(p.stats.queued).toBe(2);
    p.release(busy.container, false);
    const b = await first;
    b.container.initialized = true;
    p.release(b.container, false);
    await second;
    expect(order).toEqual(['b', 'c']);
    await p.close();
  });

  it('removes idle containers after the idle timeout', async () => {
    const p = pool({ idleTimeoutMs: 300 });
    const a = await p.acquire(req('ns|/ns/a'));
    a.container.initialized = true;
    p.release(a.container, false);
    for (let i = 0; i < 100 && !a.container.dead; i++) await new Promise((r) => setTimeout(r, 100));
    expect(a.container.dead).toBe(true);
    expect(p.stats.usedMB).toBe(0);
    await p.close();
  });

  it('retires idle containers of older revisions when a newer one is requested', async () => {
    const p = pool();
    const old = await p.acquire(req('ns|/ns/a', { rev: 1 }));
    old.container.initialized = true;
    p.release(old.container, false);
    const fresh = await p.acquire(req('ns|/ns/a', { rev: 2 }));
    expect(fresh.container).not.toBe(old.container);
    expect(old.container.dead).toBe(true);
    await p.close();
  });

  it('gives the memory of a sandbox that dies on its own back to the pool', async () => {
    const p = pool({ memoryMB: 256 });
    const a = await p.acquire(req('ns|/ns/a'));
    a.container.initialized = true;
    p.release(a.container, false);
    // The sandbox dies behind the pool's back (a crash, an OOM kill, an operator's kill).
    await a.container.sandbox.destroy();
    for (let i = 0; i < 500 && p.stats.usedMB > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(p.stats.usedMB).toBe(0);
    expect(p.stats.containers).toBe(0);
    await p.close();
  });

  it('pauses idle containers after the grace period and resumes them on reuse', async () => {
    const p = pool({ pauseGraceMs: 200 });
    const a = await p.acquire(req('ns|/ns/a'));
    a.container.initialized = true;
    p.release(a.container, false);
    for (let i = 0; i < 100 && !a.container.paused; i++) await new Promise((r) => setTimeout(r, 100));
    expect(a.container.paused).toBe(factory.isolation.cgroups);
    const again = await p.acquire(req('ns|/ns/a'));
    expect(again.container).toBe(a.container);
    expect(again.container.paused).toBe(false);
    await p.close();
  });
});
