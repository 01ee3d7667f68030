/**
 * End to end: `whirl trigger ...` and `whirl rule ...` against a real standalone Whirl driven through the
 * compiled CLI: fire → rule → action, the feed lifecycle with the built-in alarms provider, `whirl list`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Rule, Trigger } from '../../src/cli/types.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli, jsonAfterOk, until } from './run-cli.js';

let w: Whirl;
let dir: string;
const run = (...args: string[]) => cli(w.env, args);

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const lines = (stdout: string) => stdout.trim().split('\n');
const kv = (list: { key: string; value: unknown }[] | undefined) =>
  Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));

/** Ids of the activations of `name`, newest first. */
async function activationsOf(name: string): Promise<string[]> {
  const out = await ok('activation', 'list', name, '-l', '50');
  return lines(out)
    .slice(1)
    .map((l) => /\b([0-9a-f]{32})\b/.exec(l)?.[1])
    .filter((id): id is string => id !== undefined);
}

/** The stdout of `trigger get` on a feed trigger: the trigger, then what the feed READ. */
function splitFeedGet(stdout: string): { trigger: Trigger; read: Record<string, unknown>; readLine: string } {
  const at = stdout.indexOf('\nok: invoked ');
  expect(at, stdout).toBeGreaterThan(0);
  const trigger = jsonAfterOk<Trigger>(stdout.slice(0, at + 1));
  const rest = stdout.slice(at + 1);
  return { trigger, readLine: lines(rest)[0]!, read: jsonAfterOk(rest) };
}

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-trigger-'));
  const f = join(dir, 'greet.js');
  writeFileSync(f, 'function main(p) { return p; }');
  await ok('action', 'create', 'greet', f);
  await ok('action', 'create', 'other', f);
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whirl trigger', () => {
  it('creates, gets, updates and lists triggers with parameters and annotations', async () => {
    expect(
      await ok('trigger', 'create', 'signup', '-p', 'source', 'web', '-a', 'description', 'New users'),
    ).toBe('ok: created trigger signup\n');
    const t = jsonAfterOk<Trigger>(await ok('trigger', 'get', 'signup'));
    expect(t).toMatchObject({ namespace: 'guest', name: 'signup' });
    expect(kv(t.parameters)).toEqual({ source: 'web' });
    expect(await ok('trigger', 'update', 'signup', '-p', 'source', 'api')).toBe(
      'ok: updated trigger signup\n',
    );
    expect(await ok('trigger', 'get', 'signup', 'parameters')).toBe(
      'ok: got trigger signup, displaying field parameters\n[\n    {\n        "key": "source",\n        "value": "api"\n    }\n]\n',
    );
    expect(await ok('trigger', 'get', 'signup', '-s')).toBe(
      'trigger /guest/signup: New users\n   (parameters: *source)\n',
    );
    expect(lines(await ok('trigger', 'list')).map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'triggers',
      '/guest/signup private',
    ]);
    const dup = await run('trigger', 'create', 'signup');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("Use 'whirl trigger update' to change it.");
  });

  it('fire without an active rule says that nothing ran (HTTP 204)', async () => {
    const r = await run('trigger', 'fire', 'signup');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'ok: triggered /_/signup, but no rule is active on it: nothing ran and no activation was recorded\n',
    );
    expect(r.stderr).toContain('whirl rule create RULE signup ACTION');
    const bad = await run('trigger', 'fire', 'signup', 'not-json');
    expect(bad.code).toBe(2);
  });

  it('fire → rule → action: the action gets the trigger parameters with the payload over them', async () => {
    expect(await ok('rule', 'create', 'onSignup', 'signup', 'greet')).toBe('ok: created rule onSignup\n');
    expect(await ok('rule', 'status', 'onSignup')).toBe('ok: rule onSignup is active\n');
    const fired = await ok('trigger', 'fire', 'signup', '{"user":"ann","source":"payload"}', '-p', 'n', '1');
    const m = /^ok: triggered \/_\/signup with id ([0-9a-f]{32})\n$/.exec(fired);
    expect(m, fired).not.toBeNull();
    // The trigger activation lists, per rule, the activation of its action.
    let record: Activation | undefined;
    await until(async () => {
      const r = await run('activation', 'get', m![1]!);
      if (r.code === 0) record = jsonAfterOk<Activation>(r.stdout);
      return record !== undefined;
    });
    const log = JSON.parse(record!.logs[0]!) as { success: boolean; activationId: string; rule: string };
    expect(log).toMatchObject({ success: true, rule: 'guest/onSignup', action: 'guest/greet' });
    let result: Record<string, unknown> | undefined;
    await until(async () => {
      const r = await run('activation', 'result', log.activationId);
      if (r.code === 0) result = JSON.parse(r.stdout) as Record<string, unknown>;
      return result !== undefined;
    });
    expect(result).toMatchObject({ source: 'payload', user: 'ann', n: 1 });
  });
});

describe('whirl rule', () => {
  it('disables, enables, updates, gets and lists rules; whirl list shows everything', async () => {
    expect(await ok('rule', 'disable', 'onSignup')).toBe('ok: disabled rule onSignup\n');
    expect(await ok('rule', 'status', 'onSignup')).toBe('ok: rule onSignup is inactive\n');
    expect(await ok('trigger', 'fire', 'signup')).toContain('no rule is active');
    expect(await ok('rule', 'enable', 'onSignup')).toBe('ok: enabled rule onSignup\n');
    expect(await ok('rule', 'update', 'onSignup', 'signup', 'other')).toBe('ok: updated rule onSignup\n');
    const rule = jsonAfterOk<Rule>(await ok('rule', 'get', 'onSignup'));
    expect(rule).toMatchObject({
      status: 'active',
      trigger: { path: 'guest', name: 'signup' },
      action: { path: 'guest', name: 'other' },
    });
    expect(await ok('rule', 'get', 'onSignup', '--summary')).toBe(
      'rule /guest/onSignup\n   (status: active)\n   (trigger: /guest/signup, action: /guest/other)\n',
    );
    expect(lines(await ok('rule', 'list')).map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'rules',
      '/guest/onSignup private active',
    ]);
    const all = lines(await ok('list', '-n')).map((l) => l.replace(/\s+/g, ' '));
    expect(all).toEqual([
      'Entities in namespace: guest',
      'packages',
      'actions',
      '/guest/greet private nodejs:20',
      '/guest/other private nodejs:20',
      'triggers',
      '/guest/signup private',
      'rules',
      '/guest/onSignup private active',
    ]);
  });

  it('explains rules that name missing triggers or actions, and deletes with --disable', async () => {
    const t = await run('rule', 'create', 'r2', 'nosuch', 'greet');
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^error: Unable to create rule 'r2': trigger \/guest\/nosuch does not exist/);
    expect(t.stderr).toContain('whirl trigger create nosuch');
    const a = await run('rule', 'create', 'r2', 'signup', 'nosuch');
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('action /guest/nosuch does not exist');
    expect((await run('rule', 'create', 'r2', 'signup')).code).toBe(2);
    expect(await ok('rule', 'delete', 'onSignup', '--disable')).toBe('ok: deleted rule onSignup\n');
    expect((await run('rule', 'get', 'onSignup')).code).toBe(1);
    expect(await ok('trigger', 'delete', 'signup')).toBe('ok: deleted trigger signup\n');
  });
});

describe('feeds: the built-in alarms provider through the CLI', () => {
  it('creates, reads, updates and deletes an interval alarm', async () => {
    const created = lines(
      await ok('trigger', 'create', 'every', '--feed', '/whisk.system/alarms/interval', '-p', 'minutes', '1'),
    );
    expect(created[0]).toMatch(
      /^ok: invoked \/whisk.system\/alarms\/interval \(CREATE\) with id [0-9a-f]{32}$/,
    );
    expect(created[1]).toBe('ok: created trigger every');

    const got = splitFeedGet(await ok('trigger', 'get', 'every'));
    // The trigger carries the feed, not the parameters: those went to the feed.
    expect(kv(got.trigger.annotations)).toEqual({ feed: '/whisk.system/alarms/interval' });
    expect(got.trigger.parameters).toEqual([]);
    expect(got.readLine).toMatch(/^ok: invoked \/whisk.system\/alarms\/interval \(READ\) with id /);
    expect(got.read).toMatchObject({ config: { name: 'every', minutes: 1 }, status: { active: true } });

    const updated = lines(await ok('trigger', 'update', 'every', '-p', 'minutes', '2'));
    expect(updated[0]).toMatch(/\(UPDATE\) with id /);
    expect(updated[1]).toBe('ok: updated trigger every');
    expect(splitFeedGet(await ok('trigger', 'get', 'every')).read).toMatchObject({ config: { minutes: 2 } });
    const badUpdate = await run('trigger', 'update', 'every', '-p', 'minutes', '0');
    expect(badUpdate.code).toBe(1);
    expect(badUpdate.stderr).toContain(
      "Unable to update trigger 'every': the feed /whisk.system/alarms/interval failed",
    );

    const deleted = lines(await ok('trigger', 'delete', 'every'));
    expect(deleted[0]).toMatch(/\(DELETE\) with id /);
    expect(deleted[1]).toBe('ok: deleted trigger every');
    expect((await run('trigger', 'get', 'every')).code).toBe(1);
  });

  it('-T sets trigger parameters and -F feed parameters, on create and on update', async () => {
    const feed = '/whisk.system/alarms/interval';
    await ok('trigger', 'create', 'split', '--feed', feed, '-F', 'minutes', '1', '-T', 'region', 'eu');
    let got = splitFeedGet(await ok('trigger', 'get', 'split'));
    expect(kv(got.trigger.parameters)).toEqual({ region: 'eu' });
    expect(got.read).toMatchObject({ config: { minutes: 1 } });
    expect(got.read.config).not.toHaveProperty('region');

    // -T alone changes only the trigger; -F alone only the feed (an UPDATE event).
    expect(lines(await ok('trigger', 'update', 'split', '-T', 'region', 'us'))).toEqual([
      'ok: updated trigger split',
    ]);
    const updated = lines(await ok('trigger', 'update', 'split', '--feed-param', 'minutes', '3'));
    expect(updated[0]).toMatch(/\(UPDATE\) with id /);
    got = splitFeedGet(await ok('trigger', 'get', 'split'));
    expect(kv(got.trigger.parameters)).toEqual({ region: 'us' });
    expect(got.read).toMatchObject({ config: { minutes: 3 } });

    const mixed = await run('trigger', 'update', 'split', '-p', 'minutes', '2', '-T', 'region', 'eu');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('either with -p/-P or with -T/-F');
    await ok('trigger', 'delete', 'split');

    const plain = await run('trigger', 'create', 'nofeed', '-F', 'minutes', '1');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('this trigger has none');
    await ok('trigger', 'create', 'nofeed', '-T', 'k', 'v');
    expect(kv(jsonAfterOk<Trigger>(await ok('trigger', 'get', 'nofeed')).parameters)).toEqual({ k: 'v' });
    await ok('trigger', 'delete', 'nofeed');
  });

  it('a 6-field cron alarm fires trigger → rule → action within seconds, and stops with the trigger', async () => {
    await ok(
      'trigger',
      'create',
      'tick',
      '--feed',
      '/whisk.system/alarms/alarm',
      '-p',
      'cron',
      '*/1 * * * * *',
      '-p',
      'trigger_payload',
      '{"from":"alarm"}',
    );
    await ok('rule', 'create', 'onTick', 'tick', 'greet');
    let ids: string[] = [];
    await until(async () => (ids = await activationsOf('greet')).length >= 2, 15_000, 500);
    const result = JSON.parse(await ok('activation', 'result', ids[0]!)) as Record<string, unknown>;
    expect(result).toMatchObject({ from: 'alarm' });

    await ok('trigger', 'delete', 'tick');
    await new Promise((r) => setTimeout(r, 1500)); // a fire already under way may still land
    const after = (await activationsOf('greet')).length;
    await new Promise((r) => setTimeout(r, 2500));
    expect((await activationsOf('greet')).length).toBe(after);
    await ok('rule', 'delete', 'onTick');
  });

  it('a feed that refuses leaves no trigger behind, and says why', async () => {
    const r = await run(
      'trigger',
      'create',
      'bad',
      '--feed',
      '/whisk.system/alarms/alarm',
      '-p',
      'cron',
      'nope',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Unable to create trigger 'bad': the feed \/whisk.system\/alarms\/alarm failed \(activation [0-9a-f]{32}\): .*cron/,
    );
    expect(r.stderr).toContain('The trigger was deleted again.');
    expect((await run('trigger', 'get', 'bad')).code).toBe(1);
    const missing = await run('trigger', 'create', 'bad', '--feed', '/whisk.system/alarms/nosuch');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such feed: 'whirl package get /whisk.system/alarms --summary'");
    expect((await run('trigger', 'get', 'bad')).code).toBe(1);
  });
});
