/**
 * The cluster backends the tests talk to: PostgreSQL and NATS JetStream on this machine (`.ci/run` starts
 * them). Each test run works in its own PostgreSQL schema and its own NATS subject prefix, so runs never
 * see each other's data, and everything is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DATABASE_URL = process.env.WHIRL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.WHIRL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A name unique to this run: a schema name and a NATS prefix at once. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
