// The alarms feed through plain REST (in-process Whirl with real sandboxes): the catalog's feed actions
// run as the caller and call the provider back at __OW_API_HOST; fires reach rule actions within seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUEST_KEY } from '../helpers/standalone.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, eventually, putAction, recordOf, type Json } from '../helpers/entities.js';

const FEED = '/api/v1/namespaces/whisk.system/actions/alarms';

async function feed(w: TestWhirl, name: string, params: Record<string, unknown>) {
  return w.call('POST', `${FEED}/${name}?blocking=true&result=true`, params);
}

/** Activations of `action` in guest's namespace, newest first. */
async function runsOf(w: TestWhirl, action: string): Promise<Json[]> {
  return (await w.call('GET', `${NS}/activations?name=${action}&docs=true`)).json<Json[]>();
}

describe('alarms feed over REST', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
    await putAction(w, 'wake', 'function main(p) { return p }');
  });
  afterAll(async () => w.cleanup());

  it('creates an alarm through the feed action, fires trigger → rule → action every second, and reads it', async () => {
    await w.call('PUT', `${NS}/triggers/everySecond`, {
      annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }],
    });
    await w.call('PUT', `${NS}/rules/wakeUp`, { trigger: '/_/everySecond', action: '/_/wake' });
    const created = await feed(w, 'alarm', {
      lifecycleEvent: 'CREATE',
      triggerName: '/_/everySecond',
      authKey: GUEST_KEY,
      cron: '* * * * * *',
      trigger_payload: { from: 'alarm' },
    });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({
      config: { name: 'everySecond', namespace: 'guest', cron: '* * * * * *', payload: { from: 'alarm' } },
      status: { active: true },
    });
    const runs = await eventually(
      async () => {
        const r = await runsOf(w, 'wake');
        return r.length >= 2 ? r : undefined;
      },
      8000,
      'two runs of the rule action',
    );
    expect(runs[0].response.result).toMatchObject({ from: 'alarm' });
    expect(runs[0].response.result.__ow_headers['user-agent']).toBe('whirl-alarms');
    const trigger = (await runsOf(w, 'everySecond'))[0];
    expect(trigger.response.result).toEqual({ from: 'alarm' });

    const read = await feed(w, 'alarm', {
      lifecycleEvent: 'READ',
      triggerName: '/_/everySecond',
      authKey: GUEST_KEY,
    });
    expect(read.json().config.cron).toBe('* * * * * *');
    expect(read.json().status.fires).toBeGreaterThanOrEqual(2);
  });

  it('stops firing once the trigger is deleted', async () => {
    expect((await w.call('DELETE', `${NS}/triggers/everySecond`)).statusCode).toBe(200);
    const read = await feed(w, 'alarm', {
      lifecycleEvent: 'READ',
      triggerName: '/_/everySecond',
      authKey: GUEST_KEY,
    });
    expect(read.statusCode).toBe(502);
    expect(read.json()).toEqual({ error: "Trigger '/guest/everySecond' has no alarm." });
    const count = (await runsOf(w, 'everySecond')).length;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await runsOf(w, 'everySecond')).length).toBe(count);
  });

  it("uses the caller's own key when no authKey is given, and deletes through the feed", async () => {
    await w.call('PUT', `${NS}/triggers/noKey`, {});
    const created = await feed(w, 'interval', { lifecycleEvent: 'CREATE', triggerName: 'noKey', minutes: 5 });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json().config).toMatchObject({ minutes: 5 });
    const del = await feed(w, 'interval', { lifecycleEvent: 'DELETE', triggerName: 'noKey' });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({});
  });

  it('reports bad parameters and events as errors of the feed activation', async () => {
    await w.call('PUT', `${NS}/triggers/badFeed`, {});
    const badCron = await feed(w, 'alarm', {
      lifecycleEvent: 'CREATE',
      triggerName: 'badFeed',
      authKey: GUEST_KEY,
      cron: 'soon',
    });
    expect(badCron.statusCode).toBe(502);
    expect(badCron.json().error).toMatch(/^cron pattern 'soon' is not valid/);
    const badEvent = await feed(w, 'once', {
      lifecycleEvent: 'NAP',
      triggerName: 'badFeed',
      authKey: GUEST_KEY,
    });
    expect(badEvent.json()).toEqual({ error: 'unsupported lifecycleEvent' });
    const noTrigger = await feed(w, 'once', {
      lifecycleEvent: 'CREATE',
      triggerName: 'nothing',
      authKey: GUEST_KEY,
      date: Date.now() + 60_000,
    });
    expect(noTrigger.json()).toEqual({ error: "The requested resource 'guest/nothing' does not exist." });
    const wrongKey = await feed(w, 'once', {
      lifecycleEvent: 'CREATE',
      triggerName: 'badFeed',
      authKey: `${GUEST_KEY.split(':')[0]}:${'x'.repeat(64)}`,
      date: Date.now() + 60_000,
    });
    expect(wrongKey.json()).toEqual({ error: 'The supplied authentication is invalid' });
    const rec = await recordOf(w, wrongKey.headers['x-openwhisk-activation-id'] as string);
    expect(rec.response.status).toBe('application error');
  });
});
