/**
 * The alarms provider: keeps one schedule per trigger (provider records, so they survive restarts),
 * arms a timer for each active one, and fires the trigger inside Whirl as the identity whose key created
 * the alarm — no key is stored, only that identity's uuid (a revoked or blocked key disables the alarm).
 *
 * Firing goes through controller/triggers/fire.ts, so the owner's fire and invoke throttles apply. On 429 the provider
 * backs off (1 s × n², n = consecutive refusals) and disables the alarm after 10 in a row; other 4xx
 * answers disable it at once (a 404 means the trigger is gone: the schedule is removed). Server errors
 * are retried a few times, then that one fire is skipped.
 *
 * Missed fires (Whirl was down): cron and interval schedules resume at their next time after start-up,
 * without replaying what was missed; a `once` alarm whose date passed while Whirl was down fires once,
 * late, at start-up.
 *
 * In a cluster every controller serves the lifecycle calls (they read and write the stored schedules),
 * but only the one that leads runs the timers (`start()`). A controller that changed a schedule says so
 * (`announce`, awaited before the lifecycle call answers) and the leader re-reads the schedules at once
 * (`changed()`), so a paused or deleted alarm does not fire again; the leader also re-reads them every
 * `syncIntervalMs`, in case an announcement was lost.
 */
import { randomBytes } from 'node:crypto';
import { WhirlError } from '../../core/errors.js';
import type { Entities } from '../../controller/entities.js';
import type { Caller, Identities } from '../../controller/identities.js';
import type { ProviderRecordStore, Store } from '../../store/store.js';
import { fireTrigger, type FireDeps, type TriggerListener } from '../../controller/triggers/fire.js';
import { deleteRule } from '../../controller/triggers/links.js';
import { nextFire, type AlarmReason, type Schedule } from './schedule.js';

export const PROVIDER = 'alarms';

export interface AlarmsLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface AlarmsOptions {
  store: ProviderRecordStore & Pick<Store, 'getIdentity'>;
  identities: Identities;
  entities: Entities;
  fire: FireDeps;
  log?: AlarmsLog;
  /** Back-off base for 429s and retries (ms); tests shorten it. */
  backoffMs?: number;
  /** Cluster mode: how often the leader re-reads schedules that other controllers changed (ms). */
  syncIntervalMs?: number;
  /** Cluster mode: tells the leader that this controller changed a schedule (see `changed()`). */
  announce?: () => Promise<void>;
}

/** Longest single timer: setTimeout cannot wait longer than 2^31-1 ms; far fires re-arm on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_THROTTLED = 10;
const MAX_RETRIES = 3;

interface Armed {
  schedule: Schedule;
  timer?: NodeJS.Timeout;
  next?: number;
  /** Bumped on every change, so that a fire in progress notices it was superseded. */
  generation: number;
}

export const scheduleKey = (namespace: string, trigger: string): string => `${namespace}/${trigger}`;

export class AlarmsProvider implements TriggerListener {
  private readonly armed = new Map<string, Armed>();
  private readonly firing = new Set<Promise<void>>();
  /** Keys with a fire in progress: a sync leaves them alone until the fire has stored its outcome. */
  private readonly busy = new Set<string>();
  /** True while this process runs the timers (always in standalone; the leader in a cluster). */
  private leading = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();
  private stopped = false;
  private readonly log: AlarmsLog;
  private readonly backoffMs: number;

  constructor(private readonly o: AlarmsOptions) {
    this.log = o.log ?? { info: () => undefined, warn: () => undefined };
    this.backoffMs = o.backoffMs ?? 1000;
  }

  /** Takes over the timers: loads every stored schedule and arms the active ones. */
  async start(): Promise<void> {
    this.stopped = false;
    this.leading = true;
    const records = await this.o.store.listProviderRecords(PROVIDER);
    const now = Date.now();
    for (const r of records) {
      // A lifecycle call that came in while loading already armed this one (and stored it).
      if (this.armed.has(r.key)) continue;
      const schedule = r.doc as unknown as Schedule;
      const a: Armed = { schedule, generation: 0 };
      this.armed.set(r.key, a);
      // A one-time alarm that came due while Whirl was down fires now, once (see the file comment).
      const missedOnce =
        schedule.status.active &&
        schedule.config.feed === 'once' &&
        schedule.fires === 0 &&
        schedule.config.date !== undefined &&
        schedule.config.date <= now;
      if (missedOnce) this.arm(r.key, a, now);
      else this.arm(r.key, a);
    }
    if (records.length > 0) this.log.info(`alarms: ${records.length} schedule(s) loaded`);
    const every = this.o.syncIntervalMs;
    if (every !== undefined) {
      this.syncTimer = setInterval(() => this.changed(), every);
      this.syncTimer.unref();
    }
  }

  /** Stops every timer and waits for fires in progress (the schedules stay stored). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leading = false;
    clearInterval(this.syncTimer);
    for (const a of this.armed.values()) clearTimeout(a.timer);
    for (const wake of [...this.sleepers]) wake();
    await Promise.allSettled([...this.firing]);
    this.armed.clear();
  }

  async get(
    namespace: string,
    trigger: string,
  ): Promise<{ schedule: Schedule; next: number | undefined } | undefined> {
    const key = scheduleKey(namespace, trigger);
    if (this.leading) {
      const a = this.armed.get(key);
      return a && { schedule: a.schedule, next: a.next };
    }
    // Not the leader (cluster): the stored schedule, and when it would fire next.
    const r = await this.o.store.getProviderRecord(PROVIDER, key);
    if (r === undefined) return undefined;
    const schedule = r.doc as unknown as Schedule;
    return { schedule, next: schedule.status.active ? nextFire(schedule, Date.now()) : undefined };
  }

  /** Creates or replaces a schedule, stores it, and arms it (the leader does, within a sync, in a cluster). */
  async put(schedule: Schedule): Promise<number | undefined> {
    const key = scheduleKey(schedule.namespace, schedule.trigger);
    await this.persist(key, schedule);
    if (!this.leading) {
      await this.o.announce?.();
      return schedule.status.active ? nextFire(schedule, Date.now()) : undefined;
    }
    const previous = this.armed.get(key);
    if (previous !== undefined) clearTimeout(previous.timer);
    const a: Armed = { schedule, generation: (previous?.generation ?? 0) + 1 };
    this.armed.set(key, a);
    this.arm(key, a);
    return a.next;
  }

  /** Removes a schedule; false when there was none. */
  async remove(namespace: string, trigger: string): Promise<boolean> {
    const key = scheduleKey(namespace, trigger);
    const a = this.armed.get(key);
    if (a !== undefined) {
      clearTimeout(a.timer);
      a.generation++;
      this.armed.delete(key);
    }
    const deleted = await this.o.store.deleteProviderRecord(PROVIDER, key);
    if (!this.leading) await this.o.announce?.();
    return a !== undefined || deleted;
  }

  /** Another controller changed a schedule: the leader re-reads them now. */
  changed(): void {
    this.sync().catch((err: unknown) =>
      this.log.warn(`alarms: re-reading schedules failed: ${errorText(err)}`),
    );
  }

  /**
   * The leader's view of schedules other controllers changed: new and changed ones (re)armed, removed ones
   * disarmed. A schedule is compared as stored, so the leader's own writes look unchanged.
   */
  private async sync(): Promise<void> {
    if (!this.leading) return;
    const records = await this.o.store.listProviderRecords(PROVIDER);
    const stored = new Set<string>();
    for (const r of records) {
      stored.add(r.key);
      if (this.busy.has(r.key)) continue;
      const previous = this.armed.get(r.key);
      if (previous !== undefined && JSON.stringify(previous.schedule) === JSON.stringify(r.doc)) continue;
      if (previous !== undefined) clearTimeout(previous.timer);
      const a: Armed = {
        schedule: r.doc as unknown as Schedule,
        generation: (previous?.generation ?? 0) + 1,
      };
      this.armed.set(r.key, a);
      this.arm(r.key, a);
    }
    for (const [key, a] of this.armed) {
      if (stored.has(key) || this.busy.has(key)) continue;
      clearTimeout(a.timer);
      a.generation++;
      this.armed.delete(key);
    }
  }

  /** A deleted trigger takes its alarm with it. */
  async triggerDeleted(namespace: string, name: string): Promise<void> {
    if (await this.remove(namespace, name))
      this.log.info(`alarms: trigger /${namespace}/${name} was deleted; its alarm is removed`);
  }

  /** Stores `schedule` only over `seen`, the schedule as this process last stored or read it. */
  private replace(key: string, schedule: Schedule, seen: Schedule): Promise<boolean> {
    const doc = schedule as unknown as Record<string, unknown>;
    const expected = seen as unknown as Record<string, unknown>;
    return this.o.store.replaceProviderRecord(
      { provider: PROVIDER, key, doc, updated: Date.now() },
      expected,
    );
  }

  private async persist(key: string, schedule: Schedule): Promise<void> {
    await this.o.store.putProviderRecord({
      provider: PROVIDER,
      key,
      doc: schedule as unknown as Record<string, unknown>,
      updated: Date.now(),
    });
  }

  /** Sets the timer for the schedule's next fire (`at` forces one), or marks it finished. */
  private arm(key: string, a: Armed, at?: number): void {
    clearTimeout(a.timer);
    a.timer = undefined;
    a.next = undefined;
    if (this.stopped || !a.schedule.status.active) return;
    const next = at ?? nextFire(a.schedule, Date.now());
    if (next === undefined) {
      void this.deactivate(key, a, { kind: 'AUTO', message: finishedMessage(a.schedule) });
      return;
    }
    a.next = next;
    const wait = () => {
      const delay = Math.max(0, next - Date.now());
      a.timer = setTimeout(
        () => {
          if (next > Date.now()) wait();
          else this.track(this.fire(key, a, a.generation));
        },
        Math.min(delay, MAX_TIMER_MS),
      );
    };
    wait();
  }

  private track(p: Promise<void>): void {
    this.firing.add(p);
    void p.finally(() => this.firing.delete(p));
  }

  private current(key: string, a: Armed, generation: number): boolean {
    return !this.stopped && this.armed.get(key) === a && a.generation === generation;
  }

  /** The identity the alarm fires as: its creator's, while that key exists and is not blocked. */
  private async ownerOf(s: Schedule): Promise<Caller | undefined> {
    const identity = await this.o.store.getIdentity(s.owner.uuid);
    if (identity === undefined || identity.blocked === true || identity.namespace !== s.namespace)
      return undefined;
    return {
      subject: identity.subject,
      namespace: s.namespace,
      uuid: identity.uuid,
      // Keys are stored hashed: rule actions of an alarm-fired trigger get no __OW_API_KEY.
      authKey: '',
      limits: await this.o.identities.limitsOf(s.namespace),
    };
  }

  private async fire(key: string, a: Armed, generation: number): Promise<void> {
    this.busy.add(key);
    let superseded = false;
    try {
      superseded = await this.fireOnce(key, a, generation);
    } finally {
      this.busy.delete(key);
    }
    // Changed through another controller while it fired: adopt the stored schedule.
    if (superseded) this.changed();
  }

  /** Fires once; true when the stored schedule turned out to have been changed by someone else meanwhile. */
  private async fireOnce(key: string, a: Armed, generation: number): Promise<boolean> {
    const s = a.schedule;
    try {
      const caller = await this.ownerOf(s);
      if (caller === undefined) {
        await this.deactivate(key, a, {
          kind: 'AUTO',
          statusCode: 401,
          message: 'The key that created this alarm was revoked or blocked; the alarm is disabled.',
        });
        return false;
      }
      let throttled = 0;
      let failures = 0;
      for (;;) {
        if (!this.current(key, a, generation)) return false;
        try {
          await fireTrigger(this.o.fire, {
            caller,
            name: s.trigger,
            payload: s.config.payload,
            headers: { 'user-agent': 'whirl-alarms', 'content-type': 'application/json' },
            transactionId: randomBytes(16).toString('hex'),
          });
          break;
        } catch (err) {
          const status = err instanceof WhirlError ? err.status : 500;
          if (status === 404) {
            await this.remove(s.namespace, s.trigger);
            this.log.info(`alarms: trigger /${key} no longer exists; its alarm is removed`);
            return false;
          }
          if (status === 429) {
            if (++throttled >= MAX_THROTTLED) {
              await this.deactivate(key, a, {
                kind: 'AUTO',
                statusCode: 429,
                message: `Automatically disabled after ${MAX_THROTTLED} throttled fires in a row.`,
              });
              return false;
            }
            await this.sleep(this.backoffMs * throttled * throttled);
            continue;
          }
          if (status >= 400 && status < 500 && status !== 408 && status !== 409) {
            await this.deactivate(key, a, {
              kind: 'AUTO',
              statusCode: status,
              message: `Automatically disabled after receiving a ${status} status code when firing the trigger: ${errorText(err)}`,
            });
            return false;
          }
          if (++failures > MAX_RETRIES) {
            this.log.warn(`alarms: could not fire /${key} (${errorText(err)}); skipping this fire`);
            break;
          }
          await this.sleep(this.backoffMs * failures);
        }
      }
      if (!this.current(key, a, generation)) return false;
      const seen = { ...s };
      s.lastFire = Date.now();
      s.fires++;
      if (s.config.feed === 'once') {
        await this.afterOnce(key, a, seen);
        return false;
      }
      // Only over the schedule as this process last stored or read it: a pause, update or delete made
      // through another controller during the fire must not be undone by this bookkeeping.
      if (!(await this.replace(key, s, seen))) return true;
      // Fire times missed while this fire was held back (throttled) are skipped, not caught up.
      if (this.current(key, a, generation)) this.arm(key, a);
    } catch (err) {
      this.log.warn(`alarms: firing /${key} failed: ${errorText(err)}`);
      if (this.current(key, a, generation)) this.arm(key, a);
    }
    return false;
  }

  /** A one-time alarm has fired: delete what the owner asked to delete, or keep it, inactive. */
  private async afterOnce(key: string, a: Armed, seen: Schedule): Promise<void> {
    const s = a.schedule;
    const what = s.config.deleteAfterFire;
    if (what === true || what === 'rules') {
      const trigger = await this.o.entities.get(s.namespace, s.trigger);
      if (trigger?.type === 'trigger') {
        if (what === 'rules') {
          const rules = Object.keys((trigger.doc as { rules?: Record<string, unknown> }).rules ?? {});
          for (const r of rules) {
            const [ns, name] = [r.slice(0, r.indexOf('/')), r.slice(r.indexOf('/') + 1)];
            if (ns === s.namespace) await deleteRule(this.o.entities, ns, name);
          }
        }
        await this.o.entities.delete(s.namespace, s.trigger);
      }
      await this.remove(s.namespace, s.trigger);
      return;
    }
    await this.deactivate(key, a, { kind: 'AUTO', message: 'The alarm fired once, at its date.' }, seen);
  }

  /** `seen`: the schedule as last stored, when the caller changed it already (see replace()). */
  private async deactivate(
    key: string,
    a: Armed,
    reason: AlarmReason,
    seen: Schedule = { ...a.schedule },
  ): Promise<void> {
    clearTimeout(a.timer);
    a.next = undefined;
    a.schedule.status = { active: false, dateChanged: Date.now(), reason };
    // As after a fire: a change stored elsewhere meanwhile wins, and is adopted.
    if (this.armed.get(key) === a && !(await this.replace(key, a.schedule, seen))) this.changed();
    if (reason.kind === 'AUTO' && reason.statusCode !== undefined)
      this.log.warn(`alarms: /${key} disabled: ${reason.message}`);
  }

  /** A back-off pause that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

function finishedMessage(s: Schedule): string {
  if (s.config.feed === 'once') return 'The alarm fired once, at its date.';
  return 'The alarm has no more fire times (its stopDate has passed).';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
