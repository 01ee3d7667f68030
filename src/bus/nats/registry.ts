/**
 * The invoker registry (core/ports.ts) in a JetStream stream keeping the last message per invoker.
 */
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { InvokerInfo, InvokerRegistry } from '../../core/ports.js';
import { encodeTopic, type NatsBus } from './nats-bus.js';

export class NatsInvokerRegistry implements InvokerRegistry {
  private readonly stream: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly bus: NatsBus) {
    this.stream = `${bus.prefix}-invokers`;
  }

  private ensure(): Promise<void> {
    this.ready ??= this.bus.ensureStream({
      name: this.stream,
      subjects: [`${this.bus.prefix}.r.*`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
    });
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  async register(info: InvokerInfo): Promise<void> {
    await this.ensure();
    await this.bus.js.publish(`${this.bus.prefix}.r.${encodeTopic(info.id)}`, JSON.stringify(info), {
      timeout: 5000,
    });
  }

  async list(): Promise<InvokerInfo[]> {
    await this.ensure();
    const info = await this.bus.jsm.streams.info(this.stream, {
      subjects_filter: `${this.bus.prefix}.r.*`,
    });
    const out: InvokerInfo[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const m = await this.bus.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
      if (m !== null) out.push(m.json<InvokerInfo>());
    }
    return out.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  }
}
