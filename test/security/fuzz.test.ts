// Throws generated hostile requests at every route of a running Whirl and checks the platform's promises:
// no 5xx, no crash, the error envelope on every refusal, and nothing written by a refused request.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { GUEST_KEY } from '../helpers/standalone.js';

const RUNS = Number(process.env.WHIRL_FUZZ_RUNS ?? 3000);

/** Everything a refused request must leave untouched. */
async function snapshot(w: TestWhirl): Promise<string> {
  const h = createHash('sha256');
  for (const ns of ['guest', 'whisk.system']) {
    for (const type of ['action', 'package', 'trigger', 'rule'] as const) {
      h.update(JSON.stringify(await w.store.listEntities(ns, type, { skip: 0, limit: 10_000 })));
    }
    h.update(JSON.stringify((await w.store.getLimits(ns)) ?? null));
  }
  h.update(JSON.stringify((await w.store.listIdentities()).map((i) => [i.uuid, i.keyHash, i.blocked])));
  return h.digest('hex');
}

const name = fc.oneof(
  fc.constantFrom('hello', 'pkg', 'pkg/hello', 'missing', '_', 'default', 'a b', 'TWICE'),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2F',
    'a%2Fb',
    '%00',
    '%ZZ',
    '~',
    '\u00e9t\u00e9',
    '\u{1F600}',
    ' ',
    '%20x',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.integer({ min: 250, max: 300 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 8 }).map(encodeURIComponent),
);

const collection = fc.constantFrom(
  'actions',
  'packages',
  'triggers',
  'rules',
  'activations',
  'limits',
  'nothing',
);
const namespace = fc.constantFrom('_', 'guest', 'whisk.system', 'alice', 'no..ns', '%2F', '');

const path = fc.oneof(
  fc
    .tuple(namespace, collection, fc.array(name, { maxLength: 3 }), fc.boolean())
    .map(
      ([ns, c, rest, slash]) =>
        `/api/v1/namespaces/${ns}/${c}${rest.length ? `/${rest.join('/')}` : ''}${slash ? '/' : ''}`,
    ),
  fc.tuple(namespace, name, name).map(([ns, p, a]) => `/api/v1/web/${ns}/${p}/${a}`),
  fc.constantFrom(
    '/',
    '/ping',
    '/api/v1',
    '/api/v1/',
    '/api/v1/namespaces',
    '/api',
    '/api/v2',
    '/invokers',
    '//',
    '/api/v1/namespaces/_/activations/0123456789abcdef0123456789abcdef/logs',
  ),
);

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'limit',
        'skip',
        'count',
        'docs',
        'blocking',
        'result',
        'timeout',
        'overwrite',
        'code',
        'name',
        'since',
        'upto',
        'force',
        'x',
      ),
      fc.oneof(
        fc.constantFrom('true', 'false', '0', '-1', '201', '1e9', 'NaN', '', '99999999999999999999', 'a/b/c'),
        fc.string({ maxLength: 6 }),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '',
  );

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const body = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '{',
    '{"exec":',
    'null',
    '[]',
    '"x"',
    '42',
    '{"exec":{"kind":"nodejs:20"}}',
    '{"exec":{"kind":"cobol","code":"x"}}',
    '{"exec":{"kind":"nodejs:20","code":7}}',
  ),
  fc.constantFrom(
    `{"a":${nested(600)}}`,
    nested(100_000),
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
  ),
  fc.constantFrom(
    '{"parameters":"nope"}',
    '{"limits":{"memory":"lots"}}',
    '{"limits":{"timeout":-1}}',
    '{"annotations":[{"value":1}]}',
    '{"status":"maybe"}',
    '{"binding":{"namespace":1}}',
  ),
  fc.constantFrom(
    '{"exec":{"kind":"nodejs:20","code":"UEsDBAo=","binary":true}}',
    '{"exec":{"kind":"blackbox","image":""}}',
    '{"trigger":"/_/t","action":7}',
  ),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

const auth = fc.constantFrom(
  basic(GUEST_KEY),
  undefined,
  'Basic',
  'Basic !!!',
  `Basic ${Buffer.from(':').toString('base64')}`,
  `Basic ${Buffer.from(`${GUEST_KEY.split(':')[0]}:wrong`).toString('base64')}`,
  `Basic ${Buffer.from(`${'x'.repeat(5000)}:y`).toString('base64')}`,
  'Bearer abc',
);

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=latin1',
);

describe('fuzzing every route with hostile requests', () => {
  let w: TestWhirl;
  let cases = 0;
  beforeAll(async () => {
    w = await startTestWhirl();
    const put = (p: string, b: unknown) => w.call('PUT', p, b);
    await put('/api/v1/namespaces/_/actions/hello', {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return p }' },
    });
    await put('/api/v1/namespaces/_/packages/pkg', {});
    await put('/api/v1/namespaces/_/actions/pkg/hello', {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return p }' },
    });
  });
  afterAll(async () => {
    // The figure the issue asks for: how many generated requests ran.
    console.log(`fuzz: ${cases} generated requests, none answered 5xx or broke the envelope`);
    await w.cleanup();
  });

  it('never answers 5xx, always uses the envelope, and writes nothing when it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
        path,
        query,
        body,
        auth,
        contentType,
        async (method, p, q, b, a, ct) => {
          cases++;
          const before = await snapshot(w);
          const r = await w.app.inject({
            method: method as 'GET',
            url: p + q,
            headers: {
              ...(a === undefined ? {} : { authorization: a }),
              ...(ct === undefined ? {} : { 'content-type': ct }),
            },
            ...(b === undefined ? {} : { payload: b }),
          });
          expect(r.statusCode, `${method} ${p}${q} -> ${r.statusCode} ${r.body.slice(0, 300)}`).toBeLessThan(
            500,
          );
          expect(r.headers['x-request-id']).toBeTruthy();
          if (r.statusCode >= 400 && method !== 'HEAD') {
            const envelope = r.json<{ error: unknown; code: unknown }>();
            expect(typeof envelope.error).toBe('string');
            expect(envelope.code).toBe(r.headers['x-request-id']);
            expect(await snapshot(w)).toBe(before);
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect((await w.app.inject({ url: '/ping' })).body).toBe('pong');
  }, 600_000);
});
