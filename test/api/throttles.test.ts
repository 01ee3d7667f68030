import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';

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
