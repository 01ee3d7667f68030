/**
 * Activation records a cluster controller has just seen in completions. Invokers write records in batches,
 * so for a few milliseconds after a blocking invoke returns, the store may not have its record yet; this
 * controller serves it from here meanwhile (the same promise the standalone writer's read-through keeps).
 * Bounded by count and age.
 */
import type { ActivationRecord } from '../../core/activation.js';
import type { ActivationReader } from '../../controller/activation-reader.js';
import type { ActivationQuery } from '../../store/store.js';

const MAX = 10_000;
const MAX_AGE_MS = 60_000;

export class RecentRecords implements ActivationReader {
  private readonly records = new Map<string, { record: ActivationRecord; at: number }>();

  constructor(private readonly store: ActivationReader) {}

  add(record: ActivationRecord): void {
    this.records.set(record.activationId, { record, at: Date.now() });
    if (this.records.size > MAX) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    const hit = this.records.get(activationId);
    if (hit !== undefined) {
      if (Date.now() - hit.at <= MAX_AGE_MS && hit.record.namespace === namespace) return hit.record;
      if (Date.now() - hit.at > MAX_AGE_MS) this.records.delete(activationId);
    }
    return this.store.get(namespace, activationId);
  }

  list(namespace: string, query: ActivationQuery): Promise<ActivationRecord[]> {
    return this.store.list(namespace, query);
  }

  count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    return this.store.count(namespace, query);
  }
}
