import { describe, expect, it } from 'vitest';
import type { ActionDoc } from '../core/entities.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { Entities } from './entities.js';

const doc = (name: string, v: number): ActionDoc => ({
  namespace: 'ns',
  name,
  version: `0.0.${v}`,
  publish: false,
  annotations: [],
  updated: v,
  exec: { kind: 'nodejs:20', code: '', binary: false },
  parameters: [],
  limits: { timeout: 1, memory: 128, logs: 0, concurrency: 1 },
});

describe('Entities cache', () => {
  it('serves repeated reads from memory and forgets on write', async () => {
    const store = new SqliteStore(':memory:');
    const e = new Entities(store);
    await e.put('ns', 'a', 'action', doc('a', 1), null);
    expect((await e.get('ns', 'a'))?.doc.version).toBe('0.0.1');
    // Written behind the cache's back: still the cached copy...
    await store.putEntity('ns', 'a', 'action', doc('a', 2), 1);
    expect((await e.get('ns', 'a'))?.doc.version).toBe('0.0.1');
    // ...until someone says it changed.
    e.invalidate('ns', 'a');
    expect((await e.get('ns', 'a'))?.doc.version).toBe('0.0.2');
  });

  it('remembers misses, and a write makes the entity appear', async () => {
    const e = new Entities(new SqliteStore(':memory:'));
    expect(await e.get('ns', 'b')).toBeUndefined();
    await e.put('ns', 'b', 'action', doc('b', 1), null);
    expect((await e.get('ns', 'b'))?.doc.name).toBe('b');
  });

  it('does not cache a read that raced a write', async () => {
    const store = new SqliteStore(':memory:');
    const e = new Entities(store);
    await store.putEntity('ns', 'c', 'action', doc('c', 1), null);
    const reading = e.get('ns', 'c'); // reads 0.0.1 ...
    await e.put('ns', 'c', 'action', doc('c', 2), 1); // ... while 0.0.2 is written
    await reading;
    expect((await e.get('ns', 'c'))?.doc.version).toBe('0.0.2');
  });

  it('keeps existing entities cached through a flood of misses', async () => {
    const store = new SqliteStore(':memory:');
    const e = new Entities(store);
    await e.put('ns', 'hot', 'action', doc('hot', 1), null);
    await e.get('ns', 'hot');
    for (let i = 0; i < 20_000; i++) await e.get('ns', `missing-${i}`);
    await store.putEntity('ns', 'hot', 'action', doc('hot', 2), 1);
    expect((await e.get('ns', 'hot'))?.doc.version).toBe('0.0.1'); // still served from memory
  });
});
