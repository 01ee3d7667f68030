// Triggers, rules and the alarms feed end to end: a real `whirl standalone` process over HTTP, driven by
// the official `openwhisk` npm client unchanged — including an alarm that fires trigger → rule → action
// every two seconds, survives a restart in the middle of its schedule, and stops with its trigger.
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { eventually, type Json } from '../helpers/entities.js';

type Client = ReturnType<typeof openwhisk>;

/** Activations of `name`, newest first. */
async function runs(ow: Client, name: string): Promise<Json[]> {
  return (await ow.activations.list({ name, limit: 200, docs: true })) as Json[];
}

describe('triggers, rules and feeds with the openwhisk npm client', () => {
  let w: Whirl;
  let ow: Client;
  beforeAll(async () => {
    w = await startWhirl();
    ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
    await ow.actions.create({ name: 'hello', action: 'function main(p) { return { hi: p.name, n: p.n } }' });
  });
  afterAll(async () => w.cleanup());

  it('creates triggers and rules, fires, disables and enables, and deletes', async () => {
    const t = await ow.triggers.create({
      name: 'greet',
      trigger: { parameters: [{ key: 'name', value: 'trigger' }] },
    });
    expect(t).toMatchObject({ name: 'greet', version: '0.0.1', limits: {} });
    const rule = await ow.rules.create({ name: 'greetRule', trigger: 'greet', action: 'hello' });
    expect(rule).toMatchObject({ status: 'active', trigger: { name: 'greet' }, action: { name: 'hello' } });
    const fired = (await ow.triggers.invoke({ name: 'greet', params: { n: 1 } })) as Json;
    const record = await eventually(
      () => ow.activations.get({ name: fired.activationId }).catch(() => undefined),
      10_000,
    );
    const line = JSON.parse((record as Json).logs[0] as string);
    expect(line).toMatchObject({ success: true, rule: 'guest/greetRule', action: 'guest/hello' });
    const run = (await eventually(
      () => ow.activations.get({ name: line.activationId }).catch(() => undefined),
      10_000,
    )) as Json;
    expect(run.response.result).toEqual({ hi: 'trigger', n: 1 });

    await ow.rules.disable({ name: 'greetRule' });
    expect(((await ow.rules.get({ name: 'greetRule' })) as Json).status).toBe('inactive');
    expect(((await ow.triggers.get({ name: 'greet' })) as Json).rules['guest/greetRule'].status).toBe(
      'inactive',
    );
    // No active rule: 204, which the client resolves with no activation.
    const silent = (await ow.triggers.invoke({ name: 'greet' })) as Json;
    expect(silent?.activationId).toBeUndefined();
    await ow.rules.enable({ name: 'greetRule' });
    expect(((await ow.rules.list()) as Json[]).map((r) => r.name)).toContain('greetRule');
    expect(((await ow.triggers.list()) as Json[]).map((x) => x.name)).toContain('greet');
    await ow.rules.delete({ name: 'greetRule' });
    await ow.triggers.delete({ name: 'greet' });
    await expect(ow.triggers.get({ name: 'greet' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('runs an alarm every 2 seconds through the feeds API, across a restart, until its trigger is deleted', async () => {
    const feed = '/whisk.system/alarms/alarm';
    await ow.triggers.create({ name: 'ticker', trigger: { annotations: [{ key: 'feed', value: feed }] } });
    const created = (await ow.feeds.create({
      name: feed,
      trigger: 'ticker',
      params: { cron: '*/2 * * * * *', trigger_payload: { name: 'alarm' } },
    })) as Json;
    expect(created.response.result.config).toMatchObject({ name: 'ticker', cron: '*/2 * * * * *' });
    await ow.rules.create({ name: 'tickRule', trigger: 'ticker', action: 'hello' });

    const first = await eventually(
      async () => {
        const r = (await runs(ow, 'hello')).filter((a) => a.response.result.hi === 'alarm');
        return r.length >= 2 ? r : undefined;
      },
      12_000,
      'two alarm-driven runs',
    );
    expect(first[0].start - first[1].start).toBeGreaterThanOrEqual(1500);
    // `feeds.get` (the READ event) exists in the client, not in its typings.
    const feeds = ow.feeds as unknown as { get(o: { name: string; trigger: string }): Promise<Json> };
    const read = await feeds.get({ name: feed, trigger: 'ticker' });
    expect(read.response.result).toMatchObject({
      config: { name: 'ticker', namespace: 'guest', cron: '*/2 * * * * *', payload: { name: 'alarm' } },
      status: { active: true },
    });

    // Restart in the middle of the schedule: the alarm picks up where it was.
    expect(await w.stop()).toBe(0);
    const stoppedAt = Date.now();
    w = await startWhirl({ dataDir: w.dataDir });
    ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
    await eventually(
      async () => {
        const r = (await runs(ow, 'ticker')).filter((a) => a.start > stoppedAt);
        return r.length >= 2 ? r : undefined;
      },
      12_000,
      'fires after the restart',
    );

    await ow.feeds.delete({ name: feed, trigger: 'ticker' });
    await ow.triggers.delete({ name: 'ticker' });
    const gone = Date.now();
    await new Promise((r) => setTimeout(r, 4500));
    expect((await runs(ow, 'ticker')).filter((a) => a.start > gone + 100)).toEqual([]);
  });

  it('fails a feed CREATE with the provider message, so that clients can remove the trigger', async () => {
    await ow.triggers.create({ name: 'broken' });
    const err = (await ow.feeds
      .create({
        name: '/whisk.system/alarms/once',
        trigger: 'broken',
        params: { date: '1999-01-01T00:00:00Z' },
      })
      .catch((e: unknown) => e)) as Json;
    expect(err.statusCode).toBe(502);
    expect(err.error.response.result.error).toMatch(/must be in the future/);
  });
});
