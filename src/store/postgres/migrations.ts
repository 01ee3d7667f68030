/**
 * The PostgreSQL schema, as numbered migrations. Version N is the N-th entry; `whirl_migrations` records
 * which versions a database has. Start-up applies the missing ones under an advisory lock, so several
 * controllers and invokers starting at once upgrade the schema exactly once. Never edit an entry that has
 * shipped: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the same tables as the SQLite store. Documents are kept as text (the wire JSON, byte for byte).
  `CREATE TABLE entities (
     namespace TEXT NOT NULL, path TEXT NOT NULL, type TEXT NOT NULL, pkg TEXT,
     rev INTEGER NOT NULL, updated BIGINT NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (namespace, path));
   CREATE INDEX entities_by_type ON entities (namespace, type, updated DESC, path);
   CREATE INDEX entities_by_pkg ON entities (namespace, type, pkg, updated DESC, path);
   CREATE TABLE identities (
     uuid TEXT PRIMARY KEY, subject TEXT NOT NULL, namespace TEXT NOT NULL,
     salt TEXT NOT NULL, key_hash TEXT NOT NULL, blocked BOOLEAN NOT NULL DEFAULT FALSE);
   CREATE INDEX identities_by_namespace ON identities (namespace);
   CREATE INDEX identities_by_subject ON identities (subject);
   CREATE TABLE limits (namespace TEXT PRIMARY KEY, doc TEXT NOT NULL);
   CREATE TABLE activations (
     id TEXT PRIMARY KEY, namespace TEXT NOT NULL, entity_path TEXT NOT NULL,
     start BIGINT NOT NULL, doc TEXT NOT NULL);
   CREATE INDEX activations_by_start ON activations (namespace, start DESC, id);
   CREATE INDEX activations_by_name ON activations (namespace, entity_path, start DESC, id);`,
  // 2: a change counter for caches (identities and limits are cached by every controller): a statement
  // trigger bumps it on any write, whichever process made it.
  `CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
   INSERT INTO changes (id, n) VALUES (1, 0);
   CREATE FUNCTION whirl_bump_changes() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; RETURN NULL; END $$;
   CREATE TRIGGER identities_changed AFTER INSERT OR UPDATE OR DELETE ON identities
     FOR EACH STATEMENT EXECUTE FUNCTION whirl_bump_changes();
   CREATE TRIGGER limits_changed AFTER INSERT OR UPDATE OR DELETE ON limits
     FOR EACH STATEMENT EXECUTE FUNCTION whirl_bump_changes();`,
  // 3: per-minute throttle counts shared by all controllers. UNLOGGED: fast, and a crash of the database
  // only forgets the current minute's counts.
  `CREATE UNLOGGED TABLE rate_counts (
     key TEXT NOT NULL, minute BIGINT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, minute));`,
  // 4: state kept by platform services (the alarms provider's schedules).
  `CREATE TABLE provider_records (
     provider TEXT NOT NULL, key TEXT NOT NULL, updated BIGINT NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (provider, key));`,
  // 5: revisions come from one sequence for the whole database, so a deleted and re-created entity never
  // gets a revision it had before (every cache keyed by revision, in every process, would serve the old
  // document). The sequence starts above every revision already stored.
  `ALTER TABLE entities ALTER COLUMN rev TYPE BIGINT;
   CREATE SEQUENCE entity_revs AS BIGINT;
   SELECT setval('entity_revs', coalesce((SELECT max(rev) FROM entities), 0) + 1, false);`,
];
