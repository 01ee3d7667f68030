// Triggers and rules through the REST API (in-process, `inject`): CRUD, firing, rule status, the trigger
// activation record, and every status and message of spec §1.3, §5.1, §5.2 (checklist 25–37, 62–70).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, addUser, annotation, putAction, recordOf, type Json } from '../helpers/entities.js';

const T = `${NS}/triggers`;
const R = `${NS}/rules`;
const ECHO = 'function main(p) { return p }';

/** The parsed log lines of a trigger activation. */
const ruleLines = (rec: Json): Json[] => (rec.logs as string[]).map((l) => JSON.parse(l));

async function fire(w: TestWhirl, name: string, payload?: unknown) {
  return w.call('POST', `${T}/${encodeURIComponent(name)}`, payload);
}

describe('triggers and rules API', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
    await putAction(w, 'echo', ECHO);
  });
  afterAll(async () => w.cleanup());

  it('creates a trigger with the fields OpenWhisk clients expect, and keeps parameters on update', async () => {
    const r = await w.call('PUT', `${T}/t1`, { parameters: [{ key: 'a', value: 'A' }] });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      namespace: 'guest',
      name: 't1',
      version: '0.0.1',
      publish: false,
      annotations: [],
      parameters: [{ key: 'a', value: 'A' }],
      limits: {},
    });
    expect(r.json()).not.toHaveProperty('rules');
    const u = await w.call('PUT', `${T}/t1?overwrite=true`, { annotations: [{ key: 'x', value: 1 }] });
    expect(u.json()).toMatchObject({
      version: '0.0.2',
      publish: false,
      parameters: [{ key: 'a', value: 'A' }],
      annotations: [{ key: 'x', value: 1 }],
    });
    const list = (await w.call('GET', T)).json();
    expect(list.map((t: { name: string }) => t.name)).toContain('t1');
    expect((await w.call('GET', `${T}?count=true`)).json().triggers).toBeGreaterThanOrEqual(1);
  });

  it('answers 409 for a duplicate and 404 for get, delete or fire of a missing trigger', async () => {
    const dup = await w.call('PUT', `${T}/t1`, {});
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toBe('resource already exists');
    for (const [method, body] of [
      ['GET', undefined],
      ['DELETE', undefined],
      ['POST', {}],
    ] as const) {
      const r = await w.call(method, `${T}/missing`, body);
      expect(r.statusCode, method).toBe(404);
      expect(r.json().error).toBe('The requested resource does not exist.');
    }
    const clash = await w.call('PUT', `${T}/echo`, {});
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error).toBe('Resource by this name exists but is not in this collection.');
  });

  it('refuses a feed annotation that is not an action name', async () => {
    const bad = await w.call('PUT', `${T}/tf`, { annotations: [{ key: 'feed', value: 'not//valid' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('Feed name is not valid');
    const num = await w.call('PUT', `${T}/tf`, { annotations: [{ key: 'feed', value: 42 }] });
    expect(num.statusCode).toBe(400);
    const ok = await w.call('PUT', `${T}/tf`, {
      annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }],
    });
    expect(ok.statusCode).toBe(200);
  });

  it('answers 204 and records nothing when no rule is active', async () => {
    await w.call('PUT', `${T}/lonely`, {});
    const r = await fire(w, 'lonely', { x: 1 });
    expect(r.statusCode).toBe(204);
    expect(r.body).toBe('');
    const list = (await w.call('GET', `${NS}/activations?name=lonely`)).json();
    expect(list).toEqual([]);
  });

  it('creates an active rule, links it on the trigger, and fires the action with trigger params under the payload', async () => {
    await w.call('PUT', `${T}/t2`, {
      parameters: [
        { key: 'fromTrigger', value: 1 },
        { key: 't', value: 'param' },
      ],
    });
    const rule = await w.call('PUT', `${R}/r2`, { trigger: '/_/t2', action: '/_/echo' });
    expect(rule.statusCode).toBe(200);
    expect(rule.json()).toMatchObject({
      namespace: 'guest',
      name: 'r2',
      version: '0.0.1',
      publish: false,
      status: 'active',
      trigger: { path: 'guest', name: 't2' },
      action: { path: 'guest', name: 'echo' },
    });
    const trigger = (await w.call('GET', `${T}/t2`)).json();
    expect(trigger.rules).toEqual({
      'guest/r2': { action: { name: 'echo', path: 'guest' }, status: 'active' },
    });

    const r = await w.call('POST', `${T}/t2`, { t: 'T' });
    expect(r.statusCode).toBe(202);
    const { activationId } = r.json();
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers['x-openwhisk-activation-id']).toBe(activationId);

    const rec = await recordOf(w, activationId);
    expect(rec).toMatchObject({
      namespace: 'guest',
      name: 't2',
      version: '0.0.1',
      subject: 'guest',
      publish: false,
      annotations: [],
      response: { status: 'success', success: true, result: { t: 'T' } },
    });
    expect(typeof rec.start).toBe('number');
    expect(rec).not.toHaveProperty('end');
    expect(rec).not.toHaveProperty('duration');
    expect(rec).not.toHaveProperty('cause');
    const lines = ruleLines(rec);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      statusCode: 0,
      success: true,
      activationId: lines[0].activationId,
      rule: 'guest/r2',
      action: 'guest/echo',
    });

    const action = await recordOf(w, lines[0].activationId);
    expect(action.name).toBe('echo');
    expect(action).not.toHaveProperty('cause');
    const result = action.response.result;
    expect(result).toMatchObject({ fromTrigger: 1, t: 'T' });
    // Rule actions see the fire request's headers, never its credentials.
    expect(result.__ow_headers['content-type']).toBe('application/json');
    expect(result.__ow_headers).not.toHaveProperty('authorization');
  });

  it('records {} as the result of a fire without payload, and rejects non-object payloads', async () => {
    const r = await fire(w, 't2');
    expect(r.statusCode).toBe(202);
    expect((await recordOf(w, r.json().activationId)).response.result).toEqual({});
    const bad = await fire(w, 't2', '[1,2]');
    expect(bad.statusCode).toBe(400);
    const huge = await fire(w, 't2', { x: 'y'.repeat(1024 * 1024) });
    expect(huge.statusCode).toBe(413);
  });

  it('logs a deleted action and an inactive rule in the trigger record', async () => {
    await w.call('PUT', `${T}/t3`, {});
    await putAction(w, 'doomed', ECHO);
    await putAction(w, 'sleepy', ECHO);
    await w.call('PUT', `${R}/r3a`, { trigger: '/_/t3', action: '/_/echo' });
    await w.call('PUT', `${R}/r3b`, { trigger: '/_/t3', action: '/_/doomed' });
    await w.call('PUT', `${R}/r3c`, { trigger: '/_/t3', action: '/_/sleepy' });
    expect((await w.call('POST', `${R}/r3c`, { status: 'inactive' })).statusCode).toBe(200);
    await w.call('DELETE', `${NS}/actions/doomed`);
    const rec = await recordOf(w, (await fire(w, 't3')).json().activationId);
    const byRule = Object.fromEntries(ruleLines(rec).map((l) => [l.rule, l]));
    expect(Object.keys(byRule).sort()).toEqual(['guest/r3a', 'guest/r3b', 'guest/r3c']);
    expect(byRule['guest/r3a']).toMatchObject({ statusCode: 0, success: true });
    expect(byRule['guest/r3b']).toEqual({
      statusCode: 1,
      success: false,
      error: 'The requested resource does not exist.',
      rule: 'guest/r3b',
      action: 'guest/doomed',
    });
    expect(byRule['guest/r3c']).toEqual({
      statusCode: 1,
      success: false,
      error: "Rule 'guest/r3c' is inactive, action 'guest/sleepy' was not activated.",
      rule: 'guest/r3c',
      action: 'guest/sleepy',
    });
  });

  it('enables and disables rules: only enabled rules run, the same state is a no-op, other states are 400', async () => {
    await w.call('PUT', `${T}/t4`, {});
    await w.call('PUT', `${R}/r4`, { trigger: '/_/t4', action: '/_/echo' });
    const off = await w.call('POST', `${R}/r4`, { status: 'inactive' });
    expect(off.statusCode).toBe(200);
    expect(off.json().status).toBe('inactive');
    expect((await w.call('GET', `${R}/r4`)).json().status).toBe('inactive');
    expect((await fire(w, 't4')).statusCode).toBe(204);
    expect((await w.call('POST', `${R}/r4`, { status: 'inactive' })).statusCode).toBe(200);
    expect((await w.call('POST', `${R}/r4`, { status: 'active' })).statusCode).toBe(200);
    expect((await fire(w, 't4')).statusCode).toBe(202);
    const bad = await w.call('POST', `${R}/r4`, { status: 'paused' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain(
      "'paused' is not a recognized rule state, must be one of ['active', 'inactive']",
    );
    expect((await w.call('POST', `${R}/r4`, {})).statusCode).toBe(400);
  });

  it('shows active and inactive on GET, and lists rules without status', async () => {
    await w.call('PUT', `${T}/t5`, {});
    await w.call('PUT', `${R}/r5a`, { trigger: '/_/t5', action: '/_/echo' });
    await w.call('PUT', `${R}/r5b`, { trigger: '/_/t5', action: '/_/echo' });
    await w.call('POST', `${R}/r5b`, { status: 'inactive' });
    expect((await w.call('GET', `${R}/r5a`)).json().status).toBe('active');
    expect((await w.call('GET', `${R}/r5b`)).json().status).toBe('inactive');
    const list = (await w.call('GET', R)).json();
    const item = list.find((r: { name: string }) => r.name === 'r5a');
    expect(item).toMatchObject({
      trigger: { path: 'guest', name: 't5' },
      action: { path: 'guest', name: 'echo' },
    });
    expect(item).not.toHaveProperty('status');
    expect((await w.call('GET', `${R}?count=true`)).json().rules).toBeGreaterThanOrEqual(2);
  });

  it('keeps the status on update, also when the rule moves to another trigger', async () => {
    await w.call('PUT', `${T}/t6a`, {});
    await w.call('PUT', `${T}/t6b`, {});
    await w.call('PUT', `${R}/r6`, { trigger: '/_/t6a', action: '/_/echo' });
    await w.call('POST', `${R}/r6`, { status: 'inactive' });
    const moved = await w.call('PUT', `${R}/r6?overwrite=true`, { trigger: '/_/t6b', action: '/_/echo' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ version: '0.0.2', status: 'inactive', trigger: { name: 't6b' } });
    expect((await w.call('GET', `${T}/t6a`)).json()).not.toHaveProperty('rules');
    expect((await w.call('GET', `${T}/t6b`)).json().rules['guest/r6'].status).toBe('inactive');
    await w.call('POST', `${R}/r6`, { status: 'active' });
    const again = await w.call('PUT', `${R}/r6?overwrite=true`, { annotations: [{ key: 'a', value: 1 }] });
    expect(again.json()).toMatchObject({ version: '0.0.3', status: 'active', trigger: { name: 't6b' } });
  });

  it('refuses rules without an existing trigger or action, and duplicates', async () => {
    const none = await w.call('PUT', `${R}/rx`, {});
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toBe('rule requires a valid trigger and a valid action');
    const noTrigger = await w.call('PUT', `${R}/rx`, { trigger: '/_/ghost', action: '/_/echo' });
    expect(noTrigger.statusCode).toBe(400);
    expect(noTrigger.json().error).toBe('trigger /guest/ghost does not exist');
    const noAction = await w.call('PUT', `${R}/rx`, { trigger: '/_/t1', action: '/_/ghost' });
    expect(noAction.statusCode).toBe(400);
    expect(noAction.json().error).toBe('action /guest/ghost does not exist');
    const dup = await w.call('PUT', `${R}/r2`, { trigger: '/_/t2', action: '/_/echo' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toBe('resource already exists');
    expect((await w.call('GET', `${T}/t1`)).json()).not.toHaveProperty('rules');
  });

  it('answers 404 for get, delete, enable, disable of a missing rule', async () => {
    for (const [method, body] of [
      ['GET', undefined],
      ['DELETE', undefined],
      ['POST', { status: 'active' }],
      ['POST', { status: 'inactive' }],
    ] as const) {
      const r = await w.call(method, `${R}/missing`, body);
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe('The requested resource does not exist.');
    }
  });

  it('deletes a rule whose trigger and action are gone; a rule without trigger cannot be activated', async () => {
    await w.call('PUT', `${T}/t7`, {});
    await putAction(w, 'gone7', ECHO);
    await w.call('PUT', `${R}/r7`, { trigger: '/_/t7', action: '/_/gone7' });
    await w.call('DELETE', `${T}/t7`);
    await w.call('DELETE', `${NS}/actions/gone7`);
    expect((await w.call('GET', `${R}/r7`)).json().status).toBe('inactive');
    const activate = await w.call('POST', `${R}/r7`, { status: 'active' });
    expect(activate.statusCode).toBe(404);
    expect(activate.json().error).toBe('Only rules with existing triggers can be activated');
    const del = await w.call('DELETE', `${R}/r7`);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ name: 'r7', status: 'inactive' });
    expect((await w.call('GET', `${R}/r7`)).statusCode).toBe(404);
  });

  it('stops firing after the rule is deleted, and uses the new trigger after a re-create', async () => {
    await w.call('PUT', `${T}/t8a`, {});
    await w.call('PUT', `${T}/t8b`, {});
    await w.call('PUT', `${R}/r8`, { trigger: '/_/t8a', action: '/_/echo' });
    const first = await fire(w, 't8a');
    expect(first.statusCode).toBe(202);
    expect(ruleLines(await recordOf(w, first.json().activationId))).toHaveLength(1);
    await w.call('DELETE', `${R}/r8`);
    expect((await fire(w, 't8a')).statusCode).toBe(204);
    await w.call('PUT', `${R}/r8`, { trigger: '/_/t8b', action: '/_/echo' });
    expect((await fire(w, 't8a')).statusCode).toBe(204);
    expect((await fire(w, 't8b')).statusCode).toBe(202);
  });

  it('fires rules that target package and binding actions, names with spaces included', async () => {
    await w.call('PUT', `${NS}/packages/rule%20pkg`, { parameters: [{ key: 'p', value: 'pkg' }] });
    await putAction(w, 'rule%20pkg/echo%20me', ECHO);
    await w.call('PUT', `${NS}/packages/ruleBinding`, {
      binding: { namespace: '_', name: 'rule pkg' },
      parameters: [{ key: 'p', value: 'binding' }],
    });
    await w.call('PUT', `${T}/trigger%20with%20spaces`, {});
    await w.call('PUT', `${R}/viaPkg`, { trigger: '/_/trigger with spaces', action: '/_/rule pkg/echo me' });
    await w.call('PUT', `${R}/viaBinding`, {
      trigger: { path: '_', name: 'trigger with spaces' },
      action: { path: '_/ruleBinding', name: 'echo me' },
    });
    const rec = await recordOf(w, (await fire(w, 'trigger with spaces', { x: 1 })).json().activationId);
    const lines = ruleLines(rec);
    expect(lines.map((l) => l.success)).toEqual([true, true]);
    const results = await Promise.all(
      lines.map(async (l) => [l.rule, await recordOf(w, l.activationId)] as const),
    );
    const byRule = Object.fromEntries(results);
    expect(byRule['guest/viaPkg'].response.result).toMatchObject({ p: 'pkg', x: 1 });
    expect(byRule['guest/viaBinding'].response.result).toMatchObject({ p: 'binding', x: 1 });
    expect(annotation(byRule['guest/viaBinding'].annotations, 'binding')).toBe('guest/ruleBinding');
    expect(lines.find((l) => l.rule === 'guest/viaBinding').action).toBe('guest/ruleBinding/echo me');
  });

  it('fires two triggers into one action, and one trigger into two actions', async () => {
    await putAction(w, 'other', ECHO);
    await w.call('PUT', `${T}/m1`, {});
    await w.call('PUT', `${T}/m2`, {});
    await w.call('PUT', `${R}/m1echo`, { trigger: '/_/m1', action: '/_/echo' });
    await w.call('PUT', `${R}/m2echo`, { trigger: '/_/m2', action: '/_/echo' });
    await w.call('PUT', `${R}/m1other`, { trigger: '/_/m1', action: '/_/other' });
    expect(ruleLines(await recordOf(w, (await fire(w, 'm1')).json().activationId))).toHaveLength(2);
    expect(ruleLines(await recordOf(w, (await fire(w, 'm2')).json().activationId))).toHaveLength(1);
  });

  it("keeps another namespace's triggers and rules to itself", async () => {
    const alice = await addUser(w, 'alice');
    expect((await w.call('GET', '/api/v1/namespaces/guest/triggers', undefined, alice)).statusCode).toBe(403);
    expect((await w.call('GET', '/api/v1/namespaces/guest/triggers/t2', undefined, alice)).statusCode).toBe(
      403,
    );
    expect((await w.call('POST', '/api/v1/namespaces/guest/triggers/t2', {}, alice)).statusCode).toBe(403);
    expect((await w.call('GET', '/api/v1/namespaces/guest/rules/r2', undefined, alice)).statusCode).toBe(403);
    await w.call('PUT', `${T}/aliceT`, {}, alice);
    const cross = await w.call('PUT', `${R}/steal`, { trigger: '/guest/t2', action: '/_/echo' }, alice);
    expect(cross.statusCode).toBe(403);
    const privateAction = await w.call(
      'PUT',
      `${R}/steal`,
      { trigger: '/_/aliceT', action: '/guest/echo' },
      alice,
    );
    expect(privateAction.statusCode).toBe(403);
  });
});

describe('fire throttles', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl(
      {},
      { guest: { firesPerMinute: 2, invocationsPerMinute: 1, concurrentInvocations: 100 } },
    );
    await putAction(w, 'echo', ECHO);
    await w.call('PUT', `${T}/t`, {});
    await w.call('PUT', `${R}/r`, { trigger: '/_/t', action: '/_/echo' });
  });
  afterAll(async () => w.cleanup());

  it('refuses fires beyond firesPerMinute with 429, and logs throttled rule actions', async () => {
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    const first = await fire(w, 't');
    const second = await fire(w, 't');
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    const third = await fire(w, 't');
    expect(third.statusCode).toBe(429);
    expect(third.json().error).toBe('Too many requests in the last minute (count: 3, allowed: 2).');
    // The second fire's rule ran into the one-invocation-per-minute limit: the log says so.
    const lines = ruleLines(await recordOf(w, second.json().activationId));
    expect(lines[0]).toMatchObject({
      statusCode: 1,
      success: false,
      error: 'Too many requests in the last minute (count: 2, allowed: 1).',
    });
  });
});
