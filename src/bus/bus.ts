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
  /** Stops new deliveries and waits until the in-flight ones are acknowledged. */
  drain(): Promise<void>;
}

export interface MessageBus {
  /** Resolves once the message is safely held by the bus (durably, for durable topics). */
  publish(topic: string, message: object): Promise<void>;
  subscribe<T>(
    topic: string,
    handler: (delivery: Delivery<T>) => void,
    options?: SubscribeOptions,
  ): Subscription;
  close(): Promise<void>;
}
