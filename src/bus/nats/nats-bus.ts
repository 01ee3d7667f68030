/**
 * The cluster MessageBus on NATS JetStream.
 *
 * - Durable topics (invoker work) are subjects `<prefix>.w.<topic>` of one work-queue stream, stored on
 *   disk: `publish` resolves once JetStream acknowledged the message as stored, with the caller's id as
 *   JetStream's de-duplication id (a retried publish is stored once). Each topic has one durable pull
 *   consumer; every subscriber of the topic pulls from it, so subscribers compete and each message goes
 *   to one of them. A subscriber pulls only as many messages as it has room for (`maxInFlight`), and the
 *   consumer's `max_ack_pending` bounds the topic as a whole.
 * - A message is removed when acknowledged. While a live subscriber holds it unacknowledged, the bus tells
 *   JetStream that work is in progress, so it is never handed to someone else however long it runs; if the
 *   subscriber's process dies (or loses its connection), JetStream delivers it again after `ackWaitMs`,
 *   flagged `redelivered`. Whether redelivered work may run again is the invoker's decision (claims.ts).
 * - Fan-out topics (completions, health, cache invalidation) are plain NATS subjects `<prefix>.f.<topic>`:
 *   fast, and lost when nobody listens.
 * - A durable message larger than the server's `max_payload` (1 MB by default, while an activation may carry
 *   a 1 MB payload plus parameters) is stored in parts on the `<prefix>-parts` stream first; the work message
 *   itself is then empty and names the parts' sequence numbers in a header. The subscriber reassembles them
 *   before handing the message over and deletes them once it is acknowledged. Parts left behind (a publisher
 *   that died half-way) expire after a week.
 */
import {
  connect,
  headers,
  nanos,
  type NatsConnection,
  type Subscription as NatsSubscription,
} from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Delivery, MessageBus, PublishOptions, SubscribeOptions, Subscription } from '../bus.js';
import { MessageTooLargeError } from '../bus.js';

export interface NatsBusOptions {
  /** Server URL(s), comma-separated: `nats://127.0.0.1:4222`. */
  url: string;
  /** Names this deployment's subjects and streams, so several can share a NATS server (default `whirl`). */
  prefix?: string;
  /** Connection name shown by the server (`controller0`, `invoker1`). */
  name?: string;
  /** How long JetStream waits for a dead subscriber before redelivering its work (default 30 s). */
  ackWaitMs?: number;
  /** Unacknowledged messages per durable topic, all subscribers together (default 10 000). */
  maxAckPending?: number;
  /** Disk the work stream may use; beyond it publishing fails (default 1 GiB). */
  maxStreamBytes?: number;
  /** Stream replicas in a NATS cluster (default 1). */
  replicas?: number;
  connectTimeoutMs?: number;
}

const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;
/** Room for NATS headers (de-duplication id, ...) within `max_payload`. */
const HEADER_ROOM = 512;
/** Durable messages above `max_payload` travel in parts, up to this size. */
const MAX_DURABLE_BYTES = 64 * 1024 * 1024;
/** Names the parts of a message stored in parts (comma-separated stream sequence numbers). */
const PARTS_HEADER = 'Whirl-Parts';
const PARTS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** Topic names become one subject token and a consumer name: anything outside [A-Za-z0-9_-] is escaped. */
export function encodeTopic(topic: string): string {
  return topic.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class NatsUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `cannot reach NATS at ${url}: ${cause instanceof Error ? cause.message : String(cause)} ` +
        '(is nats-server running with JetStream (-js), and is --nats-url / WHIRL_NATS_URL right?)',
    );
    this.name = 'NatsUnreachableError';
  }
}

const encoder = new TextEncoder();

export class NatsBus implements MessageBus {
  readonly prefix: string;
  readonly workStream: string;
  readonly partsStream: string;
  private readonly subscriptions = new Set<DurableSubscription | NatsSubscription>();
  private readonly consumers = new Map<string, Promise<Consumer>>();
  private closed = false;
  private readonly reconnectListeners: (() => void)[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly o: Required<Omit<NatsBusOptions, 'name' | 'connectTimeoutMs'>>,
  ) {
    this.prefix = o.prefix;
    this.workStream = `${o.prefix}-work`;
    this.partsStream = `${o.prefix}-parts`;
    void this.watchStatus();
  }

  /** Connects and makes sure the work stream exists. */
  static async open(options: NatsBusOptions): Promise<NatsBus> {
    const o = {
      url: options.url,
      prefix: options.prefix ?? 'whirl',
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxAckPending: options.maxAckPending ?? 10_000,
      maxStreamBytes: options.maxStreamBytes ?? 1024 ** 3,
      replicas: options.replicas ?? 1,
    };
    if (!PREFIX.test(o.prefix))
      throw new Error(`invalid NATS prefix '${o.prefix}' (letters, digits, _ and -)`);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: o.url.split(',').map((s) => s.trim()),
        ...(options.name === undefined ? {} : { name: options.name }),
        timeout: options.connectTimeoutMs ?? 5000,
        // Once connected, never give up: a restarted server is reconnected to and work carries on.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
    } catch (err) {
      throw new NatsUnreachableError(o.url, err);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      const bus = new NatsBus(nc, jetstream(nc, { timeout: 5000 }), jsm, o);
      await bus.ensureWorkStreams();
      return bus;
    } catch (err) {
      await nc.close();
      throw new NatsUnreachableError(o.url, err);
    }
  }

  /** Largest message the server takes. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** Called after the connection to NATS came back (fan-out messages may have been missed meanwhile). */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'reconnect') for (const l of this.reconnectListeners) l();
    }
  }

  /**
   * Creates a stream unless it exists (several processes may race to create it: the loser finds it).
   * `update` lists the settings brought up to date when it exists already.
   */
  async ensureStream(
    config: Partial<StreamConfig> & { name: string; subjects: string[] },
    update: Partial<StreamConfig> = {},
  ): Promise<void> {
    try {
      await this.jsm.streams.info(config.name);
      if (Object.keys(update).length > 0) await this.jsm.streams.update(config.name, update);
    } catch {
      try {
        await this.jsm.streams.add(config);
      } catch (err) {
        await this.jsm.streams.info(config.name).catch(() => {
          throw err;
        });
      }
    }
  }

  private async ensureWorkStreams(): Promise<void> {
    const config = {
      name: this.workStream,
      subjects: [`${this.prefix}.w.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      max_bytes: this.o.maxStreamBytes,
      discard: DiscardPolicy.New,
      duplicate_window: nanos(120_000),
      num_replicas: this.o.replicas,
    };
    await this.ensureStream(config, {
      max_bytes: config.max_bytes,
      duplicate_window: config.duplicate_window,
    });
    await this.ensureStream(
      {
        name: this.partsStream,
        subjects: [`${this.prefix}.p`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_bytes: this.o.maxStreamBytes,
        max_age: nanos(PARTS_MAX_AGE_MS),
        discard: DiscardPolicy.New,
        num_replicas: this.o.replicas,
      },
      { max_bytes: this.o.maxStreamBytes },
    );
  }

  subject(topic: string, durable: boolean): string {
    return `${this.prefix}.${durable ? 'w' : 'f'}.${encodeTopic(topic)}`;
  }

  async publish(topic: string, message: object, options: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    const data = encoder.encode(JSON.stringify(message));
    const max = this.maxPayload - HEADER_ROOM;
    const durable = options.durable !== false;
    const limit = durable ? MAX_DURABLE_BYTES : max;
    if (data.length > limit) throw new MessageTooLargeError(data.length, limit);
    if (!durable) {
      // "Held by the bus" for fan-out: the server has it (a round trip; what follows is in order).
      this.nc.publish(this.subject(topic, false), data);
      await this.nc.flush();
      return;
    }
    const subject = this.subject(topic, true);
    let body = data;
    let parts: ReturnType<typeof headers> | undefined;
    if (data.length > max) {
      parts = headers();
      parts.set(PARTS_HEADER, (await this.storeParts(data, max)).join(','));
      body = new Uint8Array(0);
    }
    // With an id, a publish whose acknowledgement was lost is retried safely: JetStream stores it once.
    const attempts = options.id === undefined ? 1 : 3;
    for (let i = 1; ; i++) {
      try {
        await this.js.publish(subject, body, {
          ...(options.id === undefined ? {} : { msgID: options.id }),
          ...(parts === undefined ? {} : { headers: parts }),
          timeout: 5000,
        });
        return;
      } catch (err) {
        if (i >= attempts || this.closed) throw err;
        await new Promise((r) => setTimeout(r, 100 * i));
      }
    }
  }

  /** Stores `data` in parts of at most `partBytes`; returns their sequence numbers, in order. */
  private async storeParts(data: Uint8Array, partBytes: number): Promise<number[]> {
    const seqs: number[] = [];
    for (let at = 0; at < data.length; at += partBytes) {
      const ack = await this.js.publish(`${this.prefix}.p`, data.subarray(at, at + partBytes), {
        timeout: 5000,
      });
      seqs.push(ack.seq);
    }
    return seqs;
  }

  /** The message stored in these parts, or undefined when a part is gone (expired). */
  async readParts(seqs: number[]): Promise<Buffer | undefined> {
    const chunks: Uint8Array[] = [];
    for (const seq of seqs) {
      const m = await this.jsm.streams.getMessage(this.partsStream, { seq }).catch((err: unknown) => {
        if (/no message found/i.test(String(err))) return null;
        throw err;
      });
      if (m === null) return undefined;
      chunks.push(m.data);
    }
    return Buffer.concat(chunks);
  }

  /** Deletes the parts of a message that was handled. */
  async dropParts(seqs: number[]): Promise<void> {
    for (const seq of seqs)
      await this.jsm.streams.deleteMessage(this.partsStream, seq, false).catch(() => false);
  }

  subscribe<T>(
    topic: string,
    handler: (delivery: Delivery<T>) => void,
    options: SubscribeOptions = {},
  ): Subscription {
    if (options.durable !== true) {
      const sub = this.nc.subscribe(this.subject(topic, false), {
        callback: (err, msg) => {
          if (err !== null) return;
          let data: T;
          try {
            data = msg.json<T>();
          } catch {
            return;
          }
          try {
            handler({ data, redelivered: false, ack: () => undefined, release: () => undefined });
          } catch {
            // A throwing handler must not stop the subscription.
          }
        },
      });
      this.subscriptions.add(sub);
      return {
        // The server has our SUB once it answers the PING that flush sends after it.
        ready: this.nc.flush().catch(() => undefined),
        drain: async () => {
          this.subscriptions.delete(sub);
          if (!sub.isClosed()) await sub.drain().catch(() => undefined);
        },
      };
    }
    const sub = new DurableSubscription(
      this,
      () => this.consumer(topic),
      handler as (d: Delivery<unknown>) => void,
      options.maxInFlight ?? 1000,
      this.o.ackWaitMs,
    );
    this.subscriptions.add(sub);
    return {
      ready: this.consumer(topic).then(
        () => undefined,
        () => undefined,
      ),
      drain: async () => {
        await sub.drain();
        this.subscriptions.delete(sub);
      },
    };
  }

  /** The topic's durable consumer, created (or brought up to date) on first use. */
  private consumer(topic: string): Promise<Consumer> {
    let c = this.consumers.get(topic);
    if (c === undefined) {
      c = this.createConsumer(topic);
      c.catch(() => this.consumers.delete(topic));
      this.consumers.set(topic, c);
    }
    return c;
  }

  private async createConsumer(topic: string): Promise<Consumer> {
    const name = `w_${encodeTopic(topic)}`;
    const config = {
      durable_name: name,
      filter_subject: this.subject(topic, true),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.o.ackWaitMs),
      max_ack_pending: this.o.maxAckPending,
      deliver_policy: DeliverPolicy.All,
      max_waiting: 512,
    };
    try {
      await this.jsm.consumers.add(this.workStream, config);
    } catch {
      // Exists with other settings (another version, another ack wait): bring it up to date.
      await this.jsm.consumers.update(this.workStream, name, {
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
      });
    }
    return this.js.consumers.get(this.workStream, name);
  }

  /** Removes the streams of this prefix (tests and `whirl` clean-ups only). */
  async destroy(): Promise<void> {
    for (const s of [this.workStream, this.partsStream, `${this.prefix}-claims`, `${this.prefix}-invokers`]) {
      await this.jsm.streams.delete(s).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions) {
      if (s instanceof DurableSubscription) s.abandon();
    }
    this.subscriptions.clear();
    await this.nc.close().catch(() => undefined);
  }
}

/**
 * One subscriber of a durable topic: pulls batches no larger than its free room, hands each message to
 * the handler, keeps unacknowledged messages alive with in-progress signals, and on drain stops pulling,
 * hands back anything that arrives late, and waits for its in-flight work.
 */
class DurableSubscription {
  private inFlight = new Set<JsMsg>();
  private draining = false;
  private abandoned = false;
  private fetching: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly loop: Promise<void>;

  constructor(
    private readonly bus: NatsBus,
    private readonly consumer: () => Promise<Consumer>,
    private readonly handler: (d: Delivery<unknown>) => void,
    private readonly maxInFlight: number,
    ackWaitMs: number,
  ) {
    this.keepAlive = setInterval(
      () => {
        for (const m of this.inFlight) m.working();
      },
      Math.max(100, Math.floor(ackWaitMs / 3)),
    );
    this.keepAlive.unref();
    this.loop = this.run();
  }

  private get stopped(): boolean {
    return this.draining || this.abandoned;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.inFlight.size >= this.maxInFlight) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        const consumer = await this.consumer();
        if (this.stopped) break;
        const batch = Math.min(this.maxInFlight - this.inFlight.size, 256);
        const messages = await consumer.fetch({ max_messages: batch, expires: 5000 });
        this.fetching = messages;
        for await (const m of messages) {
          if (this.stopped) {
            // Pulled while stopping: not started, so back it goes, at once.
            if (!this.abandoned) m.nak();
            continue;
          }
          this.deliver(m);
        }
      } catch {
        if (this.stopped) break;
        // The server is away or the consumer is being (re)created: try again shortly.
        await new Promise((r) => setTimeout(r, 250));
      } finally {
        this.fetching = undefined;
      }
    }
  }

  private deliver(m: JsMsg): void {
    const parts = m.headers?.get(PARTS_HEADER);
    if (!parts) {
      this.handOver(m, () => m.json());
      return;
    }
    // Counted in flight (and kept alive) while its parts are read.
    this.inFlight.add(m);
    const seqs = parts.split(',').map(Number);
    this.bus.readParts(seqs).then(
      (bytes) => {
        // Closed meanwhile: not started, so JetStream will deliver it again.
        if (this.abandoned) this.settle(m, 'nak');
        // The parts expired: nobody can ever handle it.
        else if (bytes === undefined) this.settle(m, 'term');
        else this.handOver(m, () => JSON.parse(bytes.toString()) as unknown, seqs);
      },
      () => this.settle(m, 'nak'), // The server is away: try again later.
    );
  }

  /** Hands a message to the handler; `parts` are deleted once it is acknowledged. */
  private handOver(m: JsMsg, parse: () => unknown, parts?: number[]): void {
    let data: unknown;
    try {
      data = parse();
    } catch {
      this.settle(m, 'term'); // Not JSON: no subscriber can ever handle it.
      return;
    }
    this.inFlight.add(m);
    let settled = false;
    const once = (how: 'ack' | 'nak') => {
      if (settled) return;
      settled = true;
      this.settle(m, how);
      if (how === 'ack' && parts !== undefined) void this.bus.dropParts(parts);
    };
    const delivery: Delivery<unknown> = {
      data,
      redelivered: m.redelivered,
      ack: () => once('ack'),
      release: () => once('nak'),
    };
    try {
      this.handler(delivery);
    } catch {
      delivery.ack();
    }
  }

  private settle(m: JsMsg, how: 'ack' | 'nak' | 'term'): void {
    this.inFlight.delete(m);
    if (!this.abandoned) m[how]();
    if (this.draining && this.inFlight.size === 0) this.drained?.();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async drain(): Promise<void> {
    this.draining = true;
    void this.fetching?.close();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    if (this.inFlight.size > 0) await new Promise<void>((r) => (this.drained = r));
    await this.loop;
    clearInterval(this.keepAlive);
  }

  /** The connection is closing: stop without acknowledging anything (JetStream will redeliver). */
  abandon(): void {
    this.abandoned = true;
    clearInterval(this.keepAlive);
    void this.fetching?.close();
    this.wake?.();
    this.drained?.();
  }
}
