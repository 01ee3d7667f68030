// The entitlement matrix across two namespaces: for every resource and verb, what the owner may do, what a
// stranger may do with private entities, public packages and bindings — and that a stranger can never tell
// a private entity from a missing one.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { WHIRL_BIN } from '../helpers/standalone.js';
import { GENEROUS_LIMITS } from '../helpers/limits.js';

const G = '/api/v1/namespaces/guest';
const code = {
  exec: {
    kind: 'nodejs:20',
    code: 'function main(p) { return { ran: true, ns: process.env.__OW_NAMESPACE } }',
  },
};

describe('entitlement matrix (guest owns, alice is a stranger)', () => {
  let w: TestWhirl;
  let alice: string;
  beforeAll(async () => {
    w = await startTestWhirl({}, { guest: GENEROUS_LIMITS, alice: GENEROUS_LIMITS });
    alice = execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'user',
      'create',
      'alice',
      '--data-dir',
      w.dataDir,
    ])
      .toString()
      .trim();
    const put = async (path: string, body: unknown) =>
      expect((await w.call('PUT', path, body)).statusCode, path).toBe(200);
    await put(`${G}/actions/act`, code);
    await put(`${G}/packages/priv`, {});
    await put(`${G}/packages/pub`, { publish: true, parameters: [{ key: 'from', value: 'package' }] });
    await put(`${G}/actions/priv/act`, code);
    await put(`${G}/actions/pub/act`, code);
    await put(`${G}/packages/bind`, { binding: { namespace: 'guest', name: 'pub' } });
    await put(`${G}/triggers/trig`, {});
    await put(`${G}/rules/rul`, { trigger: '/guest/trig', action: '/guest/act' });
    await w.call('POST', `${G}/actions/act?blocking=true`);
  });
  afterAll(async () => w.cleanup());

  const as =
    (who: 'guest' | 'alice') => (method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) =>
      w.call(
        method,
        path,
        body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}),
        who === 'guest' ? undefined : alice,
      );

  it('lets the owner do everything with its own entities', async () => {
    const g = as('guest');
    expect((await g('GET', `${G}/actions/act`)).statusCode).toBe(200);
    expect((await g('GET', `${G}/packages/priv`)).statusCode).toBe(200);
    expect((await g('GET', `${G}/actions/bind/act`)).statusCode).toBe(200);
    expect((await g('POST', `${G}/actions/priv/act?blocking=true`)).statusCode).toBe(200);
    expect((await g('GET', `${G}/triggers/trig`)).statusCode).toBe(200);
    expect((await g('GET', `${G}/rules/rul`)).statusCode).toBe(200);
    expect((await g('GET', `${G}/activations`)).statusCode).toBe(200);
    expect((await g('GET', `${G}/limits`)).statusCode).toBe(200);
  });

  const forbiddenForAlice: [string, 'GET' | 'PUT' | 'POST' | 'DELETE', string][] = [
    ['action (default package)', 'GET', `${G}/actions/act`],
    ['action (default package)', 'PUT', `${G}/actions/act?overwrite=true`],
    ['action (default package)', 'POST', `${G}/actions/act?blocking=true`],
    ['action (default package)', 'DELETE', `${G}/actions/act`],
    ['action list', 'GET', `${G}/actions`],
    ['private package', 'GET', `${G}/packages/priv`],
    ['private package', 'PUT', `${G}/packages/priv?overwrite=true`],
    ['private package', 'DELETE', `${G}/packages/priv`],
    ['public package', 'PUT', `${G}/packages/pub?overwrite=true`],
    ['public package', 'DELETE', `${G}/packages/pub`],
    ['binding', 'GET', `${G}/packages/bind`],
    ['action in a private package', 'GET', `${G}/actions/priv/act`],
    ['action in a private package', 'POST', `${G}/actions/priv/act?blocking=true`],
    ['action in a public package', 'PUT', `${G}/actions/pub/act?overwrite=true`],
    ['action in a public package', 'DELETE', `${G}/actions/pub/act`],
    ['action through a binding', 'GET', `${G}/actions/bind/act`],
    ['action through a binding', 'POST', `${G}/actions/bind/act?blocking=true`],
    ['trigger', 'GET', `${G}/triggers/trig`],
    ['trigger', 'PUT', `${G}/triggers/trig?overwrite=true`],
    ['trigger', 'POST', `${G}/triggers/trig`],
    ['trigger', 'DELETE', `${G}/triggers/trig`],
    ['trigger list', 'GET', `${G}/triggers`],
    ['rule', 'GET', `${G}/rules/rul`],
    ['rule', 'PUT', `${G}/rules/rul?overwrite=true`],
    ['rule', 'POST', `${G}/rules/rul`],
    ['rule', 'DELETE', `${G}/rules/rul`],
    ['rule list', 'GET', `${G}/rules`],
    ['activation list', 'GET', `${G}/activations`],
    ['limits', 'GET', `${G}/limits`],
  ];

  it.each(forbiddenForAlice)('forbids a stranger: %s %s', async (_what, method, path) => {
    const r = await as('alice')(method, path);
    expect(r.statusCode, r.body).toBe(403);
    expect(r.json().error).toMatch(/^The supplied authentication is not authorized to access/);
  });

  it('never tells a stranger whether a private entity exists', async () => {
    const pairs: [string, string][] = [
      [`${G}/actions/act`, `${G}/actions/nope`],
      [`${G}/packages/priv`, `${G}/packages/nope`],
      [`${G}/actions/priv/act`, `${G}/actions/nope/act`],
      [`${G}/actions/priv/act`, `${G}/actions/priv/nope`],
      [`${G}/triggers/trig`, `${G}/triggers/nope`],
      [`${G}/rules/rul`, `${G}/rules/nope`],
    ];
    for (const [existing, missing] of pairs) {
      for (const method of ['GET', 'DELETE', 'POST'] as const) {
        const a = await as('alice')(method, existing);
        const b = await as('alice')(method, missing);
        // Packages take no POST (405), whoever asks; everything else is a 403 either way.
        const expected = method === 'POST' && existing.includes('/packages/') ? 405 : 403;
        expect([a.statusCode, b.statusCode], `${method} ${existing} vs ${missing}`).toEqual([
          expected,
          expected,
        ]);
        const shape = (m: string) => m.replace(/'[^']*'/, "'…'");
        expect(shape(a.json().error)).toBe(shape(b.json().error));
      }
    }
    const id = (await as('guest')('POST', `${G}/actions/act?blocking=true`)).json().activationId;
    expect((await as('alice')('GET', `${G}/activations/${id}`)).statusCode).toBe(403);
    expect((await as('alice')('GET', `${G}/activations/${'0'.repeat(32)}`)).statusCode).toBe(403);
  });

  it('lets a stranger read and invoke actions of a public package, as itself', async () => {
    expect((await as('alice')('GET', `${G}/packages/pub`)).statusCode).toBe(200);
    expect((await as('alice')('GET', `${G}/actions/pub/act`)).statusCode).toBe(200);
    const r = await as('alice')('POST', `${G}/actions/pub/act?blocking=true`);
    expect(r.statusCode).toBe(200);
    // The activation is the stranger's: in its namespace, readable by it, not by the package owner.
    expect(r.json()).toMatchObject({ namespace: 'alice', response: { result: { ran: true, ns: 'alice' } } });
    expect(
      (await as('alice')('GET', `/api/v1/namespaces/_/activations/${r.json().activationId}`)).statusCode,
    ).toBe(200);
    expect((await as('guest')('GET', `${G}/activations/${r.json().activationId}`)).statusCode).toBe(404);
  });

  it("shows a stranger only the owner's public, non-binding packages", async () => {
    const list = (await as('alice')('GET', `${G}/packages`)).json();
    expect(list.map((p: { name: string }) => p.name)).toEqual(['pub']);
  });

  it('lets a stranger bind a public package (and invoke through the binding), never a private one', async () => {
    const a = as('alice');
    expect(
      (await a('PUT', '/api/v1/namespaces/_/packages/mine', { binding: { namespace: 'guest', name: 'pub' } }))
        .statusCode,
    ).toBe(200);
    const r = await a('POST', '/api/v1/namespaces/_/actions/mine/act?blocking=true');
    expect(r.statusCode).toBe(200);
    expect(r.json().annotations).toContainEqual({ key: 'binding', value: 'alice/mine' });
    const priv = await a('PUT', '/api/v1/namespaces/_/packages/theirs', {
      binding: { namespace: 'guest', name: 'priv' },
    });
    expect(priv.statusCode).toBe(403);
    const missing = await a('PUT', '/api/v1/namespaces/_/packages/theirs', {
      binding: { namespace: 'guest', name: 'nope' },
    });
    expect(missing.statusCode).toBe(403);
  });

  it("does not let a stranger's rule point at the owner's trigger or action", async () => {
    const a = as('alice');
    await a('PUT', '/api/v1/namespaces/_/triggers/t', {});
    const r1 = await a('PUT', '/api/v1/namespaces/_/rules/r1', { trigger: '/_/t', action: '/guest/act' });
    expect(r1.statusCode).toBe(403);
    const r2 = await a('PUT', '/api/v1/namespaces/_/rules/r2', {
      trigger: '/guest/trig',
      action: '/guest/pub/act',
    });
    expect(r2.statusCode).toBe(403);
  });
});
