/**
 * The Node.js runtime ships the `openwhisk` npm client, as OpenWhisk's does: a plain action calls
 * `require('openwhisk')()` and invokes another action through the API relayed into its sandbox, with the
 * key it gets from `provide-api-key`. Run against `whirl standalone` with isolated process sandboxes, and
 * with the docker backend when Docker is up.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeDocker } from '../../src/sandbox/docker/testing/docker-available.js';
import { makeZip } from '../helpers/archive-writer.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

const docker = await probeDocker();
if (!docker.ok) console.warn(`the docker half of this file is skipped: ${docker.reason}`);
const root = process.getuid?.() === 0;
/** The version package.json pins (exactly: the build refuses a range) is the one actions get. */
const PINNED = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
  }
).dependencies.openwhisk;

async function api(w: Whirl, method: string, path: string, body?: unknown) {
  const r = await fetch(`${w.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(w.guestKey).toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await r.json();
  return { status: r.status, body: json };
}

async function create(w: Whirl, name: string, code: string, extra: Record<string, unknown> = {}) {
  const r = await api(w, 'PUT', `/namespaces/_/actions/${name}?overwrite=true`, {
    exec: { kind: 'nodejs:20', code }, // (a zip is base64: Whirl tells binary code from its form)
    ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const invoke = (w: Whirl, name: string, params: object = {}) =>
  api(w, 'POST', `/namespaces/_/actions/${name}?blocking=true&result=true`, params);

const CALLER = `const openwhisk = require('openwhisk');
async function main(p) {
  const ow = openwhisk(); // __OW_API_HOST and __OW_API_KEY, nothing else
  const inner = await ow.actions.invoke({ name: 'double', blocking: true, result: true, params: { n: p.n } });
  return { inner, client: require('openwhisk/package.json').version };
}`;

// A zip that brings its own `openwhisk`: the action's node_modules win over the runtime's.
const OWN_CLIENT = makeZip([
  { name: 'index.js', data: "exports.main = () => ({ which: require('openwhisk').which });" },
  { name: 'node_modules/openwhisk/package.json', data: '{"name":"openwhisk","main":"main.js"}' },
  { name: 'node_modules/openwhisk/main.js', data: "exports.which = 'the action\\'s own';" },
]).toString('base64');
// A zip without node_modules gets the runtime's.
const RUNTIME_CLIENT = makeZip([
  {
    name: 'index.js',
    data: "exports.main = () => ({ version: require('openwhisk/package.json').version });",
  },
]).toString('base64');

function suite(args: string[]) {
  let w: Whirl;
  beforeAll(async () => {
    w = await startWhirl({ args });
    const info = (await api(w, 'GET', '')).body as { sandbox: { backend: string; isolated: boolean } };
    // The point is that it works in a real sandbox: read-only system view, own network, API relayed.
    if (root) expect(info.sandbox.isolated, JSON.stringify(info.sandbox)).toBe(true);
    await create(w, 'double', 'function main(p) { return { n: p.n * 2 } }');
    await create(w, 'caller', CALLER, { annotations: [{ key: 'provide-api-key', value: true }] });
  }, 180_000);
  afterAll(async () => w?.cleanup());

  it('invokes another action with require("openwhisk")() and returns its result', async () => {
    const r = await invoke(w, 'caller', { n: 21 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ inner: { n: 42 }, client: PINNED });
  });

  it('gives the client no key without provide-api-key, as OpenWhisk does', async () => {
    await create(
      w,
      'keyless',
      "function main() { try { require('openwhisk')(); return { made: true } } catch (e) { return { refused: e.message } } }",
    );
    const r = await invoke(w, 'keyless');
    expect(r.status).toBe(200);
    expect((r.body as { refused: string }).refused).toMatch(/api_key/);
  });

  it("lets a zip action's own node_modules take precedence over the runtime's", async () => {
    await create(w, 'own-client', OWN_CLIENT);
    expect((await invoke(w, 'own-client')).body).toEqual({ which: "the action's own" });
    await create(w, 'runtime-client', RUNTIME_CLIENT);
    expect((await invoke(w, 'runtime-client')).body).toEqual({ version: PINNED });
  });
}

describe('require("openwhisk") in a nodejs action, process sandboxes', () => suite([]));

describe.skipIf(!docker.ok)(
  `require("openwhisk") in a nodejs action, docker sandboxes${docker.ok ? '' : ` (skipped: ${docker.reason})`}`,
  () => suite(['--sandbox', 'docker']),
);
