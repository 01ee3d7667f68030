/**
 * The cluster Store: PostgreSQL through a `pg` connection pool, shared by every controller and invoker.
 * Same tables and the same behaviour as the SQLite store (the contract suite proves it); revisions are
 * compare-and-set in single statements, so concurrent writers from different processes stay correct.
 */
import pg from 'pg';
import type { ActivationRecord } from '../../core/activation.js';
import { activationEntityPath } from '../../core/activation.js';
import type { EntityDoc, EntityType } from '../../core/entities.js';
import type { Identity } from '../../core/identity.js';
import type { NamespaceLimits } from '../../core/limits.js';
import type {
  ActivationQuery,
  EntityListOptions,
  ProviderRecord,
  ProviderRecordStore,
  Store,
  StoredEntity,
} from '../store.js';
import { ConflictError } from '../store.js';
import { MIGRATIONS } from './migrations.js';
import type { Leadership, RateCounter } from '../../core/ports.js';
import { PostgresLeadership } from './leadership.js';

export interface PostgresOptions {
  /** `postgres://user@host:port/database` (libpq-style URL). */
  url: string;
  /** Schema holding Whirl's tables (created when missing); default `public`. Tests use one per run. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long to wait for a connection before failing (default 5000 ms). */
  connectTimeoutMs?: number;
}

/** Raised at start-up when the database cannot be reached: says where it looked and what to check. */
export class DatabaseUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `cannot reach PostgreSQL at ${redact(url)}: ${cause instanceof Error ? cause.message || cause.name : String(cause)} ` +
        '(is it running, and is --database-url / WHIRL_DATABASE_URL right?)',
    );
    this.name = 'DatabaseUnreachableError';
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

interface EntityRow {
  type: EntityType;
  /** BIGINT: pg hands it over as a string. */
  rev: string;
  doc: string;
}

interface IdentityRow {
  uuid: string;
  subject: string;
  namespace: string;
  salt: string;
  key_hash: string;
  blocked: boolean;
}

const toIdentity = (r: IdentityRow): Identity => ({
  uuid: r.uuid,
  subject: r.subject,
  namespace: r.namespace,
  salt: r.salt,
  keyHash: r.key_hash,
  blocked: r.blocked,
});

interface ProviderRow {
  provider: string;
  key: string;
  updated: string;
  doc: string;
}

const toProviderRecord = (r: ProviderRow): ProviderRecord => ({
  provider: r.provider,
  key: r.key,
  updated: Number(r.updated),
  doc: JSON.parse(r.doc) as Record<string, unknown>,
});

const toEntity = (row: EntityRow): StoredEntity => ({
  type: row.type,
  rev: Number(row.rev),
  doc: JSON.parse(row.doc) as EntityDoc,
});

export class PostgresStore implements Store, ProviderRecordStore {
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  /** Leadership named `name` among the processes sharing this database and schema. */
  leadership(name: string): Leadership {
    return new PostgresLeadership(this.pool, `${this.schema}:${name}`);
  }

  /** Connects, checks the database answers, and applies missing migrations. */
  static async open(o: PostgresOptions): Promise<PostgresStore> {
    const schema = o.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name '${schema}'`);
    const pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize ?? 10,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      // Every connection works in Whirl's schema, so queries name tables without a prefix.
      options: `-c search_path=${schema}`,
    });
    // An idle connection that the server drops must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new DatabaseUnreachableError(o.url, err);
    }
    const store = new PostgresStore(pool, schema);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One migrator at a time per schema, across processes; released at COMMIT.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`whirl-migrate:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS whirl_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM whirl_migrations',
      );
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new Error(
          `the database was written by a newer Whirl (schema ${current}, this one knows ${MIGRATIONS.length}); upgrade Whirl`,
        );
      }
      for (let v = current; v < MIGRATIONS.length; v++) {
        await client.query(MIGRATIONS[v]!);
        await client.query('INSERT INTO whirl_migrations (version) VALUES ($1)', [v + 1]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Schema version of the database (number of migrations applied). */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM whirl_migrations',
    );
    return rows[0]?.v ?? 0;
  }

  async getEntity(namespace: string, path: string): Promise<StoredEntity | undefined> {
    const { rows } = await this.pool.query<EntityRow>(
      'SELECT type, rev, doc FROM entities WHERE namespace = $1 AND path = $2',
      [namespace, path],
    );
    return rows[0] && toEntity(rows[0]);
  }

  async putEntity(
    namespace: string,
    path: string,
    type: EntityType,
    doc: EntityDoc,
    expectedRev: number | null,
  ): Promise<number> {
    const json = JSON.stringify(doc);
    if (expectedRev === null) {
      const slash = path.indexOf('/');
      const { rows } = await this.pool.query<{ rev: string }>(
        `INSERT INTO entities (namespace, path, type, pkg, rev, updated, doc)
         VALUES ($1, $2, $3, $4, nextval('entity_revs'), $5, $6)
         ON CONFLICT (namespace, path) DO NOTHING RETURNING rev`,
        [namespace, path, type, slash < 0 ? null : path.slice(0, slash), doc.updated, json],
      );
      if (rows[0] === undefined) throw new ConflictError(await this.getEntity(namespace, path));
      return Number(rows[0].rev);
    }
    const { rows } = await this.pool.query<{ rev: string }>(
      `UPDATE entities SET type = $1, rev = nextval('entity_revs'), updated = $2, doc = $3
       WHERE namespace = $4 AND path = $5 AND rev = $6 RETURNING rev`,
      [type, doc.updated, json, namespace, path, expectedRev],
    );
    if (rows[0] === undefined) throw new ConflictError(await this.getEntity(namespace, path));
    return Number(rows[0].rev);
  }

  async deleteEntity(namespace: string, path: string, expectedRev?: number): Promise<boolean> {
    const { rowCount } =
      expectedRev === undefined
        ? await this.pool.query('DELETE FROM entities WHERE namespace = $1 AND path = $2', [namespace, path])
        : await this.pool.query('DELETE FROM entities WHERE namespace = $1 AND path = $2 AND rev = $3', [
            namespace,
            path,
            expectedRev,
          ]);
    return (rowCount ?? 0) > 0;
  }

  async listEntities(namespace: string, type: EntityType, o: EntityListOptions): Promise<EntityDoc[]> {
    const { rows } =
      o.pkg === undefined
        ? await this.pool.query<{ doc: string }>(
            'SELECT doc FROM entities WHERE namespace = $1 AND type = $2 ORDER BY updated DESC, path LIMIT $3 OFFSET $4',
            [namespace, type, o.limit, o.skip],
          )
        : await this.pool.query<{ doc: string }>(
            'SELECT doc FROM entities WHERE namespace = $1 AND type = $2 AND pkg = $3 ORDER BY updated DESC, path LIMIT $4 OFFSET $5',
            [namespace, type, o.pkg, o.limit, o.skip],
          );
    return rows.map((r) => JSON.parse(r.doc) as EntityDoc);
  }

  async countEntities(namespace: string, type: EntityType, pkg?: string): Promise<number> {
    const { rows } =
      pkg === undefined
        ? await this.pool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM entities WHERE namespace = $1 AND type = $2',
            [namespace, type],
          )
        : await this.pool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM entities WHERE namespace = $1 AND type = $2 AND pkg = $3',
            [namespace, type, pkg],
          );
    return rows[0]?.n ?? 0;
  }

  async putIdentity(i: Identity): Promise<void> {
    await this.pool.query(
      `INSERT INTO identities (uuid, subject, namespace, salt, key_hash, blocked) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (uuid) DO UPDATE SET subject = excluded.subject, namespace = excluded.namespace,
         salt = excluded.salt, key_hash = excluded.key_hash, blocked = excluded.blocked`,
      [i.uuid, i.subject, i.namespace, i.salt, i.keyHash, i.blocked === true],
    );
  }

  async getIdentity(uuid: string): Promise<Identity | undefined> {
    const { rows } = await this.pool.query<IdentityRow>('SELECT * FROM identities WHERE uuid = $1', [uuid]);
    return rows[0] && toIdentity(rows[0]);
  }

  async listIdentities(filter: { namespace?: string; subject?: string } = {}): Promise<Identity[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.namespace !== undefined) where.push(`namespace = $${args.push(filter.namespace)}`);
    if (filter.subject !== undefined) where.push(`subject = $${args.push(filter.subject)}`);
    const { rows } = await this.pool.query<IdentityRow>(
      `SELECT * FROM identities ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY subject, namespace`,
      args,
    );
    return rows.map(toIdentity);
  }

  async deleteIdentity(uuid: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM identities WHERE uuid = $1', [uuid]);
    return (rowCount ?? 0) > 0;
  }

  async getLimits(namespace: string): Promise<NamespaceLimits | undefined> {
    const { rows } = await this.pool.query<{ doc: string }>('SELECT doc FROM limits WHERE namespace = $1', [
      namespace,
    ]);
    return rows[0] && (JSON.parse(rows[0].doc) as NamespaceLimits);
  }

  async setLimits(namespace: string, limits: NamespaceLimits): Promise<void> {
    await this.pool.query(
      'INSERT INTO limits (namespace, doc) VALUES ($1, $2) ON CONFLICT (namespace) DO UPDATE SET doc = excluded.doc',
      [namespace, JSON.stringify(limits)],
    );
  }

  async deleteLimits(namespace: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM limits WHERE namespace = $1', [namespace]);
    return (rowCount ?? 0) > 0;
  }

  async putActivations(records: readonly ActivationRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One statement for the whole batch: arrays unnested into rows; duplicates (a retried batch, a
    // record written twice after an invoker died) are ignored, so the first record written wins.
    const ids: string[] = [];
    const namespaces: string[] = [];
    const paths: string[] = [];
    const starts: number[] = [];
    const docs: string[] = [];
    const seen = new Set<string>();
    for (const r of records) {
      if (seen.has(r.activationId)) continue;
      seen.add(r.activationId);
      ids.push(r.activationId);
      namespaces.push(r.namespace);
      paths.push(activationEntityPath(r));
      starts.push(r.start);
      docs.push(JSON.stringify(r));
    }
    await this.pool.query(
      `INSERT INTO activations (id, namespace, entity_path, start, doc)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
       ON CONFLICT (id) DO NOTHING`,
      [ids, namespaces, paths, starts, docs],
    );
  }

  async getActivation(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    const { rows } = await this.pool.query<{ doc: string }>(
      'SELECT doc FROM activations WHERE id = $1 AND namespace = $2',
      [activationId, namespace],
    );
    return rows[0] && (JSON.parse(rows[0].doc) as ActivationRecord);
  }

  private activationFilter(namespace: string, q: Omit<ActivationQuery, 'skip' | 'limit'>) {
    const args: (string | number)[] = [namespace];
    const where = ['namespace = $1'];
    if (q.name !== undefined) where.push(`entity_path = $${args.push(q.name)}`);
    if (q.since !== undefined) where.push(`start >= $${args.push(q.since)}`);
    if (q.upto !== undefined) where.push(`start <= $${args.push(q.upto)}`);
    return { where: where.join(' AND '), args };
  }

  async listActivations(namespace: string, q: ActivationQuery): Promise<ActivationRecord[]> {
    const { where, args } = this.activationFilter(namespace, q);
    const limit = args.push(q.limit);
    const skip = args.push(q.skip);
    const { rows } = await this.pool.query<{ doc: string }>(
      `SELECT doc FROM activations WHERE ${where} ORDER BY start DESC, id LIMIT $${limit} OFFSET $${skip}`,
      args,
    );
    return rows.map((r) => JSON.parse(r.doc) as ActivationRecord);
  }

  async countActivations(namespace: string, q: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    const { where, args } = this.activationFilter(namespace, q);
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM activations WHERE ${where}`,
      args,
    );
    return rows[0]?.n ?? 0;
  }

  async putProviderRecord(r: ProviderRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO provider_records (provider, key, updated, doc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (provider, key) DO UPDATE SET updated = excluded.updated, doc = excluded.doc`,
      [r.provider, r.key, r.updated, JSON.stringify(r.doc)],
    );
  }

  async replaceProviderRecord(r: ProviderRecord, expected: Record<string, unknown>): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE provider_records SET updated = $1, doc = $2 WHERE provider = $3 AND key = $4 AND doc = $5',
      [r.updated, JSON.stringify(r.doc), r.provider, r.key, JSON.stringify(expected)],
    );
    return (rowCount ?? 0) > 0;
  }

  async getProviderRecord(provider: string, key: string): Promise<ProviderRecord | undefined> {
    const { rows } = await this.pool.query<ProviderRow>(
      'SELECT provider, key, updated, doc FROM provider_records WHERE provider = $1 AND key = $2',
      [provider, key],
    );
    return rows[0] && toProviderRecord(rows[0]);
  }

  async deleteProviderRecord(provider: string, key: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM provider_records WHERE provider = $1 AND key = $2',
      [provider, key],
    );
    return (rowCount ?? 0) > 0;
  }

  async listProviderRecords(provider: string): Promise<ProviderRecord[]> {
    // Byte order, as SQLite sorts, whatever the database's collation.
    const { rows } = await this.pool.query<ProviderRow>(
      'SELECT provider, key, updated, doc FROM provider_records WHERE provider = $1 ORDER BY key COLLATE "C"',
      [provider],
    );
    return rows.map(toProviderRecord);
  }

  async changeMarker(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT n FROM changes WHERE id = 1');
    return Number(rows[0]?.n ?? 0);
  }

  /** Per-minute throttle counts in this database, shared by every controller that uses it. */
  rateCounter(): PostgresRateCounter {
    return new PostgresRateCounter(this.pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * Counts in the `rate_counts` table: every controller sees the same count (throttles are global, not
 * divided per controller). All invocations of a namespace update one row, so concurrent hits of a key are
 * coalesced: while one upsert is in flight, later hits wait and go together as one `n = n + k`, each
 * getting its own number of the k. Rows of past minutes are swept now and then.
 */
export class PostgresRateCounter implements RateCounter {
  private lastSweep = 0;
  /** Hits waiting for the key's upsert in flight to finish, by `key minute`. */
  private readonly queued = new Map<
    string,
    { resolve: (n: number) => void; reject: (e: unknown) => void }[]
  >();
  private readonly busy = new Set<string>();

  constructor(private readonly pool: pg.Pool) {}

  hit(key: string, minute: number): Promise<number> {
    if (minute !== this.lastSweep) {
      this.lastSweep = minute;
      this.pool.query('DELETE FROM rate_counts WHERE minute < $1', [minute - 60_000]).catch(() => undefined);
    }
    const slot = `${key} ${minute}`;
    return new Promise<number>((resolve, reject) => {
      const waiting = this.queued.get(slot);
      if (waiting === undefined) this.queued.set(slot, [{ resolve, reject }]);
      else waiting.push({ resolve, reject });
      if (!this.busy.has(slot)) void this.flush(key, minute, slot);
    });
  }

  private async flush(key: string, minute: number, slot: string): Promise<void> {
    this.busy.add(slot);
    try {
      for (;;) {
        const batch = this.queued.get(slot);
        if (batch === undefined) return;
        this.queued.delete(slot);
        try {
          const { rows } = await this.pool.query<{ n: number }>(
            `INSERT INTO rate_counts (key, minute, n) VALUES ($1, $2, $3)
             ON CONFLICT (key, minute) DO UPDATE SET n = rate_counts.n + $3 RETURNING n`,
            [key, minute, batch.length],
          );
          const last = rows[0]?.n ?? batch.length;
          batch.forEach((w, i) => w.resolve(last - batch.length + 1 + i));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.busy.delete(slot);
    }
  }

  undo(key: string, minute: number): void {
    this.pool
      .query('UPDATE rate_counts SET n = greatest(0, n - 1) WHERE key = $1 AND minute = $2', [key, minute])
      .catch(() => undefined);
  }
}
