/**
 * Entity reads and writes for the controller, with an in-memory cache in front of the store so that
 * resolving an action on the invoke path costs no store round-trip. Every write goes through here and
 * drops the cached copy; `onWrite` tells other controllers (cluster mode) to do the same.
 */
import type { EntityDoc, EntityType } from '../core/entities.js';
import type { EntityListOptions, Store, StoredEntity } from '../store/store.js';

const MAX_CACHED = 50_000;

export class Entities {
  private readonly cache = new Map<string, StoredEntity | null>();
  onWrite: ((namespace: string, path: string) => void) | undefined;

  constructor(readonly store: Store) {}

  async get(namespace: string, path: string): Promise<StoredEntity | undefined> {
    const key = `${namespace}/${path}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const found = await this.store.getEntity(namespace, path);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, found ?? null);
    return found;
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
      this.written(namespace, path);
    }
  }

  async delete(namespace: string, path: string, expectedRev?: number): Promise<boolean> {
    try {
      return await this.store.deleteEntity(namespace, path, expectedRev);
    } finally {
      this.written(namespace, path);
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
    this.cache.delete(`${namespace}/${path}`);
  }

  private written(namespace: string, path: string): void {
    this.invalidate(namespace, path);
    this.onWrite?.(namespace, path);
  }
}
