/**
 * The LoadBalancer decides which invoker runs an activation and puts it on that invoker's topic.
 * Standalone has one invoker; the cluster balancer (home-invoker hashing, health, capacity) lives beside.
 */
import type { MessageBus } from '../bus/bus.js';
import type { ActivationMessage } from '../core/messages.js';

export interface LoadBalancer {
  /** Resolves once the activation is safely on the bus; rejects with a WhirlError 503 when no invoker can take it. */
  publish(msg: ActivationMessage): Promise<void>;
  close(): Promise<void>;
}

/** Every activation goes to the one invoker of a standalone Whirl. */
export class SingleInvokerBalancer implements LoadBalancer {
  constructor(
    private readonly bus: MessageBus,
    private readonly topic: string,
  ) {}

  publish(msg: ActivationMessage): Promise<void> {
    return this.bus.publish(this.topic, msg);
  }

  async close(): Promise<void> {}
}
