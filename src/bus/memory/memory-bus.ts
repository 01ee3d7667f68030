/**
 * The in-process bus for standalone Whirl: messages are handed over by reference (no serialisation), with
 * the same delivery rules as the cluster bus: competing consumers and bounded in-flight work on durable
 * topics, fan-out on the others.
 */
import type { Delivery, MessageBus, PublishOptions, SubscribeOptions, Subscription } from '../bus.js';

interface Subscriber {
  handler: (delivery: Delivery<unknown>) => void;
  maxInFlight: number;
  inFlight: number;
  draining: boolean;
  drained?: () => void;
}

interface Topic {
  durable: boolean;
  subscribers: Subscriber[];
  /** Durable messages waiting for a subscriber with room. */
  backlog: { data: object; redelivered: boolean }[];
  next: number;
}

/** How long a publish id is remembered for de-duplication (as JetStream's duplicate window). */
const DEDUP_WINDOW_MS = 120_000;

export class MemoryBus implements MessageBus {
  private readonly topics = new Map<string, Topic>();
  /** Recent publish ids → when they expire; insertion order is expiry order. */
  private readonly seen = new Map<string, number>();
  private closed = false;

  private topic(name: string, durable = true): Topic {
    let t = this.topics.get(name);
    if (t === undefined) {
      t = { durable, subscribers: [], backlog: [], next: 0 };
      this.topics.set(name, t);
    }
    return t;
  }

  async publish(topicName: string, message: object, options: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    if (options.id !== undefined && this.isDuplicate(`${topicName}\n${options.id}`)) return;
    const t = this.topics.get(topicName);
    if ((t !== undefined && !t.durable) || options.durable === false) {
      for (const s of t?.subscribers ?? []) if (!s.draining) this.deliver(t!, s, message, false);
      return;
    }
    // Durable topic (or one nobody has subscribed to yet): keep the message until a consumer takes it.
    const topic = t ?? this.topic(topicName);
    topic.backlog.push({ data: message, redelivered: false });
    this.pump(topic);
  }

  subscribe<T>(
    topicName: string,
    handler: (delivery: Delivery<T>) => void,
    options: SubscribeOptions = {},
  ): Subscription {
    const durable = options.durable ?? false;
    const t = this.topic(topicName, durable);
    t.durable = durable;
    const sub: Subscriber = {
      handler: handler as (d: Delivery<unknown>) => void,
      maxInFlight: options.maxInFlight ?? Number.POSITIVE_INFINITY,
      inFlight: 0,
      draining: false,
    };
    t.subscribers.push(sub);
    this.pump(t);
    return {
      // In process, a subscriber exists as soon as subscribe returns.
      ready: Promise.resolve(),
      drain: () => {
        sub.draining = true;
        t.subscribers = t.subscribers.filter((s) => s !== sub);
        if (sub.inFlight === 0) return Promise.resolve();
        return new Promise<void>((resolve) => (sub.drained = resolve));
      },
    };
  }

  private isDuplicate(key: string): boolean {
    const now = Date.now();
    for (const [k, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(k);
    }
    if (this.seen.has(key)) return true;
    this.seen.set(key, now + DEDUP_WINDOW_MS);
    return false;
  }

  /** Hands backlog messages to subscribers with room, round-robin. */
  private pump(t: Topic): void {
    while (t.backlog.length > 0) {
      const ready = t.subscribers.filter((s) => s.inFlight < s.maxInFlight && !s.draining);
      if (ready.length === 0) return;
      const s = ready[t.next++ % ready.length]!;
      const m = t.backlog.shift()!;
      this.deliver(t, s, m.data, m.redelivered);
    }
  }

  private deliver(t: Topic, s: Subscriber, data: object, redelivered: boolean): void {
    s.inFlight++;
    let acked = false;
    const settle = (requeue: boolean) => {
      if (acked) return;
      acked = true;
      s.inFlight--;
      if (requeue) t.backlog.unshift({ data, redelivered: true });
      if (s.draining && s.inFlight === 0) s.drained?.();
      if (t.durable) this.pump(t);
    };
    const delivery: Delivery<unknown> = {
      data,
      redelivered,
      ack: () => settle(false),
      release: () => settle(t.durable),
    };
    // Deliver on a later tick so publishers never run consumer code re-entrantly.
    queueMicrotask(() => {
      try {
        s.handler(delivery);
      } catch {
        // A throwing handler must not wedge the topic: the message counts as handled.
        delivery.ack();
      }
      if (!t.durable) delivery.ack();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
  }
}
