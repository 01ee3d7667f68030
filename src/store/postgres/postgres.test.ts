import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, uniqueName } from '../../../test/helpers/services.js';
import { defineProviderRecordsContract, defineStoreContract } from '../store.contract.js';
import { DatabaseUnreachableError, PostgresStore } from './postgres-store.js';
import { MIGRATIONS } from './migrations.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** Every contract test gets a new, empty schema. */
defineStoreContract('postgres', async () => {
  const schema = uniqueName('whirl_test');
  schemas.push(schema);
  return PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 3 });
});

defineProviderRecordsContract('postgres', async () => {
  const schema = uniqueName('whirl_test');
  schemas.push(schema);
  return PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 2 });
});

describe('PostgresStore', () => {
  it('applies its migrations once, even when several processes start together', async () => {
    const schema = uniqueName('whirl_test');
    schemas.push(schema);
    const stores = await Promise.all(
      [1, 2, 3].map(() => PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 2 })),
    );
    expect(await stores[0]!.schemaVersion()).toBe(MIGRATIONS.length);
    for (const s of stores) await s.close();
    const again = await PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 1 });
    expect(await again.schemaVersion()).toBe(MIGRATIONS.length);
    await again.close();
  });

  it('changes its marker when another connection writes identities or limits', async () => {
    const schema = uniqueName('whirl_test');
    schemas.push(schema);
    const a = await PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 1 });
    const b = await PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 1 });
    const before = await a.changeMarker();
    await b.setLimits('ns', { firesPerMinute: 4 });
    const afterLimits = await a.changeMarker();
    expect(afterLimits).not.toBe(before);
    await b.deleteLimits('ns');
    expect(await a.changeMarker()).not.toBe(afterLimits);
    expect(await a.getLimits('ns')).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('counts throttle events across controllers in one shared counter', async () => {
    const schema = uniqueName('whirl_test');
    schemas.push(schema);
    const a = await PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 2 });
    const b = await PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 2 });
    const minute = 60_000 * 1000;
    const ca = a.rateCounter();
    const cb = b.rateCounter();
    const counts = await Promise.all([...Array(20).keys()].map((i) => (i % 2 ? ca : cb).hit('k', minute)));
    expect(counts.sort((x, y) => x - y)).toEqual([...Array(20).keys()].map((i) => i + 1));
    expect(await cb.hit('k', minute + 60_000)).toBe(1);
    await a.close();
    await b.close();
  });

  it('says clearly where it looked when the database is unreachable', async () => {
    const err = await PostgresStore.open({
      url: 'postgres://postgres:secret@127.0.0.1:1/test',
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect((err as Error).message).toMatch(
      /cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test/,
    );
    expect((err as Error).message).not.toContain('secret');
  });
});
