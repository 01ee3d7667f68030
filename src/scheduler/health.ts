/**
 * Invoker health as a controller sees it (spec §7.1): invokers ping on the `health` topic every second;
 * silence for `offlineAfterMs` (10 s) makes an invoker **offline** (shown as `down` on `/invokers`, the
 * OpenWhisk wire word). Of the last 10 activation outcomes, more than 3 whisk internal errors make it
 * **unhealthy** and more than 3 forced completions (no answer in time) **unresponsive**. A new or restarted
 * invoker is unhealthy until a health-test action succeeds on it; so is one that came back from offline.
 * A passed health test starts a fresh window. Only **up** invokers get work.
 */
import type { InvokerInfo } from '../core/ports.js';

export type InvokerState = 'up' | 'unhealthy' | 'unresponsive' | 'offline';
export type Outcome = 'success' | 'systemError' | 'timeout';

/** What an invoker says every second on the health topic. */
export interface InvokerHeartbeat {
  kind: 'invoker';
  id: string;
  memoryMB: number;
  /** When this invoker process started: a new value means it restarted. */
  startedAt: number;
  /** Set once, when the invoker shuts down gracefully: treat it as offline at once. */
  leaving?: boolean;
}

export interface HealthOptions {
  offlineAfterMs?: number;
  window?: number;
  maxFailures?: number;
  now?: () => number;
}

interface Entry {
  id: string;
  memoryMB: number;
  lastSeen: number;
  startedAt: number;
  leaving: boolean;
  tested: boolean;
  results: Outcome[];
}

export interface InvokerView {
  id: string;
  state: InvokerState;
  memoryMB: number;
}

/** Natural order (`invoker2` before `invoker10`): every controller must number invokers alike. */
export const byId = (a: { id: string }, b: { id: string }): number =>
  a.id.localeCompare(b.id, 'en', { numeric: true });

export class InvokerHealth {
  private readonly entries = new Map<string, Entry>();
  private readonly offlineAfterMs: number;
  private readonly window: number;
  private readonly maxFailures: number;
  private readonly now: () => number;
  private sorted: InvokerView[] | undefined;

  constructor(o: HealthOptions = {}) {
    this.offlineAfterMs = o.offlineAfterMs ?? 10_000;
    this.window = o.window ?? 10;
    this.maxFailures = o.maxFailures ?? 3;
    this.now = o.now ?? Date.now;
  }

  /** An invoker known from the registry: listed (offline) until it pings. */
  known(info: InvokerInfo): void {
    if (this.entries.has(info.id)) return;
    this.entries.set(info.id, {
      id: info.id,
      memoryMB: info.memoryMB,
      lastSeen: 0,
      startedAt: 0,
      leaving: false,
      tested: false,
      results: [],
    });
    this.sorted = undefined;
  }

  heartbeat(hb: InvokerHeartbeat): void {
    const now = this.now();
    const e = this.entries.get(hb.id);
    if (e === undefined) {
      this.entries.set(hb.id, {
        id: hb.id,
        memoryMB: hb.memoryMB,
        lastSeen: hb.leaving === true ? 0 : now,
        startedAt: hb.startedAt,
        leaving: hb.leaving === true,
        tested: false,
        results: [],
      });
      this.sorted = undefined;
      return;
    }
    const wasOffline = this.stateOf(e, now) === 'offline';
    if (hb.startedAt !== e.startedAt || wasOffline) {
      // A restart, or back from silence: prove health again before getting work.
      e.tested = false;
      e.results = [];
    }
    e.startedAt = hb.startedAt;
    e.memoryMB = hb.memoryMB;
    e.leaving = hb.leaving === true;
    e.lastSeen = now;
  }

  record(id: string, outcome: Outcome): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.results.push(outcome);
    if (e.results.length > this.window) e.results.shift();
  }

  /** A health-test action succeeded on the invoker: a fresh window. */
  passedTest(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.tested = true;
    e.results = [];
  }

  state(id: string): InvokerState {
    const e = this.entries.get(id);
    return e === undefined ? 'offline' : this.stateOf(e, this.now());
  }

  private stateOf(e: Entry, now: number): InvokerState {
    if (e.leaving || now - e.lastSeen > this.offlineAfterMs) return 'offline';
    let errors = 0;
    let timeouts = 0;
    for (const r of e.results) {
      if (r === 'systemError') errors++;
      else if (r === 'timeout') timeouts++;
    }
    if (errors > this.maxFailures) return 'unhealthy';
    if (timeouts > this.maxFailures) return 'unresponsive';
    return e.tested ? 'up' : 'unhealthy';
  }

  /** Every known invoker in natural id order, with its state now. */
  list(): InvokerView[] {
    this.sorted ??= [...this.entries.values()]
      .map((e): InvokerView => ({ id: e.id, state: 'offline', memoryMB: e.memoryMB }))
      .sort(byId);
    const now = this.now();
    for (const v of this.sorted) {
      const e = this.entries.get(v.id)!;
      v.state = this.stateOf(e, now);
      v.memoryMB = e.memoryMB;
    }
    return this.sorted;
  }
}
