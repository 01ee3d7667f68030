/**
 * Apache OpenWhisk Composer (the `openwhisk-composer` npm package, pinned in package.json) against a real
 * `whirl standalone`: every combinator the package offers is compiled with `.compile()`, deployed with the
 * package's own client (`compositions.deploy`) and invoked blocking; results and error objects are the
 * ones Composer's docs (node_modules/openwhisk-composer/docs) say an OpenWhisk deployment returns. The
 * package's `compose` and `deploy` commands are run too, configured as users do: ~/.wskprops or
 * `__OW_API_HOST`/`__OW_API_KEY`.
 *
 * The functions below are shipped as source text (Composer stringifies them) and run inside the conductor
 * action, so they may use nothing from this file.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

/** The part of Composer's API these tests use: combinators build compositions, `compile()` encodes one. */
interface Composition {
  compile(): Record<string, unknown>;
}
type Combinator = (...args: unknown[]) => Composition;
type CombinatorName =
  | 'action'
  | 'async'
  | 'dowhile'
  | 'dowhile_nosave'
  | 'dynamic'
  | 'empty'
  | 'finally'
  | 'function'
  | 'if'
  | 'if_nosave'
  | 'let'
  | 'literal'
  | 'map'
  | 'mask'
  | 'merge'
  | 'par'
  | 'parallel'
  | 'repeat'
  | 'retain'
  | 'retain_catch'
  | 'retry'
  | 'seq'
  | 'sequence'
  | 'task'
  | 'try'
  | 'value'
  | 'while'
  | 'while_nosave';
const composer = require('openwhisk-composer') as Record<CombinatorName, Combinator> & {
  util: { version: string };
};
interface ComposerClient {
  compositions: { deploy(composition: Record<string, unknown>, overwrite: boolean): Promise<unknown[]> };
  actions: { create(o: { name: string; action: string }): Promise<unknown> };
}
const client = require('openwhisk-composer/client') as (o: {
  apihost: string;
  api_key: string;
}) => ComposerClient;

/** The version package.json pins (docs/compositions.md names it). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>;
  }
).devDependencies['openwhisk-composer']!;
const BIN = fileURLToPath(new URL('../../node_modules/.bin/', import.meta.url));

// Variables that `composer.let` declares: they exist inside the conductor, at run time, only.
declare let count: number, tries: number, x: number, n: number, b: number, k: number;

interface Params {
  n: number;
  value?: unknown;
  [key: string]: unknown;
}

let w: Whirl;
let wsk: ComposerClient;

async function api(method: string, path: string, body?: unknown) {
  const r = await fetch(`${w.url}/api/v1/namespaces/_${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(w.guestKey).toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await r.json();
  return { status: r.status, body: json as Record<string, unknown> };
}

let deployed = 0;
/** Deploys the composition under a fresh name and invokes it blocking: the HTTP status and the activation. */
async function invoke(composition: Composition, input: object = {}) {
  const name = `composition${++deployed}`;
  await wsk.compositions.deploy({ name, ...composition.compile() }, true);
  return api('POST', `/actions/${name}?blocking=true`, input);
}

/** The composition succeeded with exactly `result` (OpenWhisk's response shape: no size for compositions). */
async function expectResult(composition: Composition, input: object, result: unknown) {
  const r = await invoke(composition, input);
  expect(r.body.response, JSON.stringify(r.body)).toEqual({ status: 'success', success: true, result });
  expect(r.status).toBe(200);
  return r.body;
}

/** The composition failed with the error object `{error}`: an application error, 502 when blocking. */
async function expectError(composition: Composition, input: object, error: unknown) {
  const r = await invoke(composition, input);
  expect(r.body.response, JSON.stringify(r.body)).toEqual({
    status: 'application error',
    success: false,
    result: { error },
  });
  expect(r.status).toBe(502);
  return r.body;
}

beforeAll(async () => {
  w = await startWhirl();
  wsk = client({ apihost: w.url, api_key: w.guestKey });
  await wsk.actions.create({ name: 'inc', action: 'function main(p) { return { n: p.n + 1 } }' });
  await wsk.actions.create({
    name: 'fail',
    action: "function main() { return { error: 'failed on purpose' } }",
  });
  await wsk.actions.create({
    name: 'failmore',
    action: "function main() { return { error: 'KO', message: 'OK' } }",
  });
}, 60_000);
afterAll(async () => w?.cleanup());

// Each case deploys and cold-starts a new conductor action: generous time on a busy two-core machine.
const SLOW = { timeout: 120_000 };

describe(`Apache OpenWhisk Composer ${VERSION} on whirl standalone`, SLOW, () => {
  it('is the version package.json pins, exactly', () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(composer.util.version).toBe(VERSION);
  });

  it('action: a named action, an embedded definition, a fully qualified shared action', async () => {
    await expectResult(composer.action('inc'), { n: 1 }, { n: 2 });
    await expectResult(
      composer.action('square', { action: (p: Params) => ({ n: p.n * p.n }) }),
      { n: 7 },
      { n: 49 },
    );
    await expectResult(composer.action('/whisk.system/utils/echo'), { n: 3, s: 'x' }, { n: 3, s: 'x' });
    // A string is an action name, anywhere a composition is expected.
    await expectResult(composer.task('inc'), { n: 0 }, { n: 1 });
  });

  it('async: answers at once with the activation id; the spawned run keeps the let variables', async () => {
    const body = await invoke(
      composer.let(
        { x: 7 },
        composer.async((p: Params) => ({ got: x + p.n })),
      ),
      { n: 1 },
    );
    expect(body.status).toBe(200);
    const response = body.body.response as {
      result: { method: string; activationId: string; sessionId: string };
    };
    const { method, activationId, sessionId } = response.result;
    expect(method).toBe('async');
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    // The session is the composition's first conductor run (its __OW_ACTIVATION_ID).
    expect(sessionId).toBe((body.body.logs as string[])[0]);
    let spawned: { response?: { result: unknown } } = {};
    for (let i = 0; i < 100 && spawned.response === undefined; i++) {
      const r = await api('GET', `/activations/${activationId}`);
      if (r.status === 200) spawned = r.body;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(spawned.response?.result).toEqual({ got: 8 });
  });

  it('dynamic: invokes the action the input names; without type: action it is an error', async () => {
    await expectResult(composer.dynamic(), { type: 'action', name: 'inc', params: { n: 5 } }, { n: 6 });
    await expectError(
      composer.dynamic(),
      { name: 'inc', params: { n: 5 } },
      'Incorrect use of the dynamic combinator at AST node root',
    );
    await expectError(
      composer.seq('inc', composer.dynamic()),
      { n: 1 },
      'Incorrect use of the dynamic combinator at AST node root[1]',
    );
  });

  it('literal and value: constants, non-objects boxed as {value}, functions left out', async () => {
    await expectResult(composer.literal({ a: [1, 'two'] }), { n: 1 }, { a: [1, 'two'] });
    await expectResult(composer.value(42), {}, { value: 42 });
    await expectResult(composer.literal({ f: (p: unknown) => p, n: 42 }), {}, { n: 42 });
  });

  it('function: plain, given as a string, returning a promise, without a result, non-objects', async () => {
    await expectResult(
      composer.function((p: { x: number; y: number }) => ({ product: p.x * p.y })),
      { x: 3, y: 4 },
      { product: 12 },
    );
    await expectResult(
      composer.function('params => ({ sum: params.a + params.b })'),
      { a: 1, b: 2 },
      { sum: 3 },
    );
    await expectResult(
      composer.function(
        (p: Params) => new Promise((resolve) => setTimeout(() => resolve({ later: p.n }), 20)),
      ),
      { n: 9 },
      { later: 9 },
    );
    // No result: the (mutated) input goes on.
    await expectResult(
      composer.function((p: Params) => {
        p.n = 7;
      }),
      { n: 1 },
      { n: 7 },
    );
    await expectResult(
      composer.function(() => 'text'),
      {},
      { value: 'text' },
    );
    // Functions run in the conductor's runtime, with require().
    await expectResult(
      composer.function(() => ({ client: typeof require('openwhisk') })),
      {},
      { client: 'function' },
    );
  });

  it('function: a throw, a rejected promise and a function result are error objects', async () => {
    await expectError(
      composer.function(() => {
        throw new Error('boom');
      }),
      {},
      'Function combinator threw an exception at AST node root (see log for details)',
    );
    await expectError(
      composer.function(() => Promise.reject(new Error('later boom'))),
      {},
      'Function combinator threw an exception at AST node root (see log for details)',
    );
    await expectError(
      composer.function(() => () => 1),
      {},
      'Function combinator evaluated to a function type at AST node root',
    );
  });

  it('sequence, seq and empty: chained; an error stops the chain and keeps only its error field', async () => {
    await expectResult(
      composer.sequence('inc', 'inc', (p: Params) => ({ n: p.n * 10 })),
      { n: 0 },
      { n: 20 },
    );
    await expectResult(composer.seq(), { a: 1 }, { a: 1 });
    await expectResult(composer.empty(), { a: 2 }, { a: 2 });
    const failed = await expectError(composer.seq('inc', 'failmore', 'inc'), { n: 0 }, 'KO');
    // Conductor runs and components alike are in the logs: conductor, inc, conductor, failmore, conductor.
    expect(failed.logs).toHaveLength(5);
  });

  it('if and if_nosave', async () => {
    const even = (p: Params) => p.n % 2 === 0;
    const halve = (p: Params) => ({ half: p.n / 2 });
    const triple = (p: Params) => ({ triple: p.n * 3 });
    await expectResult(composer.if(even, halve, triple), { n: 4 }, { half: 2 });
    await expectResult(composer.if(even, halve, triple), { n: 3 }, { triple: 9 });
    await expectResult(composer.if(even, halve), { n: 3 }, { n: 3 });
    await expectError(composer.if('fail', halve, triple), { n: 4 }, 'failed on purpose');
    await expectResult(
      composer.if_nosave(
        (p: Params) => {
          p.value = p.n % 2 === 0;
        },
        (p: Params) => {
          p.n /= 2;
        },
      ),
      { n: 4 },
      { n: 2, value: true },
    );
  });

  it('while and while_nosave', async () => {
    await expectResult(
      composer.while(
        (p: Params) => p.n % 2 === 0,
        (p: Params) => {
          p.n /= 2;
        },
      ),
      { n: 28 },
      { n: 7 },
    );
    await expectResult(
      composer.while_nosave(
        (p: Params) => {
          p.value = p.n % 2 === 0;
        },
        (p: Params) => {
          p.n /= 2;
        },
      ),
      { n: 28 },
      { n: 7, value: false },
    );
    await expectError(
      composer.while(() => true, 'fail'),
      { n: 1 },
      'failed on purpose',
    );
  });

  it('dowhile and dowhile_nosave: the body runs at least once', async () => {
    await expectResult(
      composer.dowhile('inc', (p: Params) => p.n < 3),
      { n: 5 },
      { n: 6 },
    );
    await expectResult(
      composer.dowhile('inc', (p: Params) => p.n < 3),
      { n: 0 },
      { n: 3 },
    );
    await expectResult(
      composer.dowhile_nosave('inc', (p: Params) => ({ n: p.n, value: p.n < 3 })),
      { n: 0 },
      { n: 3, value: false },
    );
  });

  it('try: the handler gets the error object, and runs only on failure', async () => {
    await expectResult(
      composer.try('fail', (e: { error: string }) => ({ caught: e.error })),
      {},
      {
        caught: 'failed on purpose',
      },
    );
    await expectResult(
      composer.try('inc', () => ({ never: true })),
      { n: 1 },
      { n: 2 },
    );
    await expectResult(
      composer.try(
        () => {
          throw new Error('x');
        },
        (e: { error: string }) => ({ caught: e.error }),
      ),
      {},
      { caught: 'Function combinator threw an exception at AST node root.body (see log for details)' },
    );
  });

  it('finally: the finalizer runs after success and after failure', async () => {
    await expectResult(
      composer.finally('fail', (p: unknown) => ({ finalized: p })),
      {},
      {
        finalized: { error: 'failed on purpose' },
      },
    );
    await expectResult(
      composer.finally('inc', (p: Params) => ({ after: p.n })),
      { n: 1 },
      { after: 2 },
    );
    await expectError(composer.finally('inc', 'fail'), { n: 1 }, 'failed on purpose');
  });

  it('let: variables are read and written by the functions of its sequence', async () => {
    await expectResult(
      composer.let({ x: 5 }, (p: Params) => ({ sum: p.n + x })),
      { n: 1 },
      { sum: 6 },
    );
    await expectResult(
      composer.let(
        { count: 0 },
        () => {
          count++;
        },
        () => {
          count++;
        },
        () => ({ count }),
      ),
      {},
      { count: 2 },
    );
  });

  it('mask: hides the innermost let (the docs’ nested loops give 12)', async () => {
    const loop = (times: number, body: unknown) =>
      composer.let(
        { n: times },
        composer.while(() => n-- > 0, composer.mask(body)),
      );
    await expectResult(
      composer.let(
        { n: 0 },
        loop(
          3,
          loop(4, () => ++n),
        ),
      ),
      {},
      { value: 12 },
    );
  });

  it('retain and retain_catch', async () => {
    await expectResult(composer.retain('inc'), { n: 1 }, { params: { n: 1 }, result: { n: 2 } });
    await expectError(composer.retain('fail'), { n: 1 }, 'failed on purpose');
    await expectResult(
      composer.retain_catch('fail'),
      { n: 1 },
      {
        params: { n: 1 },
        result: { error: 'failed on purpose' },
      },
    );
  });

  it('merge: the result is merged into the input', async () => {
    await expectResult(
      composer.merge((p: Params) => ({ m: p.n * 2 })),
      { n: 3 },
      { n: 3, m: 6 },
    );
  });

  it('repeat: a counted loop', async () => {
    await expectResult(composer.repeat(3, 'inc'), { n: 0 }, { n: 3 });
    await expectResult(
      composer.let(
        { k: 0 },
        composer.repeat(4, () => {
          k++;
        }),
        () => ({ k }),
      ),
      {},
      { k: 4 },
    );
  });

  it('retry: retries a failing sequence up to count times', async () => {
    await expectResult(
      composer.let(
        { tries: 0 },
        composer.retry(2, () => (++tries < 3 ? { error: `try ${tries}` } : { tries })),
      ),
      {},
      { tries: 3 },
    );
    await expectError(
      composer.let(
        { tries: 0 },
        composer.retry(2, () => ({ error: `try ${++tries}` })),
      ),
      {},
      'try 3',
    );
  });

  it('nested: let inside try inside mask, compositions calling compositions, retry in try in finally', async () => {
    await expectResult(
      composer.let(
        { x: 1 },
        composer.mask(
          composer.try(
            composer.let({ b: 2 }, () => ({
              error: `b=${b}, x ${typeof x === 'undefined' ? 'masked' : 'seen'}`,
            })),
            (e: { error: string }) => ({ handled: e.error }),
          ),
        ),
        (p: Record<string, unknown>) => ({ ...p, x }),
      ),
      {},
      { handled: 'b=2, x masked', x: 1 },
    );
    // A composition invoking another deployed composition by name (a nested conductor).
    await wsk.compositions.deploy(
      { name: 'tripler', ...composer.seq((p: Params) => ({ n: p.n * 3 })).compile() },
      true,
    );
    const nested = await expectResult(
      composer.while(
        (p: Params) => p.n < 50,
        composer.if((p: Params) => p.n % 2 === 0, 'tripler', 'inc'),
      ),
      { n: 1 },
      { n: 54 },
    );
    expect(
      (nested.annotations as { key: string; value: unknown }[]).find((a) => a.key === 'conductor')?.value,
    ).toBe(true);
    await expectResult(
      composer.finally(
        composer.try(composer.retry(1, 'fail'), (e: { error: string }) => ({ recovered: e.error })),
        (p: Record<string, unknown>) => ({ ...p, done: true }),
      ),
      {},
      { recovered: 'failed on purpose', done: true },
    );
  });

  it('an action that does not exist is an error object the composition can catch', async () => {
    await expectError(
      composer.action('nope'),
      {},
      "Failed to resolve action with name 'guest/nope' during composition.",
    );
    await expectResult(
      composer.try('nope', (e: { error: string }) => ({ caught: e.error })),
      {},
      {
        caught: "Failed to resolve action with name 'guest/nope' during composition.",
      },
    );
  });

  it('parallel, par and map need Redis: without it they fail as in OpenWhisk', async () => {
    const noRedis = 'Parallel combinator requires a properly configured redis instance';
    await expectError(composer.parallel('inc', 'inc'), { n: 1 }, noRedis);
    await expectError(composer.par('inc'), { n: 1 }, noRedis);
    await expectError(composer.map('inc'), { value: [1, 2] }, noRedis);
  });
});

describe(`Composer ${VERSION}'s compose and deploy commands against Whirl`, SLOW, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'whirl-composer-'));
    writeFileSync(
      join(dir, 'demo.js'),
      `const composer = require('openwhisk-composer')
module.exports = composer.if(
  composer.action('authenticate', { action: function ({ password }) { return { value: password === 'abc123' } } }),
  composer.action('success', { action: function () { return { message: 'success' } } }),
  composer.action('failure', { action: function () { return { message: 'failure' } } }))
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A user's shell: a HOME of its own, and none of this test process's Whirl settings. */
  function shell(extra: Record<string, string> = {}) {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), ...extra };
  }

  it('compose compiles a composition module to JSON, deploy deploys it from ~/.wskprops', async () => {
    const json = join(dir, 'demo.json');
    await run(join(BIN, 'compose'), [join(dir, 'demo.js'), '-o', json], { env: shell() });
    const compiled = JSON.parse(readFileSync(json, 'utf8')) as {
      version: string;
      actions: { name: string }[];
    };
    expect(compiled.version).toBe(VERSION);
    expect(compiled.actions.map((a) => a.name)).toEqual(['/_/authenticate', '/_/success', '/_/failure']);

    const home = join(dir, 'home');
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home);
    writeFileSync(join(home, '.wskprops'), `APIHOST=${w.url}\nAUTH=${w.guestKey}\n`);
    const out = await run(join(BIN, 'deploy'), ['demo', json, '-w'], { env: shell() });
    expect(out.stdout.trim()).toBe('ok: created actions /_/authenticate,/_/success,/_/failure,/_/demo');

    const ok = await api('POST', '/actions/demo?blocking=true&result=true', { password: 'abc123' });
    expect(ok).toEqual({ status: 200, body: { message: 'success' } });
    const no = await api('POST', '/actions/demo?blocking=true&result=true', { password: 'guess' });
    expect(no).toEqual({ status: 200, body: { message: 'failure' } });
  });

  it('deploy takes the API host and key from __OW_API_HOST and __OW_API_KEY, and compose --js gives the conductor', async () => {
    const json = join(dir, 'demo.json');
    const out = await run(join(BIN, 'deploy'), ['demo2', json, '-w'], {
      env: shell({ HOME: join(dir, 'nowhere'), __OW_API_HOST: w.url, __OW_API_KEY: w.guestKey }),
    });
    expect(out.stdout.trim()).toBe('ok: created actions /_/authenticate,/_/success,/_/failure,/_/demo2');
    expect(await api('POST', '/actions/demo2?blocking=true&result=true', { password: 'abc123' })).toEqual({
      status: 200,
      body: { message: 'success' },
    });

    // The conductor code alone, deployed with Whirl's REST API and the conductor annotation, as the docs show.
    const js = await run(join(BIN, 'compose'), [join(dir, 'demo.js'), '--js'], { env: shell() });
    const put = await api('PUT', '/actions/demo3?overwrite=true', {
      exec: { kind: 'nodejs:default', code: js.stdout },
      annotations: [
        { key: 'conductor', value: true },
        { key: 'provide-api-key', value: true },
      ],
    });
    expect(put.status).toBe(200);
    expect(await api('POST', '/actions/demo3?blocking=true&result=true', { password: 'x' })).toEqual({
      status: 200,
      body: { message: 'failure' },
    });
  });
});
