/**
 * Reading activation records: what the batching writer still holds first, then the store. Before a list
 * query the writer is flushed, so a record is listed as soon as its invoke returned.
 */
import type { ActivationRecord } from '../core/activation.js';
import type { ActivationWriter } from '../store/activation-writer.js';
import type { ActivationQuery, Store } from '../store/store.js';

export interface ActivationReader {
  get(namespace: string, activationId: string): Promise<ActivationRecord | undefined>;
  list(namespace: string, query: ActivationQuery): Promise<ActivationRecord[]>;
  count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number>;
}

export class LocalActivationReader implements ActivationReader {
  constructor(
    private readonly store: Store,
    private readonly writer: ActivationWriter | undefined,
  ) {}

  async get(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    return this.writer?.get(namespace, activationId) ?? this.store.getActivation(namespace, activationId);
  }

  async list(namespace: string, query: ActivationQuery): Promise<ActivationRecord[]> {
    await this.writer?.flush();
    return this.store.listActivations(namespace, query);
  }

  async count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    await this.writer?.flush();
    return this.store.countActivations(namespace, query);
  }
}
