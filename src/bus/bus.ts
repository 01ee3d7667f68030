/**
 * The MessageBus carries work from controllers to invokers and completions back. Topics are plain strings
 * (`invoker0`, `completed0`, `health`). The in-process bus (memory/) serves standalone; the NATS JetStream
 * bus serves clusters; both pass bus.contract.ts.
 *
 * Messages are JSON-serialisable objects and are treated as immutable once published.
 */
export interface Delivery<T> {
  readonly data: T;
  /** True when an earlier delivery of this message was not acknowledged (a consumer died). */
  readonly redelivered: boolean;
  /** Acknowledge once the work is done; unacknowledged work may be delivered again. */
  ack(): void;
  /**
   * Hands the message back without doing it (for example while shutting down): it is delivered again,
   * to this or another subscriber, with `redelivered` set. Only for durable topics.
   */
  release(): void;
}

export interface PublishOptions {
  /**
   * Durable (the default): kept until a subscriber acknowledges it. `false`: fan-out to whoever listens
   * now (completions, health), dropped when nobody does.
   */
  durable?: boolean;
  /** Publishing twice with the same id within a few minutes delivers once (safe retries). */
  id?: string;
}

/** The message is bigger than the bus carries (NATS `max_payload`). */
export class MessageTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super(`message of ${size} bytes exceeds the bus limit of ${max} bytes`);
    this.name = 'MessageTooLargeError';
  }
}

export interface SubscribeOptions {
  /** Most deliveries handed to this subscriber and not yet acknowledged (back-pressure). */
  maxInFlight?: number;
  /**
   * Work topics are durable and consumed competitively: each message goes to one subscriber and is kept
   * until acknowledged. Non-durable topics (completions, health) are fire-and-forget fan-out.
   */
  durable?: boolean;
}

export interface Subscription {
  /**
   * Resolves once the broker knows of this subscriber: a fan-out message published after that reaches it
   * (one published before may not). Durable work is kept for subscribers anyway.
   */
  ready: Promise<void>;
  /** Stops new deliveries and waits until the in-flight ones are acknowledged. */
  drain(): Promise<void>;
}

export interface MessageBus {
  /** Resolves once the message is safely held by the bus (durably, for durable topics). */
  publish(topic: string, message: object, options?: PublishOptions): Promise<void>;
  subscribe<T>(
    topic: string,
    handler: (delivery: Delivery<T>) => void,
    options?: SubscribeOptions,
  ): Subscription;
  close(): Promise<void>;
}
