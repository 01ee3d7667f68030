/**
 * Entity reads and writes for the controller, with an in-memory cache in front of the store so that
 * resolving an action on the invoke path costs no store round-trip. Every write goes through here and
 * drops the cached copy; `onWrite` tells other controllers (cluster mode) to do the same.
 */
import type { EntityDoc, EntityType } from '../core/entities.js';
import type { EntityListOptions, Store, StoredEntity } from '../store/store.js';

const MAX_FOUND = 50_000;
/** Misses are cached too (a web URL or a rule may name a missing entity often), in a smaller, separate map:
 * a flood of random names evicts other misses, never the entities that exist. */
const MAX_MISSING = 10_000;

export class Entities {
  private readonly found = new Map<string, StoredEntity>();
  private readonly missing = new Set<string>();
  /** Counts writes and invalidations: a read that raced one of them is not cached (it may be stale). */
  private writes = 0;
  /** Awaited before a write returns, so that other controllers know of it before the client does. */
  onWrite: ((namespace: string, path: string) => Promise<void> | void) | undefined;

  constructor(readonly store: Store) {}

  async get(namespace: string, path: string): Promise<StoredEntity | undefined> {
    const key = `${namespace}/${path}`;
    const hit = this.found.get(key);
    if (hit !== undefined) return hit;
    if (this.missing.has(key)) return undefined;
    const before = this.writes;
    const entity = await this.store.getEntity(namespace, path);
    if (before === this.writes) {
      if (entity === undefined) makeRoom(this.missing, MAX_MISSING).add(key);
      else makeRoom(this.found, MAX_FOUND).set(key, entity);
    }
    return entity;
  }

  async put(
    namespace: string,
    path: string,
    type: EntityType,
    doc: EntityDoc,
    expectedRev: number | null,
  ): Promise<number> {
    try {
      return await this.store.putEntity(namespace, path, type, doc, expectedRev);
    } finally {
      await this.written(namespace, path);
    }
  }

  async delete(namespace: string, path: string, expectedRev?: number): Promise<boolean> {
    try {
      return await this.store.deleteEntity(namespace, path, expectedRev);
    } finally {
      await this.written(namespace, path);
    }
  }

  list(namespace: string, type: EntityType, options: EntityListOptions): Promise<EntityDoc[]> {
    return this.store.listEntities(namespace, type, options);
  }

  count(namespace: string, type: EntityType, pkg?: string): Promise<number> {
    return this.store.countEntities(namespace, type, pkg);
  }

  /** Drops a cached entity (a write here or, in a cluster, elsewhere). */
  invalidate(namespace: string, path: string): void {
    this.writes++;
    const key = `${namespace}/${path}`;
    this.found.delete(key);
    this.missing.delete(key);
  }

  /** Drops every cached entity (a cluster controller that may have missed invalidations). */
  invalidateAll(): void {
    this.writes++;
    this.found.clear();
    this.missing.clear();
  }

  private async written(namespace: string, path: string): Promise<void> {
    this.invalidate(namespace, path);
    await this.onWrite?.(namespace, path);
  }
}

/** Drops a full cache's oldest entry (Maps and Sets keep insertion order). */
function makeRoom<C extends Map<string, unknown> | Set<string>>(cache: C, max: number): C {
  if (cache.size >= max) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return cache;
}
