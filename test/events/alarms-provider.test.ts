// The alarms provider against a real controller and store (no invoker: rule actions are only queued):
// lifecycle answers and errors, firing, back-off on 429, revoked keys, deleted triggers, restarts and the
// missed-fire policy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { MemoryBus } from '../../src/bus/memory/memory-bus.js';
import type { ActivationRecord } from '../../src/core/activation.js';
import { generateCredentials, newIdentity } from '../../src/core/identity.js';
import { DEFAULT_SYSTEM_LIMITS, type NamespaceLimits } from '../../src/core/limits.js';
import { LocalActivationReader } from '../../src/controller/activation-reader.js';
import { buildApp } from '../../src/controller/app.js';
import { Entities } from '../../src/controller/entities.js';
import { Identities } from '../../src/controller/identities.js';
import { Invocations } from '../../src/controller/invocations.js';
import { MemoryRateCounter, Throttles } from '../../src/controller/throttles.js';
import { AlarmsProvider, alarmRoutes } from '../../src/events/alarms/index.js';
import type { IsolationReport } from '../../src/sandbox/sandbox.js';
import { SingleInvokerBalancer } from '../../src/scheduler/load-balancer.js';
import { ActivationWriter } from '../../src/store/activation-writer.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { basic } from '../helpers/in-process.js';
import { eventually } from '../helpers/entities.js';

const PROVIDER_URL = '/api/v1/namespaces/whisk.system/alarms';
const GENEROUS: NamespaceLimits = {
  invocationsPerMinute: 100_000,
  concurrentInvocations: 1000,
  firesPerMinute: 100_000,
};

/** A controller with the alarms provider, over an in-memory store; `restart` builds a new provider on it. */
class Harness {
  readonly store = new SqliteStore(':memory:');
  readonly writer = new ActivationWriter(this.store);
  private readonly bus = new MemoryBus();
  provider!: AlarmsProvider;
  entities!: Entities;
  app!: FastifyInstance;
  keys: Record<string, string> = {};
  /** Runs as a fire starts (when the provider looks up the alarm's owner): another controller's moment. */
  duringFire: (() => Promise<void>) | undefined;

  async start(): Promise<void> {
    const entities = new Entities(this.store);
    this.entities = entities;
    const identities = new Identities(this.store, DEFAULT_SYSTEM_LIMITS);
    // Nobody consumes this topic: rule actions are queued and never run, which is all these tests need.
    const invocations = new Invocations(this.bus, new SingleInvokerBalancer(this.bus, 'nobody'), 'done');
    const throttles = new Throttles(new MemoryRateCounter(), () => 0);
    // The store as the provider sees it, with a hook into the start of every fire.
    const store = Object.create(this.store) as SqliteStore;
    store.getIdentity = async (uuid) => {
      const identity = await this.store.getIdentity(uuid);
      await this.duringFire?.();
      return identity;
    };
    this.provider = new AlarmsProvider({
      store,
      identities,
      entities,
      fire: { entities, throttles, invocations, activationWriter: this.writer },
      backoffMs: 5,
    });
    this.app = buildApp({
      entities,
      identities,
      invocations,
      throttles,
      activations: new LocalActivationReader(this.store, this.writer),
      system: DEFAULT_SYSTEM_LIMITS,
      info: {
        version: 'test',
        sandbox: 'none',
        isolation: { isolated: false, notes: [] } as unknown as IsolationReport,
        mode: 'standalone',
      },
      activationWriter: this.writer,
      triggerListeners: [this.provider],
      plugins: [alarmRoutes(this.provider)],
    });
    await this.provider.start();
  }

  async user(namespace: string, limits: NamespaceLimits = GENEROUS): Promise<string> {
    const c = generateCredentials();
    await this.store.putIdentity(newIdentity(namespace, namespace, c.uuid, c.key));
    await this.store.setLimits(namespace, limits);
    this.keys[namespace] = `${c.uuid}:${c.key}`;
    return this.keys[namespace];
  }

  call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body: unknown, auth: string) {
    return this.app.inject({
      method,
      url,
      headers: { authorization: basic(auth), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  }

  /** A trigger with an active rule to an action (so that fires leave a trigger record). */
  async wired(auth: string, trigger: string): Promise<void> {
    const ns = '/api/v1/namespaces/_';
    await this.call(
      'PUT',
      `${ns}/actions/act?overwrite=true`,
      { exec: { kind: 'nodejs:20', code: 'function main(p) { return p }' } },
      auth,
    );
    expect((await this.call('PUT', `${ns}/triggers/${trigger}`, {}, auth)).statusCode).toBe(200);
    const rule = await this.call(
      'PUT',
      `${ns}/rules/${trigger}Rule`,
      { trigger: `/_/${trigger}`, action: '/_/act' },
      auth,
    );
    expect(rule.statusCode).toBe(200);
  }

  lifecycle(auth: string, params: Record<string, unknown>) {
    return this.call('POST', PROVIDER_URL, params, auth);
  }

  async fires(namespace: string, trigger: string): Promise<ActivationRecord[]> {
    await this.writer.flush();
    return this.store.listActivations(namespace, { skip: 0, limit: 200, name: trigger });
  }

  async stop(): Promise<void> {
    await this.provider.stop();
    await this.app.close();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.writer.close();
    await this.store.close();
  }
}

describe('alarms provider', () => {
  let h: Harness;
  let guest: string;
  beforeEach(async () => {
    h = new Harness();
    await h.start();
    guest = await h.user('guest');
  });
  afterEach(async () => h.close());

  it('creates an alarm, fires the trigger every second with its payload, and reads config and status', async () => {
    await h.wired(guest, 'tick');
    const r = await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: '/_/tick',
      feed: 'alarm',
      cron: '* * * * * *',
      trigger_payload: { hello: 'alarm' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().config).toEqual({
      name: 'tick',
      namespace: 'guest',
      payload: { hello: 'alarm' },
      cron: '* * * * * *',
      strict: false,
    });
    expect(r.json().status).toMatchObject({ active: true, fires: 0 });
    const fires = await eventually(
      async () => {
        const f = await h.fires('guest', 'tick');
        return f.length >= 2 ? f : undefined;
      },
      5000,
      'two fires',
    );
    expect(fires[0]!.response.result).toEqual({ hello: 'alarm' });
    expect(JSON.parse(fires[0]!.logs[0]!)).toMatchObject({ success: true, rule: 'guest/tickRule' });
    expect(fires[0]!.start - fires[1]!.start).toBeGreaterThanOrEqual(900);
    const read = (await h.lifecycle(guest, { lifecycleEvent: 'READ', triggerName: '/guest/tick' })).json();
    expect(read.status.fires).toBeGreaterThanOrEqual(2);
    expect(read.status.nextFireISO).toMatch(/Z$/);
  });

  it('answers lifecycle errors with the right status', async () => {
    await h.wired(guest, 'own');
    const other = await h.user('other');
    const cases: [Record<string, unknown>, string, number, RegExp][] = [
      [{ lifecycleEvent: 'EXPLODE', triggerName: '/_/own' }, guest, 400, /unsupported lifecycleEvent/],
      [
        { lifecycleEvent: 'CREATE', feed: 'alarm', cron: '* * * * *' },
        guest,
        400,
        /triggerName parameter is required/,
      ],
      [
        { lifecycleEvent: 'CREATE', triggerName: '/_/own', cron: '* * * * *' },
        guest,
        400,
        /feed parameter is required/,
      ],
      [
        { lifecycleEvent: 'CREATE', triggerName: '/_/ghost', feed: 'alarm', cron: '* * * * *' },
        guest,
        404,
        /'guest\/ghost' does not exist/,
      ],
      [
        { lifecycleEvent: 'CREATE', triggerName: '/guest/own', feed: 'alarm', cron: '* * * * *' },
        other,
        403,
        /not authorized to access 'guest\/own'/,
      ],
      [
        { lifecycleEvent: 'CREATE', triggerName: '/_/own', feed: 'alarm', cron: 'nope' },
        guest,
        400,
        /cron pattern 'nope' is not valid/,
      ],
      [{ lifecycleEvent: 'READ', triggerName: '/_/own' }, guest, 404, /Trigger '\/guest\/own' has no alarm/],
      [{ lifecycleEvent: 'DELETE', triggerName: '/_/own' }, guest, 404, /has no alarm/],
    ];
    for (const [params, auth, status, message] of cases) {
      const r = await h.lifecycle(auth, params);
      expect(r.statusCode, JSON.stringify(params)).toBe(status);
      expect(r.json().error).toMatch(message);
    }
    const ok = await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'own',
      feed: 'alarm',
      cron: '0 0 1 1 *',
    });
    expect(ok.statusCode).toBe(200);
    const dup = await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'own',
      feed: 'alarm',
      cron: '0 0 1 1 *',
    });
    expect(dup.statusCode).toBe(409);
    const noParams = await h.lifecycle(guest, { lifecycleEvent: 'UPDATE', triggerName: 'own' });
    expect(noParams.statusCode).toBe(400);
    expect(noParams.json().error).toBe('no updatable parameters were specified');
    const wrongFeed = await h.lifecycle(guest, {
      lifecycleEvent: 'UPDATE',
      triggerName: 'own',
      feed: 'once',
      date: Date.now() + 9e6,
    });
    expect(wrongFeed.statusCode).toBe(400);
    const unauth = await h.app.inject({ method: 'POST', url: PROVIDER_URL, payload: {} });
    expect(unauth.statusCode).toBe(401);
    const elsewhere = await h.call(
      'POST',
      '/api/v1/namespaces/guest/alarms',
      { lifecycleEvent: 'READ', triggerName: 'own' },
      guest,
    );
    expect(elsewhere.statusCode).toBe(404);
  });

  it('updates, pauses and resumes an alarm', async () => {
    await h.wired(guest, 'pp');
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'pp',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    const updated = await h.lifecycle(guest, {
      lifecycleEvent: 'UPDATE',
      triggerName: 'pp',
      trigger_payload: { v: 2 },
    });
    expect(updated.json().config).toMatchObject({ cron: '* * * * * *', payload: { v: 2 } });
    await eventually(async () => ((await h.fires('guest', 'pp')).length > 0 ? true : undefined), 4000);
    const paused = (await h.lifecycle(guest, { lifecycleEvent: 'PAUSE', triggerName: 'pp' })).json();
    expect(paused.status).toMatchObject({ active: false, reason: { kind: 'USER' } });
    const count = (await h.fires('guest', 'pp')).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.fires('guest', 'pp')).length).toBe(count);
    expect((await h.fires('guest', 'pp'))[0]!.response.result).toEqual({ v: 2 });
    // An update leaves a paused alarm paused.
    const still = (
      await h.lifecycle(guest, { lifecycleEvent: 'UPDATE', triggerName: 'pp', cron: '*/2 * * * * *' })
    ).json();
    expect(still.status.active).toBe(false);
    const resumed = (await h.lifecycle(guest, { lifecycleEvent: 'UNPAUSE', triggerName: 'pp' })).json();
    expect(resumed.status.active).toBe(true);
    expect(resumed.status).not.toHaveProperty('reason');
    await eventually(async () => ((await h.fires('guest', 'pp')).length > count ? true : undefined), 4000);
  });

  it('keeps a pause another controller stored while a fire was under way', async () => {
    await h.wired(guest, 'race');
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'race',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    // As in a cluster: a controller that does not run the timers pauses the alarm (it writes the store)
    // while the leader is firing it. The leader's bookkeeping after that fire must not undo the pause.
    let pausedAt: number | undefined;
    h.duringFire = async () => {
      if (pausedAt !== undefined) return;
      pausedAt = Date.now();
      const r = (await h.store.getProviderRecord('alarms', 'guest/race'))!;
      const status = { active: false, dateChanged: pausedAt, reason: { kind: 'USER', message: 'Paused.' } };
      await h.store.putProviderRecord({ ...r, doc: { ...r.doc, status }, updated: pausedAt });
    };
    await eventually(async () => ((await h.fires('guest', 'race')).length > 0 ? true : undefined), 4000);
    await new Promise((r) => setTimeout(r, 300));
    const count = (await h.fires('guest', 'race')).length;
    await new Promise((r) => setTimeout(r, 2200));
    expect((await h.fires('guest', 'race')).length).toBe(count);
    const stored = await h.store.getProviderRecord('alarms', 'guest/race');
    expect(stored?.doc).toMatchObject({ status: { active: false, reason: { kind: 'USER' } } });
  });

  it('stops with the trigger: at once when deleted through the API, at the next fire otherwise', async () => {
    await h.wired(guest, 'gone1');
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'gone1',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    expect((await h.call('DELETE', '/api/v1/namespaces/_/triggers/gone1', undefined, guest)).statusCode).toBe(
      200,
    );
    expect(await h.provider.get('guest', 'gone1')).toBeUndefined();
    expect(await h.store.getProviderRecord('alarms', 'guest/gone1')).toBeUndefined();

    await h.wired(guest, 'gone2');
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'gone2',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    // Deleted by another controller: this one only hears of it as a cache invalidation.
    await h.store.deleteEntity('guest', 'gone2');
    h.entities.invalidate('guest', 'gone2');
    await eventually(
      async () => ((await h.provider.get('guest', 'gone2')) === undefined ? true : undefined),
      4000,
    );
    expect(await h.store.getProviderRecord('alarms', 'guest/gone2')).toBeUndefined();
  });

  it('disables an alarm whose key was revoked', async () => {
    await h.wired(guest, 'rev');
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'rev',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    await h.store.deleteIdentity(guest.split(':')[0]!);
    const s = await eventually(async () => {
      const got = await h.provider.get('guest', 'rev');
      return got?.schedule.status.active === false ? got.schedule : undefined;
    }, 4000);
    expect(s.status.reason).toMatchObject({ kind: 'AUTO', statusCode: 401 });
    expect(await h.fires('guest', 'rev')).toHaveLength(0);
  });

  it('backs off on 429 and disables the alarm after 10 throttled fires in a row', async () => {
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    const tight = await h.user('tight', { ...GENEROUS, firesPerMinute: 1 });
    await h.wired(tight, 'busy');
    await h.lifecycle(tight, {
      lifecycleEvent: 'CREATE',
      triggerName: 'busy',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    const s = await eventually(
      async () => {
        const got = await h.provider.get('tight', 'busy');
        return got?.schedule.status.active === false ? got.schedule : undefined;
      },
      8000,
      'the alarm to be disabled',
    );
    expect(s.status.reason).toEqual({
      kind: 'AUTO',
      statusCode: 429,
      message: 'Automatically disabled after 10 throttled fires in a row.',
    });
    expect(await h.fires('tight', 'busy')).toHaveLength(1);
    const read = (await h.lifecycle(tight, { lifecycleEvent: 'READ', triggerName: 'busy' })).json();
    expect(read.status).toMatchObject({ active: false, reason: { statusCode: 429 } });
  });

  it('resumes its schedules after a restart, and fires a once alarm missed while down', async () => {
    await h.wired(guest, 'keeps');
    await h.wired(guest, 'missed');
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'keeps',
      feed: 'alarm',
      cron: '* * * * * *',
    });
    await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'missed',
      feed: 'once',
      date: new Date(Date.now() + 600).toISOString(),
      trigger_payload: { once: true },
    });
    await h.stop();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await h.fires('guest', 'missed')).toHaveLength(0);
    const before = (await h.fires('guest', 'keeps')).length;
    await h.start();
    const missed = await eventually(async () => {
      const f = await h.fires('guest', 'missed');
      return f.length > 0 ? f : undefined;
    }, 3000);
    expect(missed).toHaveLength(1);
    expect(missed[0]!.response.result).toEqual({ once: true });
    await eventually(
      async () => ((await h.fires('guest', 'keeps')).length > before ? true : undefined),
      4000,
    );
    const once = (await h.lifecycle(guest, { lifecycleEvent: 'READ', triggerName: 'missed' })).json();
    expect(once.status).toMatchObject({ active: false, fires: 1, reason: { kind: 'AUTO' } });
  });

  it('deletes the trigger and its rules after a once alarm fires, when asked to', async () => {
    await h.wired(guest, 'bye');
    const r = await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'bye',
      feed: 'once',
      date: Date.now() + 500,
      deleteAfterFire: 'rules',
    });
    expect(r.json().config.deleteAfterFire).toBe('rules');
    await eventually(
      async () => ((await h.provider.get('guest', 'bye')) === undefined ? true : undefined),
      4000,
    );
    expect(await h.fires('guest', 'bye')).toHaveLength(1);
    expect(await h.store.getEntity('guest', 'bye')).toBeUndefined();
    expect(await h.store.getEntity('guest', 'byeRule')).toBeUndefined();
    expect(await h.store.getEntity('guest', 'act')).toBeDefined();
  });

  it('fires an interval from its start date', async () => {
    await h.wired(guest, 'every');
    const r = await h.lifecycle(guest, {
      lifecycleEvent: 'CREATE',
      triggerName: 'every',
      feed: 'interval',
      minutes: 1,
      startDate: Date.now() + 700,
    });
    expect(r.json().config).toMatchObject({ minutes: 1 });
    const fires = await eventually(async () => {
      const f = await h.fires('guest', 'every');
      return f.length > 0 ? f : undefined;
    }, 4000);
    expect(fires).toHaveLength(1);
    const next = Date.parse(
      (await h.lifecycle(guest, { lifecycleEvent: 'READ', triggerName: 'every' })).json().status
        .nextFireISO as string,
    );
    expect(next - fires[0]!.start).toBeGreaterThan(55_000);
  });
});
