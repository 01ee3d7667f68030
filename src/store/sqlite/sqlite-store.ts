/**
 * The embedded Store: one SQLite file (better-sqlite3) in the data directory. better-sqlite3 is synchronous;
 * each call is a short indexed statement, and activation records arrive in batches (see
 * activation-writer.ts), so the event loop is never held for long.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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

/** Each entry upgrades the schema by one version; `PRAGMA user_version` records how far a file got. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE entities (
     namespace TEXT NOT NULL, path TEXT NOT NULL, type TEXT NOT NULL, pkg TEXT,
     rev INTEGER NOT NULL, updated INTEGER NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (namespace, path));
   CREATE INDEX entities_by_type ON entities (namespace, type, updated DESC);
   CREATE TABLE identities (
     uuid TEXT PRIMARY KEY, subject TEXT NOT NULL, namespace TEXT NOT NULL,
     salt TEXT NOT NULL, key_hash TEXT NOT NULL, blocked INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX identities_by_namespace ON identities (namespace);
   CREATE TABLE limits (namespace TEXT PRIMARY KEY, doc TEXT NOT NULL);
   CREATE TABLE activations (
     id TEXT PRIMARY KEY, namespace TEXT NOT NULL, entity_path TEXT NOT NULL,
     start INTEGER NOT NULL, doc TEXT NOT NULL);
   CREATE INDEX activations_by_start ON activations (namespace, start DESC);
   CREATE INDEX activations_by_name ON activations (namespace, entity_path, start DESC);`,
  // 2: state kept by platform services (the alarms provider's schedules).
  `CREATE TABLE provider_records (
     provider TEXT NOT NULL, key TEXT NOT NULL, updated INTEGER NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (provider, key));`,
  // 3: revisions come from one counter for the whole file, so a deleted and re-created entity never gets a
  // revision it had before (caches keyed by revision would serve the old document). The counter starts above
  // every revision already stored.
  `CREATE TABLE revisions (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
   INSERT INTO revisions (id, last) SELECT 1, coalesce(max(rev), 0) FROM entities;`,
];

interface EntityRow {
  type: EntityType;
  rev: number;
  doc: string;
}

interface IdentityRow {
  uuid: string;
  subject: string;
  namespace: string;
  salt: string;
  key_hash: string;
  blocked: number;
}

interface ProviderRow {
  provider: string;
  key: string;
  updated: number;
  doc: string;
}

const toProviderRecord = (r: ProviderRow): ProviderRecord => ({
  provider: r.provider,
  key: r.key,
  updated: r.updated,
  doc: JSON.parse(r.doc) as Record<string, unknown>,
});

const toIdentity = (r: IdentityRow): Identity => ({
  uuid: r.uuid,
  subject: r.subject,
  namespace: r.namespace,
  salt: r.salt,
  keyHash: r.key_hash,
  blocked: r.blocked !== 0,
});

export class SqliteStore implements Store, ProviderRecordStore {
  private readonly db: Database.Database;
  private readonly stmt;

  /** `file` is a path, or `:memory:` for tests. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash; only a power loss can drop the last transactions.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    const db = this.db;
    this.stmt = {
      getEntity: db.prepare<[string, string], EntityRow>(
        'SELECT type, rev, doc FROM entities WHERE namespace = ? AND path = ?',
      ),
      nextRev: db.prepare<[], { last: number }>(
        'UPDATE revisions SET last = last + 1 WHERE id = 1 RETURNING last',
      ),
      insertEntity: db.prepare(
        'INSERT INTO entities (namespace, path, type, pkg, rev, updated, doc) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      updateEntity: db.prepare(
        'UPDATE entities SET type = ?, rev = ?, updated = ?, doc = ? WHERE namespace = ? AND path = ? AND rev = ?',
      ),
      deleteEntity: db.prepare('DELETE FROM entities WHERE namespace = ? AND path = ?'),
      deleteEntityRev: db.prepare('DELETE FROM entities WHERE namespace = ? AND path = ? AND rev = ?'),
      listEntities: db.prepare<[string, string, number, number], { doc: string }>(
        'SELECT doc FROM entities WHERE namespace = ? AND type = ? ORDER BY updated DESC, path LIMIT ? OFFSET ?',
      ),
      listPkgEntities: db.prepare<[string, string, string, number, number], { doc: string }>(
        'SELECT doc FROM entities WHERE namespace = ? AND type = ? AND pkg = ? ORDER BY updated DESC, path LIMIT ? OFFSET ?',
      ),
      countEntities: db.prepare<[string, string], { n: number }>(
        'SELECT count(*) AS n FROM entities WHERE namespace = ? AND type = ?',
      ),
      countPkgEntities: db.prepare<[string, string, string], { n: number }>(
        'SELECT count(*) AS n FROM entities WHERE namespace = ? AND type = ? AND pkg = ?',
      ),
      putIdentity: db.prepare(
        `INSERT INTO identities (uuid, subject, namespace, salt, key_hash, blocked) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (uuid) DO UPDATE SET subject = excluded.subject, namespace = excluded.namespace,
           salt = excluded.salt, key_hash = excluded.key_hash, blocked = excluded.blocked`,
      ),
      getIdentity: db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE uuid = ?'),
      deleteIdentity: db.prepare('DELETE FROM identities WHERE uuid = ?'),
      getLimits: db.prepare<[string], { doc: string }>('SELECT doc FROM limits WHERE namespace = ?'),
      setLimits: db.prepare(
        'INSERT INTO limits (namespace, doc) VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET doc = excluded.doc',
      ),
      deleteLimits: db.prepare('DELETE FROM limits WHERE namespace = ?'),
      putActivation: db.prepare(
        'INSERT OR IGNORE INTO activations (id, namespace, entity_path, start, doc) VALUES (?, ?, ?, ?, ?)',
      ),
      getActivation: db.prepare<[string, string], { doc: string }>(
        'SELECT doc FROM activations WHERE id = ? AND namespace = ?',
      ),
      putProviderRecord: db.prepare(
        `INSERT INTO provider_records (provider, key, updated, doc) VALUES (?, ?, ?, ?)
         ON CONFLICT (provider, key) DO UPDATE SET updated = excluded.updated, doc = excluded.doc`,
      ),
      replaceProviderRecord: db.prepare(
        'UPDATE provider_records SET updated = ?, doc = ? WHERE provider = ? AND key = ? AND doc = ?',
      ),
      getProviderRecord: db.prepare<[string, string], ProviderRow>(
        'SELECT provider, key, updated, doc FROM provider_records WHERE provider = ? AND key = ?',
      ),
      deleteProviderRecord: db.prepare('DELETE FROM provider_records WHERE provider = ? AND key = ?'),
      listProviderRecords: db.prepare<[string], ProviderRow>(
        'SELECT provider, key, updated, doc FROM provider_records WHERE provider = ? ORDER BY key',
      ),
    };
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(`The data directory was written by a newer Whirl (schema ${current}); upgrade Whirl.`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async getEntity(namespace: string, path: string): Promise<StoredEntity | undefined> {
    const row = this.stmt.getEntity.get(namespace, path);
    return row && { type: row.type, rev: row.rev, doc: JSON.parse(row.doc) as EntityDoc };
  }

  async putEntity(
    namespace: string,
    path: string,
    type: EntityType,
    doc: EntityDoc,
    expectedRev: number | null,
  ): Promise<number> {
    const json = JSON.stringify(doc);
    return this.db.transaction(() => {
      if (expectedRev === null) {
        const existing = this.stmt.getEntity.get(namespace, path);
        if (existing) throw new ConflictError(this.rowToEntity(existing));
        const slash = path.indexOf('/');
        const rev = this.nextRev();
        this.stmt.insertEntity.run(
          namespace,
          path,
          type,
          slash < 0 ? null : path.slice(0, slash),
          rev,
          doc.updated,
          json,
        );
        return rev;
      }
      // A conflicting update throws, which rolls the counter back with the rest of the transaction.
      const rev = this.nextRev();
      const changed = this.stmt.updateEntity.run(
        type,
        rev,
        doc.updated,
        json,
        namespace,
        path,
        expectedRev,
      ).changes;
      if (changed === 0) {
        const existing = this.stmt.getEntity.get(namespace, path);
        throw new ConflictError(existing && this.rowToEntity(existing));
      }
      return rev;
    })();
  }

  /** The next revision of the whole file (inside the caller's transaction). */
  private nextRev(): number {
    return this.stmt.nextRev.get()!.last;
  }

  private rowToEntity(row: EntityRow): StoredEntity {
    return { type: row.type, rev: row.rev, doc: JSON.parse(row.doc) as EntityDoc };
  }

  async deleteEntity(namespace: string, path: string, expectedRev?: number): Promise<boolean> {
    const result =
      expectedRev === undefined
        ? this.stmt.deleteEntity.run(namespace, path)
        : this.stmt.deleteEntityRev.run(namespace, path, expectedRev);
    return result.changes > 0;
  }

  async listEntities(namespace: string, type: EntityType, o: EntityListOptions): Promise<EntityDoc[]> {
    const rows =
      o.pkg === undefined
        ? this.stmt.listEntities.all(namespace, type, o.limit, o.skip)
        : this.stmt.listPkgEntities.all(namespace, type, o.pkg, o.limit, o.skip);
    return rows.map((r) => JSON.parse(r.doc) as EntityDoc);
  }

  async countEntities(namespace: string, type: EntityType, pkg?: string): Promise<number> {
    const row =
      pkg === undefined
        ? this.stmt.countEntities.get(namespace, type)
        : this.stmt.countPkgEntities.get(namespace, type, pkg);
    return row?.n ?? 0;
  }

  async putIdentity(i: Identity): Promise<void> {
    this.stmt.putIdentity.run(i.uuid, i.subject, i.namespace, i.salt, i.keyHash, i.blocked === true ? 1 : 0);
  }

  async getIdentity(uuid: string): Promise<Identity | undefined> {
    const row = this.stmt.getIdentity.get(uuid);
    return row && toIdentity(row);
  }

  async listIdentities(filter: { namespace?: string; subject?: string } = {}): Promise<Identity[]> {
    const conditions: [string, string][] = [];
    if (filter.namespace !== undefined) conditions.push(['namespace = ?', filter.namespace]);
    if (filter.subject !== undefined) conditions.push(['subject = ?', filter.subject]);
    const where = conditions.map(([c]) => c);
    const args = conditions.map(([, v]) => v);
    const sql = `SELECT * FROM identities ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY subject, namespace`;
    return this.db
      .prepare<string[], IdentityRow>(sql)
      .all(...args)
      .map(toIdentity);
  }

  async deleteIdentity(uuid: string): Promise<boolean> {
    return this.stmt.deleteIdentity.run(uuid).changes > 0;
  }

  async getLimits(namespace: string): Promise<NamespaceLimits | undefined> {
    const row = this.stmt.getLimits.get(namespace);
    return row && (JSON.parse(row.doc) as NamespaceLimits);
  }

  async setLimits(namespace: string, limits: NamespaceLimits): Promise<void> {
    this.stmt.setLimits.run(namespace, JSON.stringify(limits));
  }

  async deleteLimits(namespace: string): Promise<boolean> {
    return this.stmt.deleteLimits.run(namespace).changes > 0;
  }

  async putActivations(records: readonly ActivationRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.db.transaction(() => {
      for (const r of records) {
        this.stmt.putActivation.run(
          r.activationId,
          r.namespace,
          activationEntityPath(r),
          r.start,
          JSON.stringify(r),
        );
      }
    })();
  }

  async getActivation(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    const row = this.stmt.getActivation.get(activationId, namespace);
    return row && (JSON.parse(row.doc) as ActivationRecord);
  }

  private activationFilter(namespace: string, q: Omit<ActivationQuery, 'skip' | 'limit'>) {
    const conditions: [string, string | number][] = [['namespace = ?', namespace]];
    if (q.name !== undefined) conditions.push(['entity_path = ?', q.name]);
    if (q.since !== undefined) conditions.push(['start >= ?', q.since]);
    if (q.upto !== undefined) conditions.push(['start <= ?', q.upto]);
    return { where: conditions.map(([c]) => c).join(' AND '), args: conditions.map(([, v]) => v) };
  }

  async listActivations(namespace: string, q: ActivationQuery): Promise<ActivationRecord[]> {
    const { where, args } = this.activationFilter(namespace, q);
    return this.db
      .prepare<(string | number)[], { doc: string }>(
        `SELECT doc FROM activations WHERE ${where} ORDER BY start DESC, id LIMIT ? OFFSET ?`,
      )
      .all(...args, q.limit, q.skip)
      .map((r) => JSON.parse(r.doc) as ActivationRecord);
  }

  async countActivations(namespace: string, q: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    const { where, args } = this.activationFilter(namespace, q);
    const row = this.db
      .prepare<(string | number)[], { n: number }>(`SELECT count(*) AS n FROM activations WHERE ${where}`)
      .get(...args);
    return row?.n ?? 0;
  }

  async putProviderRecord(r: ProviderRecord): Promise<void> {
    this.stmt.putProviderRecord.run(r.provider, r.key, r.updated, JSON.stringify(r.doc));
  }

  async replaceProviderRecord(r: ProviderRecord, expected: Record<string, unknown>): Promise<boolean> {
    const doc = JSON.stringify(r.doc);
    return (
      this.stmt.replaceProviderRecord.run(r.updated, doc, r.provider, r.key, JSON.stringify(expected))
        .changes > 0
    );
  }

  async getProviderRecord(provider: string, key: string): Promise<ProviderRecord | undefined> {
    const row = this.stmt.getProviderRecord.get(provider, key);
    return row && toProviderRecord(row);
  }

  async deleteProviderRecord(provider: string, key: string): Promise<boolean> {
    return this.stmt.deleteProviderRecord.run(provider, key).changes > 0;
  }

  async listProviderRecords(provider: string): Promise<ProviderRecord[]> {
    return this.stmt.listProviderRecords.all(provider).map(toProviderRecord);
  }

  async changeMarker(): Promise<number> {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
