/**
 * The Store: entities, identities, namespace limits and activation records. Every backend (SQLite for
 * standalone, PostgreSQL for cluster) passes the shared contract suite in store.contract.ts. Methods are
 * async so that a networked backend fits the same shape.
 */
import type { ActivationRecord } from '../core/activation.js';
import type { EntityDoc, EntityType } from '../core/entities.js';
import type { Identity } from '../core/identity.js';
import type { NamespaceLimits } from '../core/limits.js';

export interface StoredEntity<T extends EntityDoc = EntityDoc> {
  type: EntityType;
  doc: T;
  /** Increases on every write; writers pass the revision they read (compare-and-set). */
  rev: number;
}

/** Raised when a compare-and-set write finds another revision (or an existing entity on create). */
export class ConflictError extends Error {
  constructor(readonly existing: StoredEntity | undefined) {
    super(existing === undefined ? 'entity is gone' : 'revision conflict');
    this.name = 'ConflictError';
  }
}

export interface ListOptions {
  skip: number;
  /** Maximum number of items to return. */
  limit: number;
}

export interface EntityListOptions extends ListOptions {
  /** Only entities inside this package (`pkg/...`). */
  pkg?: string;
}

export interface ActivationQuery extends ListOptions {
  /** `name` or `pkg/name`. */
  name?: string;
  /** Epoch ms, inclusive bounds on `start`. */
  since?: number;
  upto?: number;
}

/**
 * State that a platform service keeps for itself, one JSON document per key: the alarms feed provider keeps
 * one schedule per trigger (`provider: 'alarms'`, `key: 'ns/trigger'`). Not an entity: users never see it.
 */
export interface ProviderRecord {
  /** The service that owns the record (`alarms`). */
  provider: string;
  key: string;
  doc: Record<string, unknown>;
  /** Epoch ms of the last write. */
  updated: number;
}

/**
 * The store of provider records. Kept beside Store (not in it) so that a backend can add it on its own
 * schedule; every backend that serves the alarms provider implements both, and passes
 * defineProviderRecordsContract.
 */
export interface ProviderRecordStore {
  /** Creates or replaces the record at (provider, key). */
  putProviderRecord(record: ProviderRecord): Promise<void>;
  /**
   * Replaces the record only while it still holds `expected` (the doc as last written): false when another
   * process changed or deleted it meanwhile, and then nothing is written.
   */
  replaceProviderRecord(record: ProviderRecord, expected: Record<string, unknown>): Promise<boolean>;
  getProviderRecord(provider: string, key: string): Promise<ProviderRecord | undefined>;
  /** False when there was no such record. */
  deleteProviderRecord(provider: string, key: string): Promise<boolean>;
  /** Every record of one provider, in key order (providers load their state at start-up). */
  listProviderRecords(provider: string): Promise<ProviderRecord[]>;
}

export interface Store {
  /** The entity at `path` (`name` or `pkg/name`) in `namespace`, whatever its type. */
  getEntity(namespace: string, path: string): Promise<StoredEntity | undefined>;
  /**
   * Writes an entity. `expectedRev` null means create (fails with ConflictError if any entity holds the
   * path); a number means update of exactly that revision. Returns the new revision.
   */
  putEntity(
    namespace: string,
    path: string,
    type: EntityType,
    doc: EntityDoc,
    expectedRev: number | null,
  ): Promise<number>;
  /** Deletes when the revision matches (or unconditionally without one); false when absent. */
  deleteEntity(namespace: string, path: string, expectedRev?: number): Promise<boolean>;
  /** Newest first (by `updated`). Without `pkg`, includes entities inside packages too. */
  listEntities(namespace: string, type: EntityType, options: EntityListOptions): Promise<EntityDoc[]>;
  countEntities(namespace: string, type: EntityType, pkg?: string): Promise<number>;

  putIdentity(identity: Identity): Promise<void>;
  getIdentity(uuid: string): Promise<Identity | undefined>;
  /** All identities, or those of one namespace or subject. */
  listIdentities(filter?: { namespace?: string; subject?: string }): Promise<Identity[]>;
  deleteIdentity(uuid: string): Promise<boolean>;

  getLimits(namespace: string): Promise<NamespaceLimits | undefined>;
  setLimits(namespace: string, limits: NamespaceLimits): Promise<void>;
  deleteLimits(namespace: string): Promise<boolean>;

  /** Idempotent by activation id (a retried write does not duplicate a record). */
  putActivations(records: readonly ActivationRecord[]): Promise<void>;
  getActivation(namespace: string, activationId: string): Promise<ActivationRecord | undefined>;
  /** Newest first (by `start`). */
  listActivations(namespace: string, query: ActivationQuery): Promise<ActivationRecord[]>;
  countActivations(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number>;

  /**
   * A number that changes whenever another process wrote to the store (admin commands, other controllers),
   * so that caches know when to drop identities and limits. Cheap enough to poll.
   */
  changeMarker(): Promise<number>;

  close(): Promise<void>;
}
