/**
 * `@openwhisk/wskdebug` against a real standalone Whirl, driven through its own modules (its CLI waits for
 * a debugger and Ctrl-C): it finds the runtime image of an action's kind in `GET /` (Whirl's runtimes
 * manifest), installs its agent over the action (with a backup copy) and, on shutdown, restores the
 * action exactly as it was — code, parameters, annotations, limits. In between, its agent runs: it hands
 * activations to the debugger and their results back.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhirlClient } from '../../src/cli/client.js';
import type { Action, KeyValue } from '../../src/cli/types.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

/** The parts of wskdebug (and the openwhisk client it uses) that this test drives. */
interface AgentMgr {
  peekAction(): Promise<Action>;
  readActionWithCode(): Promise<Action>;
  installAgent(invoker: unknown, debug: (...args: unknown[]) => void): Promise<void>;
  shutdown(): Promise<void>;
}
interface Invoker {
  getImageForKind(kind: string): Promise<string | undefined>;
  prepare(): Promise<void>;
  getImage(): string;
  getDebugKind(): string;
}
const require = createRequire(import.meta.url);
const wskdebugDir = require.resolve('@openwhisk/wskdebug/package.json').replace(/package\.json$/, '');
const AgentMgrClass = require(`${wskdebugDir}src/agentmgr.js`) as new (
  argv: object,
  wsk: unknown,
  name: string,
) => AgentMgr;
const InvokerClass = require(`${wskdebugDir}src/invoker.js`) as new (
  name: string,
  action: Action,
  argv: object,
  wskProps: object,
  wsk: unknown,
) => Invoker;
const openwhisk = createRequire(`${wskdebugDir}package.json`)('openwhisk') as (o: object) => unknown;

let w: Whirl;
let client: WhirlClient;
let wsk: unknown;

const CODE = `function main(p) { return { hello: p.name }; }`;

/** The action as a user sees it, without the fields every write changes. */
async function state(name: string): Promise<Omit<Action, 'updated' | 'version'>> {
  const { updated: _u, version: _v, ...rest } = await client.actions.get(name);
  return rest;
}

const kv = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));

beforeAll(async () => {
  w = await startWhirl();
  client = new WhirlClient({ apihost: w.url, auth: w.guestKey });
  wsk = openwhisk({ apihost: w.url, api_key: w.guestKey });
  await client.packages.put('dbgpkg', { parameters: [{ key: 'region', value: 'eu' }] });
  await client.actions.put('dbgpkg/dbg', {
    exec: { kind: 'nodejs:20', code: CODE, main: 'main' },
    parameters: [{ key: 'name', value: 'Ann' }],
    annotations: [
      { key: 'web-export', value: true },
      { key: 'custom', value: { nested: [1, 2] } },
    ],
    limits: { timeout: 7000, memory: 128, logs: 2, concurrency: 3 },
  });
});
afterAll(async () => {
  client?.close();
  await w?.cleanup();
});

describe('wskdebug against Whirl', () => {
  it("finds the action kind's image in Whirl's runtimes manifest (GET /)", async () => {
    const action = await client.actions.get('dbgpkg/dbg', { code: false });
    const invoker = new InvokerClass('dbgpkg/dbg', action, {}, { apihost: w.url, api_key: w.guestKey }, wsk);
    expect(await invoker.getImageForKind('nodejs:20')).toBe('whirl/nodejs20');
    expect(await invoker.getImageForKind('python:3')).toBe('whirl/python3');
    await invoker.prepare();
    expect(invoker.getImage()).toBe('whirl/nodejs20');
    expect(invoker.getDebugKind()).toBe('nodejs');
  });

  it('installs its agent over the action and restores the action exactly', async () => {
    const before = await state('dbgpkg/dbg');
    const mgr = new AgentMgrClass({}, wsk, 'dbgpkg/dbg');
    await mgr.peekAction();
    await mgr.readActionWithCode();
    await mgr.installAgent(undefined, () => undefined);

    // The agent is in place (concurrent, long timeout), and the original is kept as a backup copy.
    const agent = await client.actions.get('dbgpkg/dbg');
    expect(kv(agent.annotations)).toMatchObject({
      wskdebug: true,
      'provide-api-key': true,
      custom: { nested: [1, 2] },
    });
    expect(agent.limits).toMatchObject({ timeout: 300_000, concurrency: 200 });
    expect((agent.exec as { code: string }).code).not.toBe(CODE);
    const backup = await client.actions.get('dbgpkg/dbg_wskdebug_original');
    expect((backup.exec as { code: string }).code).toBe(CODE);

    await mgr.shutdown();
    expect(await state('dbgpkg/dbg')).toEqual(before);
    const result = await client.actions.invoke('dbgpkg/dbg', {}, { result: true });
    expect(result.body).toEqual({ hello: 'Ann' });
  });

  it('runs its agent: activations reach the debugger and its results reach the caller', async () => {
    const mgr = new AgentMgrClass({}, wsk, 'dbgpkg/dbg');
    await mgr.peekAction();
    await mgr.readActionWithCode();
    await mgr.installAgent(undefined, () => undefined);
    try {
      // The debugger waits on the agent; an ordinary invoke of the action is handed to it, and the
      // result it sends back is the invoke's result. All of it in one concurrent container, as on OpenWhisk.
      const waiting = client.actions.invoke('dbgpkg/dbg', { $waitForActivation: true }, { result: true });
      await new Promise((r) => setTimeout(r, 500));
      const caller = client.actions.invoke('dbgpkg/dbg', { name: 'Bo' }, { result: true });
      const handed = (await waiting).body as Record<string, unknown>;
      expect(handed).toMatchObject({ name: 'Bo' });
      expect(handed.$activationId).toMatch(/^[0-9a-f]{32}$/);
      const done = await client.actions.invoke(
        'dbgpkg/dbg',
        { $activationId: handed.$activationId, debugged: 'yes' },
        { result: true },
      );
      expect(done.body).toEqual({ message: `completed activation ${String(handed.$activationId)}` });
      // The completion is an invoke of the agent too, so the action's parameters come along (as on OpenWhisk).
      expect((await caller).body).toMatchObject({ debugged: 'yes' });

      // A condition that does not hit runs the original through `require('openwhisk')` and the action's key.
      const original = await client.actions.invoke(
        'dbgpkg/dbg',
        { name: 'Cy', $condition: "name === 'nobody'" },
        { result: true },
      );
      expect(original.body).toEqual({ hello: 'Cy' });
    } finally {
      await mgr.shutdown();
    }
  });

  it('recovers when started again over an agent left behind (a killed session)', async () => {
    const before = await state('dbgpkg/dbg');
    const first = new AgentMgrClass({}, wsk, 'dbgpkg/dbg');
    await first.peekAction();
    await first.readActionWithCode();
    await first.installAgent(undefined, () => undefined);
    // No shutdown: a second session finds the agent and restores from the backup.
    const second = new AgentMgrClass({ cleanup: true }, wsk, 'dbgpkg/dbg');
    const seen = await second.peekAction();
    expect(kv(seen.annotations).wskdebug).toBeUndefined();
    await second.readActionWithCode();
    expect(await state('dbgpkg/dbg')).toEqual(before);
    await second.installAgent(undefined, () => undefined);
    await second.shutdown();
    expect(await state('dbgpkg/dbg')).toEqual(before);
    // --cleanup removed the backup copy.
    expect((await client.actions.list({ pkg: 'dbgpkg' })).map((a) => a.name)).toEqual(['dbg']);
  });
});
