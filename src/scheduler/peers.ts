/**
 * The other controllers, as this one sees them: each controller reports on the `controllers` topic, four
 * times a second, which namespaces it has how many activations in flight for. From the reports every
 * controller knows how many controllers are alive (to share out invoker memory) and the cluster-wide
 * in-flight count of a namespace (so the concurrency throttle is global: this controller's exact count plus
 * the others' counts, at most one report interval old). A controller silent for `expiryMs` is gone.
 */
import type { MessageBus, Subscription } from '../bus/bus.js';

export interface ControllerReport {
  id: string;
  inFlight: Record<string, number>;
  /** Sent once by a controller that is shutting down. */
  leaving?: boolean;
}

export interface PeersOptions {
  bus: MessageBus;
  id: string;
  /** This controller's in-flight counts per namespace. */
  local: () => ReadonlyMap<string, number>;
  intervalMs?: number;
  expiryMs?: number;
}

const TOPIC = 'controllers';

export class ControllerPeers {
  private readonly peers = new Map<string, { seen: number; inFlight: Record<string, number> }>();
  private timer: NodeJS.Timeout | undefined;
  private subscription: Subscription | undefined;
  private readonly expiryMs: number;

  constructor(private readonly o: PeersOptions) {
    this.expiryMs = o.expiryMs ?? 2000;
  }

  start(): void {
    this.subscription = this.o.bus.subscribe<ControllerReport>(TOPIC, (d) => {
      const r = d.data;
      if (r.id === this.o.id) return;
      if (r.leaving === true) this.peers.delete(r.id);
      else this.peers.set(r.id, { seen: Date.now(), inFlight: r.inFlight });
    });
    void this.report();
    this.timer = setInterval(() => void this.report(), this.o.intervalMs ?? 250);
    this.timer.unref();
  }

  private report(leaving = false): Promise<void> {
    const report: ControllerReport = {
      id: this.o.id,
      inFlight: Object.fromEntries(this.o.local()),
      ...(leaving ? { leaving } : {}),
    };
    return this.o.bus.publish(TOPIC, report, { durable: false }).catch(() => undefined);
  }

  private *alive(): Iterable<Record<string, number>> {
    const now = Date.now();
    for (const [id, p] of this.peers) {
      if (now - p.seen > this.expiryMs) this.peers.delete(id);
      else yield p.inFlight;
    }
  }

  /** Controllers alive, this one included. */
  count(): number {
    let n = 1;
    for (const _ of this.alive()) n++;
    return n;
  }

  /** Activations of `namespace` in flight on the other controllers. */
  inFlightOf(namespace: string): number {
    let n = 0;
    for (const counts of this.alive()) n += counts[namespace] ?? 0;
    return n;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.report(true);
    await this.subscription?.drain();
  }
}
