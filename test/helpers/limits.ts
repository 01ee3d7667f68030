/** Namespace limits for tests: seeded into a data directory before Whirl starts on it. */
import { join } from 'node:path';
import type { NamespaceLimits } from '../../src/core/limits.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** Limits that keep throttles out of the way of tests that are not about throttles. */
export const GENEROUS_LIMITS = {
  invocationsPerMinute: 100_000,
  concurrentInvocations: 1000,
  firesPerMinute: 100_000,
};

/** Seeds namespace limits into a data directory before Whirl starts on it. */
export async function seedLimits(dataDir: string, limits: Record<string, NamespaceLimits>): Promise<void> {
  const store = new SqliteStore(join(dataDir, 'whirl.db'));
  for (const [ns, l] of Object.entries(limits)) await store.setLimits(ns, l);
  await store.close();
}
