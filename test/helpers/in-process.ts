/**
 * A standalone Whirl inside the test process (real store, bus, invoker and sandboxes), for API tests that
 * drive it through Fastify's `inject` — no HTTP socket needed for requests, though the server listens so
 * that actions can call back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { NamespaceLimits } from '../../src/core/limits.js';
import { GENEROUS_LIMITS, seedLimits } from './limits.js';
import {
  defaultOptions,
  startStandalone,
  type RunningStandalone,
  type StandaloneOptions,
} from '../../src/server/standalone.js';
import { GUEST_KEY, SYSTEM_KEY } from './standalone.js';

export interface TestWhirl extends RunningStandalone {
  dataDir: string;
  /** inject as guest unless `auth` says otherwise (`null` for none). */
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    auth?: string | null,
  ): Promise<LightMyRequestResponse>;
  cleanup(): Promise<void>;
}

export const basic = (auth: string): string => `Basic ${Buffer.from(auth).toString('base64')}`;

export async function startTestWhirl(
  overrides: Partial<StandaloneOptions> = {},
  limits: Record<string, NamespaceLimits> = { guest: GENEROUS_LIMITS },
): Promise<TestWhirl> {
  const dataDir = mkdtempSync(join(tmpdir(), 'whirl-api-'));
  await seedLimits(dataDir, limits);
  const running = await startStandalone({
    ...defaultOptions(),
    port: 0,
    dataDir,
    guestKey: GUEST_KEY,
    systemKey: SYSTEM_KEY,
    prewarm: [],
    writeWskprops: false,
    ...overrides,
  });
  return {
    ...running,
    dataDir,
    call: (method, url, body, auth = GUEST_KEY) =>
      running.app.inject({
        method,
        url,
        headers: {
          ...(auth === null ? {} : { authorization: basic(auth) }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    cleanup: async () => {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
