// The blocking wait of web requests (spec §4.1): past it, 202 with the activation id; the activation still
// completes. An in-process Whirl with a short wait keeps the test fast; requests still go over real HTTP.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_LIMITS } from '../../src/core/limits.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { GUEST_KEY } from '../helpers/standalone.js';
import { putAction, rest } from './helpers.js';

let w: TestWhirl;
beforeAll(async () => {
  w = await startTestWhirl({ system: { ...DEFAULT_SYSTEM_LIMITS, maxBlockingWaitMs: 1000 } });
  await putAction(w.url, GUEST_KEY, 'slow', {
    web: true,
    code: 'function main() { return new Promise((r) => setTimeout(() => r({ body: "late" }), 2500)) }',
  });
});
afterAll(async () => w?.cleanup());

it('answers 202 "Response not yet ready." with the activation id when the wait runs out', async () => {
  const started = Date.now();
  const r = await fetch(`${w.url}/api/v1/web/guest/default/slow`, {
    headers: { 'x-request-id': 'wait-test-1' },
  });
  expect(Date.now() - started).toBeLessThan(2400);
  expect(r.status).toBe(202);
  expect(await r.json()).toEqual({ error: 'Response not yet ready.', code: 'wait-test-1' });
  const id = r.headers.get('x-openwhisk-activation-id');
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  let record;
  for (let i = 0; i < 100 && record?.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    record = await rest(w.url, GUEST_KEY, 'GET', `/namespaces/_/activations/${id}`);
  }
  expect(record?.body).toMatchObject({ response: { result: { body: 'late' } } });
});
