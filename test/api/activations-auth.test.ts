import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { GUEST_KEY, WHIRL_BIN } from '../helpers/standalone.js';

const A = '/api/v1/namespaces/_/actions';
const ACT = '/api/v1/namespaces/_/activations';

describe('activations API', () => {
  let w: TestWhirl;
  const ids: string[] = [];
  let t0 = 0;
  beforeAll(async () => {
    w = await startTestWhirl();
    await w.call('PUT', `${A}/one`, {
      exec: {
        kind: 'nodejs:20',
        code: 'function main(p) { console.log("hi"); console.error("oops"); return { n: p.n } }',
      },
    });
    await w.call('PUT', `${A}/two`, { exec: { kind: 'nodejs:20', code: 'function main() { return {} }' } });
    t0 = Date.now();
    for (let n = 0; n < 3; n++) {
      ids.push((await w.call('POST', `${A}/one?blocking=true`, { n })).json().activationId);
      await new Promise((r) => setTimeout(r, 5));
    }
    ids.push((await w.call('POST', `${A}/two?blocking=true`)).json().activationId);
  });
  afterAll(async () => w.cleanup());

  it('lists summaries newest first, with a top-level statusCode and no result or logs', async () => {
    const list = (await w.call('GET', `${ACT}?limit=4`)).json();
    expect(list.map((a: { activationId: string }) => a.activationId)).toEqual([...ids].reverse());
    expect(list[0]).toMatchObject({ name: 'two', statusCode: 0, namespace: 'guest' });
    expect(list[0]).not.toHaveProperty('response');
    expect(list[0]).not.toHaveProperty('logs');
  });

  it('filters by name, since and upto, pages, counts, and returns docs on request', async () => {
    expect((await w.call('GET', `${ACT}?name=one`)).json()).toHaveLength(3);
    expect((await w.call('GET', `${ACT}?name=one&skip=1&limit=1`)).json()[0].activationId).toBe(ids[1]);
    expect((await w.call('GET', `${ACT}?count=true&name=two`)).json()).toEqual({ activations: 1 });
    expect((await w.call('GET', `${ACT}?since=${Date.now() + 60_000}`)).json()).toEqual([]);
    expect((await w.call('GET', `${ACT}?upto=${t0 - 1}`)).json()).toEqual([]);
    const docs = (await w.call('GET', `${ACT}?docs=true&name=one&limit=1`)).json();
    expect(docs[0].response.result).toEqual({ n: 2 });
  });

  it('rejects bad list parameters with the spec messages', async () => {
    expect((await w.call('GET', `${ACT}?count=true&docs=true`)).json().error).toBe(
      "The parameter 'docs' is not permitted with 'count'.",
    );
    expect((await w.call('GET', `${ACT}?name=a/b/c`)).json().error).toBe(
      "Parameter may be a 'simple' name or 'package-name/simple' name: a/b/c",
    );
    expect((await w.call('GET', `${ACT}?since=yesterday`)).json().error).toBe(
      'Parameter is not a valid value for epoch seconds: yesterday',
    );
    expect((await w.call('GET', `${ACT}?limit=300`)).statusCode).toBe(400);
  });

  it('serves one record, its logs and its result', async () => {
    const id = ids[0]!;
    const rec = (await w.call('GET', `${ACT}/${id}`)).json();
    expect(rec).toMatchObject({
      activationId: id,
      name: 'one',
      response: { status: 'success', result: { n: 0 } },
    });
    const logs = (await w.call('GET', `${ACT}/${id}/logs`)).json().logs;
    expect(logs).toHaveLength(2);
    expect(logs.some((l: string) => /^\d+-\d+-\d+T\d+:\d+:\d+\.\d+Z\s+stdout: hi$/.test(l))).toBe(true);
    expect(logs.some((l: string) => /^\d+-\d+-\d+T\d+:\d+:\d+\.\d+Z\s+stderr: oops$/.test(l))).toBe(true);
    const result = (await w.call('GET', `${ACT}/${id}/result`)).json();
    expect(result).toEqual({ result: { n: 0 }, success: true, status: 'success', size: 7 });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    for (const suffix of ['', '/logs', '/result']) {
      const r = await w.call('GET', `${ACT}/${'0'.repeat(32)}${suffix}`);
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe('The requested resource does not exist.');
    }
    expect((await w.call('GET', `${ACT}/xyz`)).statusCode).toBe(400);
  });
});

describe('authentication and entitlement', () => {
  let w: TestWhirl;
  let other: string;
  beforeAll(async () => {
    w = await startTestWhirl();
    other = execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'user',
      'create',
      'alice',
      '-ns',
      'alice',
      '--data-dir',
      w.dataDir,
    ])
      .toString()
      .trim();
    await w.call('PUT', `${A}/mine`, { exec: { kind: 'nodejs:20', code: 'function main() { return {} }' } });
  });
  afterAll(async () => w.cleanup());

  it('answers 401 without credentials or with wrong ones, with the challenge header', async () => {
    const none = await w.call('GET', '/api/v1/namespaces', undefined, null);
    expect(none.statusCode).toBe(401);
    expect(none.json().error).toBe(
      'The resource requires authentication, which was not supplied with the request',
    );
    expect(none.headers['www-authenticate']).toBe('Basic realm="OpenWhisk secure realm"');
    const wrongKey = `${GUEST_KEY.split(':')[0]}:${'z'.repeat(64)}`;
    for (const bad of [
      wrongKey,
      'nobody:nothing',
      `${'1'.repeat(8)}-1111-4111-8111-111111111111:${'a'.repeat(64)}`,
    ]) {
      const r = await w.call('GET', '/api/v1/namespaces', undefined, bad);
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toBe('The supplied authentication is invalid');
    }
  });

  it('lists exactly the caller namespace, and its effective limits', async () => {
    expect((await w.call('GET', '/api/v1/namespaces')).json()).toEqual(['guest']);
    expect((await w.call('GET', '/api/v1/namespaces', undefined, other)).json()).toEqual(['alice']);
    // alice has no overrides: the system defaults (guest's are raised for the tests).
    const limits = (await w.call('GET', '/api/v1/namespaces/_/limits', undefined, other)).json();
    expect(limits).toMatchObject({
      invocationsPerMinute: 60,
      concurrentInvocations: 30,
      firesPerMinute: 60,
      minActionMemory: 128,
      maxActionMemory: 512,
      maxActionTimeout: 300000,
      maxParameterSize: '1 MB',
    });
    expect((await w.call('GET', '/api/v1/namespaces/alice/limits')).statusCode).toBe(403);
    expect((await w.call('GET', '/api/v1/namespaces/_/limits')).json().invocationsPerMinute).toBe(100_000);
  });

  it("forbids another namespace's entities with 403, without saying whether they exist", async () => {
    const existing = await w.call('GET', '/api/v1/namespaces/guest/actions/mine', undefined, other);
    const missing = await w.call('GET', '/api/v1/namespaces/guest/actions/nothing-here', undefined, other);
    expect(existing.statusCode).toBe(403);
    expect(missing.statusCode).toBe(403);
    expect(existing.json().error).toBe(
      "The supplied authentication is not authorized to access 'guest/mine'.",
    );
    expect(missing.json().error).toBe(
      "The supplied authentication is not authorized to access 'guest/nothing-here'.",
    );
    for (const method of ['PUT', 'DELETE', 'POST'] as const) {
      expect((await w.call(method, '/api/v1/namespaces/guest/actions/mine', {}, other)).statusCode).toBe(403);
    }
    expect((await w.call('GET', '/api/v1/namespaces/guest/actions', undefined, other)).statusCode).toBe(403);
    expect((await w.call('GET', '/api/v1/namespaces/guest/activations', undefined, other)).statusCode).toBe(
      403,
    );
  });

  it("never shows one namespace's activations to another", async () => {
    const id = (await w.call('POST', `${A}/mine?blocking=true`)).json().activationId;
    expect(
      (await w.call('GET', `/api/v1/namespaces/guest/activations/${id}`, undefined, other)).statusCode,
    ).toBe(403);
    expect((await w.call('GET', `/api/v1/namespaces/_/activations/${id}`, undefined, other)).statusCode).toBe(
      404,
    );
  });

  it('sees a revoked key fail within seconds (admin writes from another process)', async () => {
    const temp = execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'user',
      'create',
      'tempuser',
      '--data-dir',
      w.dataDir,
    ])
      .toString()
      .trim();
    expect((await w.call('GET', '/api/v1/namespaces', undefined, temp)).statusCode).toBe(200);
    execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'user',
      'delete',
      'tempuser',
      '--data-dir',
      w.dataDir,
    ]);
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await w.call('GET', '/api/v1/namespaces', undefined, temp)).statusCode;
    }
    expect(status).toBe(401);
  });

  it('stores keys only hashed', async () => {
    const { readFileSync } = await import('node:fs');
    const db = readFileSync(join(w.dataDir, 'whirl.db'));
    expect(db.includes(Buffer.from(GUEST_KEY.split(':')[1]!))).toBe(false);
  });

  it('puts the envelope and X-Request-ID on errors, reusing a valid incoming request id', async () => {
    const r = await w.app.inject({
      method: 'GET',
      url: '/api/v1/namespaces/_/actions/nope',
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(r.headers['x-request-id']).toBe('trace-123');
    expect(r.json()).toEqual({
      error: 'The resource requires authentication, which was not supplied with the request',
      code: 'trace-123',
    });
    const unknownRoute = await w.call('GET', '/api/v1/nothing');
    expect(unknownRoute.statusCode).toBe(404);
    expect(unknownRoute.json().code).toBe(unknownRoute.headers['x-request-id']);
  });

  it('answers /ping and the info routes without credentials', async () => {
    expect((await w.app.inject({ url: '/ping' })).body).toBe('pong');
    const info = (await w.app.inject({ url: '/api/v1' })).json();
    expect(info).toMatchObject({
      api_version: '1.0.0',
      limits: { sequence_length: 50 },
      runtimes: { nodejs: [{ kind: 'nodejs:20', default: true }] },
    });
    expect(typeof info.sandbox.isolated).toBe('boolean');
  });

  it("answers GET / with OpenWhisk's controller info, key for key (tools parse every runtime entry)", async () => {
    const info = (await w.app.inject({ url: '/' })).json();
    expect(Object.keys(info).sort()).toEqual(['api_paths', 'description', 'limits', 'runtimes', 'support']);
    expect(Object.keys(info.limits).sort()).toEqual(
      [
        'actions_per_minute',
        'triggers_per_minute',
        'concurrent_actions',
        'sequence_length',
        ...['duration', 'memory', 'logs'].flatMap((x) => [
          `default_min_action_${x}`,
          `default_max_action_${x}`,
          `min_action_${x}`,
          `max_action_${x}`,
        ]),
      ].sort(),
    );
    expect(info.limits).toMatchObject({ min_action_memory: 128 * 1024 * 1024, max_action_duration: 300000 });
    expect(info.runtimes.blackboxes).toBeUndefined();
    for (const [family, versions] of Object.entries(info.runtimes as Record<string, unknown[]>)) {
      expect(versions.length, family).toBeGreaterThan(0);
      for (const v of versions as Record<string, unknown>[]) {
        expect(Object.keys(v).sort()).toEqual([
          'attached',
          'default',
          'deprecated',
          'image',
          'kind',
          'requireMain',
        ]);
        expect(typeof v.image).toBe('string');
        expect(typeof v.attached).toBe('boolean');
      }
    }
  });
});
