/**
 * Helpers for the packages, events and compositions tests: polling for records, extra users, action
 * creation through `inject`.
 */
import { expect } from 'vitest';
import { generateCredentials, newIdentity } from '../../src/core/identity.js';
import type { TestWhirl } from './in-process.js';

export const NS = '/api/v1/namespaces/_';

/** Loosely typed response JSON: tests read fields of records and entities directly. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Polls `probe` until it returns something other than undefined (or fails after `ms`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The activation record with this id, once it is readable. */
export async function recordOf(w: TestWhirl, id: string, auth?: string): Promise<Json> {
  return eventually(
    async () => {
      const r = await w.call('GET', `${NS}/activations/${id}`, undefined, auth);
      return r.statusCode === 200 ? r.json<Json>() : undefined;
    },
    15_000,
    `activation ${id}`,
  );
}

/** A new namespace with its own key (`uuid:key`), written straight into the store. */
export async function addUser(w: TestWhirl, namespace: string): Promise<string> {
  const c = generateCredentials();
  await w.store.putIdentity(newIdentity(namespace, namespace, c.uuid, c.key));
  await w.store.setLimits(namespace, {
    invocationsPerMinute: 100_000,
    concurrentInvocations: 1000,
    firesPerMinute: 100_000,
  });
  return `${c.uuid}:${c.key}`;
}

/** Creates (or overwrites) a nodejs action at `path` (`name` or `pkg/name`); fails the test otherwise. */
export async function putAction(
  w: TestWhirl,
  path: string,
  code: string,
  extra: Record<string, unknown> = {},
  auth?: string,
): Promise<Json> {
  const r = await w.call(
    'PUT',
    `${NS}/actions/${path}?overwrite=true`,
    { exec: { kind: 'nodejs:20', code }, ...extra },
    auth,
  );
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
}

/** An annotation's value from a `[{key, value}]` list. */
export function annotation(list: { key: string; value: unknown }[], key: string): unknown {
  return list.find((a) => a.key === key)?.value;
}
