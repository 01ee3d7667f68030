import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultOptions, startStandalone } from '../../src/server/standalone.js';
import { addUser } from '../helpers/entities.js';
import { basic, startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { GUEST_KEY, SYSTEM_KEY } from '../helpers/standalone.js';

const A = '/api/v1/namespaces/_/actions';

describe('namespace throttles', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl({}, { guest: { invocationsPerMinute: 3, concurrentInvocations: 1000 } });
    await w.call('PUT', `${A}/t`, { exec: { kind: 'nodejs:20', code: 'function main() { return {} }' } });
  });
  afterAll(async () => w.cleanup());

  it('refuses invocations beyond the per-minute limit with 429, the spec message and Retry-After', async () => {
    // Stay clear of a minute boundary so that all four requests fall in the same window.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    for (let i = 0; i < 3; i++) expect((await w.call('POST', `${A}/t`)).statusCode).toBe(202);
    const r = await w.call('POST', `${A}/t`);
    expect(r.statusCode).toBe(429);
    expect(r.json().error).toBe('Too many requests in the last minute (count: 4, allowed: 3).');
    const retry = Number(r.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
  });
});

describe('concurrency throttle', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl({}, { guest: { invocationsPerMinute: 1000, concurrentInvocations: 1 } });
    await w.call('PUT', `${A}/slow`, {
      exec: {
        kind: 'nodejs:20',
        code: 'function main() { return new Promise(r => setTimeout(() => r({}), 800)) }',
      },
    });
  });
  afterAll(async () => w.cleanup());

  it('refuses a second activation while the first is in flight, and accepts again after', async () => {
    const first = w.call('POST', `${A}/slow?blocking=true`);
    await new Promise((r) => setTimeout(r, 100));
    const second = await w.call('POST', `${A}/slow?blocking=true`);
    expect(second.statusCode).toBe(429);
    expect(second.json().error).toBe('Too many concurrent requests in flight (count: 1, allowed: 1).');
    expect(second.headers['retry-after']).toBe('1');
    expect((await first).statusCode).toBe(200);
    expect((await w.call('POST', `${A}/slow?blocking=true`)).statusCode).toBe(200);
  });
});

describe('default throttle profiles of standalone', () => {
  const limitsOf = async (w: TestWhirl, auth?: string) =>
    (await w.call('GET', '/api/v1/namespaces/_/limits', undefined, auth)).json<Record<string, unknown>>();

  it("gives one developer's guest room for a test run (no 429 past OpenWhisk's 60 a minute), other namespaces the shared defaults", async () => {
    const w = await startTestWhirl({}, {});
    try {
      const info = (await w.call('GET', '/api/v1', undefined, null)).json();
      expect(info.throttles).toEqual({
        shared: { invocationsPerMinute: 60, concurrentInvocations: 30, firesPerMinute: 60 },
        developer: {
          namespaces: ['guest', 'whisk.system'],
          invocationsPerMinute: 60000,
          concurrentInvocations: 1000,
          firesPerMinute: 60000,
        },
      });
      expect(await limitsOf(w)).toMatchObject({ invocationsPerMinute: 60000, concurrentInvocations: 1000 });
      await w.call('PUT', `${A}/quick`, {
        exec: { kind: 'nodejs:20', code: 'function main() { return {} }' },
      });
      const statuses = new Set<number>();
      for (let i = 0; i < 80; i++) statuses.add((await w.call('POST', `${A}/quick`)).statusCode);
      expect([...statuses]).toEqual([202]);
      // A tenant created while the server runs gets the shared defaults.
      const bob = await addUser(w, 'bob');
      await w.store.deleteLimits('bob');
      expect(await limitsOf(w, bob)).toMatchObject({ invocationsPerMinute: 60, concurrentInvocations: 30 });
    } finally {
      await w.cleanup();
    }
  });

  it('uses the shared defaults everywhere with throttles: shared, or when other namespaces exist at start', async () => {
    const shared = await startTestWhirl({ throttles: 'shared' }, {});
    try {
      expect(
        (await shared.call('GET', '/api/v1', undefined, null)).json().throttles.developer,
      ).toBeUndefined();
      expect(await limitsOf(shared)).toMatchObject({ invocationsPerMinute: 60, firesPerMinute: 60 });
      await addUser(shared, 'carol');
      const dataDir = shared.dataDir;
      await shared.stop();
      // Restarted with another tenant in the store: auto picks the shared profile.
      const again = await startStandalone({
        ...defaultOptions(),
        port: 0,
        dataDir,
        guestKey: GUEST_KEY,
        systemKey: SYSTEM_KEY,
        prewarm: [],
        writeWskprops: false,
      });
      try {
        const r = await again.app.inject({
          url: '/api/v1/namespaces/_/limits',
          headers: { authorization: basic(GUEST_KEY) },
        });
        expect(r.json()).toMatchObject({ invocationsPerMinute: 60, concurrentInvocations: 30 });
      } finally {
        await again.stop();
      }
    } finally {
      await shared.cleanup();
    }
  });
});
