/**
 * The built-in alarms provider in a cluster: lifecycle calls through any controller, the timers on exactly
 * one (the leader), and another controller taking over when the leader dies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, guestAuth, type Proc } from '../helpers/cluster.js';

let cluster: TestCluster;
let controllers: Proc[];

async function call(base: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: guestAuth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> };
}

/** How many times the rule's action ran so far (its activations, read through `base`). */
async function ticks(base: string): Promise<number> {
  const r = await call(base, 'GET', '/api/v1/namespaces/_/activations?name=tock&count=true');
  return r.json.activations as number;
}

async function waitFor(f: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  cluster = new TestCluster();
  await cluster.prepare();
  controllers = [await cluster.startController('controller0'), await cluster.startController('controller1')];
  await cluster.startInvoker('invoker0');
  await cluster.waitHealthy('controller0', 1);
  await cluster.waitHealthy('controller1', 1);
}, 90_000);

afterAll(async () => {
  await cluster?.cleanup();
}, 60_000);

describe('cluster: the alarms provider', () => {
  it('fires on one leader, survives its death, and stops with its trigger', async () => {
    const leader = () => controllers.find((c) => c.output().includes('leads the alarms provider'));
    await waitFor(async () => leader() !== undefined, 15_000, 'a controller to lead the alarms');
    const lead = leader()!;
    const other = controllers.find((c) => c !== lead)!;
    // Everything is set up through the controller that does not lead.
    const base = other.url;
    expect(
      (
        await call(base, 'PUT', '/api/v1/namespaces/_/actions/tock', {
          exec: { kind: 'nodejs:20', code: 'function main(p) { return { at: Date.now() } }' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(base, 'PUT', '/api/v1/namespaces/_/triggers/every2s', {
          annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }],
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(base, 'PUT', '/api/v1/namespaces/_/rules/onEvery2s', {
          trigger: '/_/every2s',
          action: '/_/tock',
        })
      ).status,
    ).toBe(200);
    const created = await call(
      base,
      'POST',
      '/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true',
      {
        lifecycleEvent: 'CREATE',
        triggerName: '/guest/every2s',
        authKey: cluster.guestKey,
        cron: '*/2 * * * * *',
      },
    );
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    await waitFor(async () => (await ticks(base)) >= 2, 20_000, 'two fires');

    // Paused through the controller that does not lead: the leader hears of it at once (its own view, READ
    // through it, says paused within moments, not at its next re-read of the schedules seconds later), and
    // not one more fire follows (one already under way may still land).
    const lifecycle = (event: string, url = base) =>
      call(url, 'POST', '/api/v1/namespaces/whisk.system/alarms', {
        lifecycleEvent: event,
        triggerName: '/guest/every2s',
        feed: 'alarm',
      });
    const leaderSees = async () =>
      ((await lifecycle('READ', lead.url)).json.status as { active: boolean }).active;
    for (const event of ['PAUSE', 'UNPAUSE', 'PAUSE', 'UNPAUSE', 'PAUSE']) {
      expect((await lifecycle(event)).status).toBe(200);
      const active = event === 'UNPAUSE';
      await waitFor(async () => (await leaderSees()) === active, 300, `the leader's view of ${event}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    const paused = await ticks(base);
    await new Promise((r) => setTimeout(r, 4500));
    expect(await ticks(base)).toBe(paused);
    expect((await lifecycle('UNPAUSE')).status).toBe(200);
    await waitFor(async () => (await ticks(base)) >= paused + 1, 10_000, 'fires after the unpause');

    // The leader dies: the other controller takes the timers over within seconds.
    await lead.kill();
    const before = await ticks(base);
    await waitFor(async () => (await ticks(base)) >= before + 2, 30_000, 'fires after the leader died');
    expect(other.output()).toContain('leads the alarms provider');

    // Deleting the trigger (the feed's DELETE, then the trigger) stops the fires. The feed action calls the
    // provider at its __OW_API_HOST, which in this test may be the dead controller: call the provider directly.
    const deleted = await lifecycle('DELETE');
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    expect((await call(base, 'DELETE', '/api/v1/namespaces/_/triggers/every2s')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3000));
    const stopped = await ticks(base);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await ticks(base)).toBe(stopped);
  }, 120_000);
});
