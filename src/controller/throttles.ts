/**
 * Namespace throttles (spec §2): invocations and trigger fires per minute, and activations in flight.
 * Per-minute limits count in fixed wall-clock minutes, as OpenWhisk does; unlike OpenWhisk, a 429 says
 * when to retry (`Retry-After`). Counts live behind RateCounter so that a cluster can share them.
 */
import { Messages, WhirlError } from '../core/errors.js';
import { systemClock, type Clock, type RateCounter } from '../core/ports.js';
import type { Caller } from './identities.js';

/** Counts in memory: enough for one controller. */
export class MemoryRateCounter implements RateCounter {
  private minute = 0;
  private counts = new Map<string, number>();

  hit(key: string, minute: number): number {
    if (minute !== this.minute) {
      // A new minute: the previous minute's counts are of no further use.
      this.minute = minute;
      this.counts = new Map();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }

  undo(key: string, minute: number): void {
    if (minute !== this.minute) return;
    const n = this.counts.get(key);
    if (n !== undefined) this.counts.set(key, Math.max(0, n - 1));
  }
}

export class Throttles {
  constructor(
    private readonly counter: RateCounter,
    /** Activations of a namespace in flight right now. */
    private readonly inFlight: (namespace: string) => number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Throws 429 when the caller may not start another activation now. */
  async checkInvoke(caller: Caller): Promise<void> {
    const allowed = caller.limits.concurrentInvocations;
    const running = this.inFlight(caller.namespace);
    if (running >= allowed) {
      throw new WhirlError(429, Messages.tooManyConcurrent(running, allowed), { 'retry-after': '1' });
    }
    await this.perMinute(`i:${caller.namespace}`, caller.limits.invocationsPerMinute);
  }

  /** Throws 429 when the caller may not fire another trigger this minute. */
  async checkFire(caller: Caller): Promise<void> {
    await this.perMinute(`f:${caller.namespace}`, caller.limits.firesPerMinute);
  }

  private async perMinute(key: string, allowed: number): Promise<void> {
    const now = this.clock.now();
    const minute = now - (now % 60_000);
    const count = await this.counter.hit(key, minute);
    if (count > allowed) {
      this.counter.undo(key, minute);
      const retryAfter = Math.max(1, Math.ceil((minute + 60_000 - now) / 1000));
      throw new WhirlError(429, Messages.tooManyRequests(count, allowed), {
        'retry-after': String(retryAfter),
      });
    }
  }
}
