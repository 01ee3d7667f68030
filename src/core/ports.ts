/**
 * Ports: contracts that a layer above needs and a backend below provides (PostgreSQL, NATS, the process
 * itself). They live here, at the bottom, so that backends implement them without importing the layers
 * that use them.
 */

/** The time, for everything that counts minutes or schedules: tests give their own. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Counts events per key and minute (throttles). One controller counts in memory; a cluster in PostgreSQL. */
export interface RateCounter {
  /** Adds one event to `key` in the minute starting at `minute` (epoch ms) and returns the new count. */
  hit(key: string, minute: number): Promise<number> | number;
  /** Takes one event back (the request was refused for another reason). */
  undo(key: string, minute: number): void;
}

/**
 * Start claims: how an invoker tells whether redelivered work may already have run. Before an activation's
 * code starts (init or run), the invoker durably claims its id. A message delivered again after its invoker
 * died is run only if nobody claimed it (it was still waiting) — otherwise it may have had effects, and it
 * ends with a whisk internal error unless the action is annotated `retry-safe`.
 */
export type ClaimResult = { claimed: true } | { claimed: false; owner: string };

export interface StartClaims {
  /** Claims `activationId` for `owner`; `claimed: false` names whoever claimed it first. */
  claim(activationId: string, owner: string): Promise<ClaimResult>;
  /** Takes a claim over (a retry-safe activation is run again). */
  reclaim(activationId: string, owner: string): Promise<void>;
}

/**
 * The invoker registry: every invoker that ever started in this deployment, with its capacity. Heartbeats
 * say who is alive; the registry says who exists, so that a controller started after an invoker died still
 * reports it (`down`) and its queued work is still taken over.
 */
export interface InvokerInfo {
  id: string;
  /** Memory for action containers, MB. */
  memoryMB: number;
  registeredAt: number;
}

export interface InvokerRegistry {
  register(info: InvokerInfo): Promise<void>;
  list(): Promise<InvokerInfo[]>;
}

/** Leadership among the processes of a cluster, for work that must run in exactly one of them. */
export interface Leadership {
  readonly leading: boolean;
  /** Called once when leadership ends without `release()` (the backend lost it). */
  onLost(listener: () => void): void;
  /** Becomes the leader if nobody is; true when this process leads. */
  tryAcquire(): Promise<boolean>;
  /** Gives leadership up (idempotent). */
  release(): Promise<void>;
}
