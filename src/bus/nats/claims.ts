/**
 * Start claims (core/ports.ts) in a JetStream stream that keeps one message per activation id for a
 * day. A claim is a publish that expects the subject to be empty (`Nats-Expected-Last-Subject-Sequence: 0`),
 * so exactly one invoker wins it, whatever the timing.
 */
import { nanos } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ClaimResult, StartClaims } from '../../core/ports.js';
import type { NatsBus } from './nats-bus.js';

const WRONG_LAST_SEQUENCE = 10071;
const DAY_MS = 24 * 3600_000;

export class NatsStartClaims implements StartClaims {
  private readonly stream: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly bus: NatsBus) {
    this.stream = `${bus.prefix}-claims`;
  }

  private subject(id: string): string {
    return `${this.bus.prefix}.c.${id}`;
  }

  private ensure(): Promise<void> {
    this.ready ??= this.bus.ensureStream({
      name: this.stream,
      subjects: [`${this.bus.prefix}.c.*`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
      max_age: nanos(DAY_MS),
      discard: DiscardPolicy.Old,
    });
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  async claim(activationId: string, owner: string): Promise<ClaimResult> {
    await this.ensure();
    try {
      await this.bus.js.publish(this.subject(activationId), owner, {
        expect: { lastSubjectSequence: 0 },
        timeout: 5000,
      });
      return { claimed: true };
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== WRONG_LAST_SEQUENCE) throw err;
      const previous = await this.bus.jsm.streams.getMessage(this.stream, {
        last_by_subj: this.subject(activationId),
      });
      return { claimed: false, owner: previous?.string() ?? 'unknown' };
    }
  }

  async reclaim(activationId: string, owner: string): Promise<void> {
    await this.ensure();
    await this.bus.js.publish(this.subject(activationId), owner, { timeout: 5000 });
  }
}
