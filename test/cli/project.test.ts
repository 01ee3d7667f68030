/**
 * End to end: `whirl project deploy|sync|undeploy|export` with wskdeploy manifests against a real
 * standalone Whirl, through the compiled CLI: what is deployed runs (actions, a zipped folder, a sequence,
 * an API route, a rule), a redeploy changes nothing, sync removes what the manifest dropped, undeploy
 * removes the rest, an export deploys back to the same entities, bad manifests deploy nothing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhirlClient } from '../../src/cli/client.js';
import type { Entity, KeyValue } from '../../src/cli/types.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli, until } from './run-cli.js';

let w: Whirl;
let dir: string;
let client: WhirlClient;

function file(name: string, content: string): string {
  const f = join(dir, name);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, content);
  return f;
}

const run = (args: string[], env: Record<string, string> = {}) =>
  cli({ ...w.env, ...env }, args, { cwd: dir, timeoutMs: 60_000 });

async function ok(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const r = await run(args, env);
  expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

const kv = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));

const HELLO = `function main(p) { return { greeting: (p.greeting || 'hello') + ' ' + p.name, region: p.region }; }`;
const UPPER = `function main(p) { return { greeting: String(p.greeting).toUpperCase() }; }`;

const MANIFEST = `
project:
  name: shop
  packages:
    shop:
      inputs:
        region: eu
      actions:
        hello:
          function: src/hello.js
          inputs:
            name: $WHO
            greeting: \${GREETING}
            port:
              type: integer
              value: $PORT
          limits:
            timeout: 3000
            memorySize: 128
        upper:
          function: src/upper
          runtime: nodejs:20
        page:
          function: src/hello.js
          web: true
      sequences:
        shout:
          actions: hello, upper
      triggers:
        order:
          inputs:
            name: trigger
      rules:
        on-order:
          trigger: order
          action: hello
      apis:
        shop-api:
          shop:
            hello:
              page:
                method: GET
                response: json
`;

const ENV = { WHO: 'Ann', GREETING: 'hi', PORT: '8080' };

/**
 * Everything in the namespace, by kind and name, without what every write changes (`updated`, `version`,
 * also in a package's list of its actions) and with a package's actions in name order.
 */
async function snapshot(): Promise<Record<string, unknown>> {
  const strip = (e: Entity) =>
    JSON.parse(
      JSON.stringify(e, (k, v: unknown) => {
        if (k === 'updated' || k === 'version') return undefined;
        if ((k === 'actions' || k === 'feeds') && Array.isArray(v))
          return [...(v as { name: string }[])].sort((a, b) => a.name.localeCompare(b.name));
        return v;
      }),
    ) as Entity;
  const actions = await client.actions.list({ limit: 200 });
  const full = await Promise.all(
    actions.map(async (a) => {
      const name = a.namespace.includes('/') ? `${a.namespace.split('/')[1]}/${a.name}` : a.name;
      return [name, strip(await client.actions.get(name))] as const;
    }),
  );
  const byName = async (list: Entity[], get: (n: string) => Promise<Entity>) =>
    Object.fromEntries(await Promise.all(list.map(async (e) => [e.name, strip(await get(e.name))] as const)));
  return {
    actions: Object.fromEntries(full),
    packages: await byName(await client.packages.list(), (n) => client.packages.get(n)),
    triggers: await byName(await client.triggers.list(), (n) => client.triggers.get(n)),
    rules: await byName(await client.rules.list(), (n) => client.rules.get(n)),
    apis: (await client.apis.listAll()).map((a) =>
      a.routes.map((r) => `${r.method} ${a.basePath}${r.path} ${r.action}`),
    ),
  };
}

async function names(): Promise<string[]> {
  const out = await ok(['list']);
  return out.stdout
    .split('\n')
    .filter((l) => l.startsWith('/guest/'))
    .map((l) => l.split(/\s+/)[0]!);
}

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-project-'));
  client = new WhirlClient({ apihost: w.url, auth: w.guestKey });
  file('src/hello.js', HELLO);
  file('src/upper/index.js', `exports.main = ${UPPER.replace('function main', 'function')};`);
  file('src/upper/package.json', '{"name":"upper","main":"index.js"}');
  file('manifest.yaml', MANIFEST);
});
afterAll(async () => {
  client?.close();
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whirl project', () => {
  it('previews the plan and changes nothing', async () => {
    const { stdout } = await ok(['project', 'deploy', '--preview'], ENV);
    expect(stdout).toContain('create package shop');
    expect(stdout).toContain('create action shop/upper (src/upper zipped: 2 files');
    expect(stdout).toContain('create API route GET /shop/hello (API shop-api → shop/page, json)');
    expect(await names()).toEqual([]);
  });

  it('deploys every entity, with $VAR inputs from the environment, and they run', async () => {
    const { stdout } = await ok(['project', 'deploy'], ENV);
    expect(stdout).toMatch(
      /ok: deployed project shop: 1 package, 3 actions, 1 sequence, 1 API route, 1 trigger, 1 rule/,
    );
    const hello = await client.actions.get('shop/hello');
    expect(kv(hello.parameters)).toMatchObject({ name: 'Ann', greeting: 'hi', port: 8080, region: 'eu' });
    expect(hello.limits).toMatchObject({ timeout: 3000, memory: 128 });
    expect(kv(hello.annotations)['whisk-managed']).toMatchObject({
      projectName: 'shop',
      file: 'manifest.yaml',
      projectDeps: [],
    });

    const invoke = async (name: string) => (await client.actions.invoke(name, {}, { result: true })).body;
    expect(await invoke('shop/hello')).toEqual({ greeting: 'hi Ann', region: 'eu' });
    expect(await invoke('shop/upper')).toEqual({ greeting: 'UNDEFINED' });
    expect(await invoke('shop/shout')).toEqual({ greeting: 'HI ANN' });
    const web = await fetch(`${w.url}/api/gw/guest/shop/hello`);
    expect(await web.json()).toMatchObject({ greeting: 'hello undefined', region: 'eu' });
    // The rule runs hello when the trigger fires.
    const since = Date.now();
    await ok(['trigger', 'fire', 'order']);
    await until(
      async () => (await client.activations.list({ name: 'shop/hello', since })).length > 0,
      15_000,
    );
  });

  it('redeploys to exactly the same entities', async () => {
    const before = await snapshot();
    await ok(['project', 'deploy'], ENV);
    expect(await snapshot()).toEqual(before);
    const { stdout } = await ok(['project', 'deploy', '--preview'], ENV);
    expect(stdout).not.toContain('create ');
  });

  it('takes inputs from a deployment file next to the manifest', async () => {
    file(
      'deployment.yaml',
      'project:\n  name: shop\n  packages:\n    shop:\n      actions:\n        hello:\n          inputs:\n            name: Deployed\n',
    );
    try {
      await ok(['project', 'deploy'], ENV);
      expect(kv((await client.actions.get('shop/hello')).parameters).name).toBe('Deployed');
    } finally {
      rmSync(join(dir, 'deployment.yaml'));
    }
    await ok(['project', 'deploy'], ENV);
  });

  it('exports a manifest that deploys back to the same entities', async () => {
    const before = await snapshot();
    await ok(['project', 'export', '--projectname', 'shop', '-m', 'exported/manifest.yaml']);
    const exported = readFileSync(join(dir, 'exported', 'manifest.yaml'), 'utf8');
    expect(exported).toContain('name: shop');
    expect(exported).not.toContain('whisk-managed');
    await ok(['project', 'undeploy', '--projectname', 'shop']);
    expect(await names()).toEqual([]);
    await ok(['project', 'deploy', '-m', 'exported/manifest.yaml']);
    const after = await snapshot();
    // Only the project hash and the manifest's path differ: code (the zipped folder too), parameters,
    // annotations and limits are the same.
    const unmanaged = (s: Record<string, unknown>) =>
      JSON.parse(
        JSON.stringify(s, (k, v: unknown) => (k === 'projectHash' || k === 'file' ? undefined : v)),
      ) as unknown;
    expect(unmanaged(after)).toEqual(unmanaged(before));
    await ok(['project', 'deploy'], ENV);
  });

  it('syncs: removes what the manifest no longer lists, keeps what it does', async () => {
    const smaller = MANIFEST.replace(/ {6}sequences:\n(?: {8}.*\n)+/, '')
      .replace(/ {6}rules:\n(?: {8}.*\n)+/, '')
      .replace(/ {6}apis:\n(?: {8}.*\n)+/, '')
      .replace(/ {8}page:\n(?: {10}.*\n)+/, '');
    file('smaller.yaml', smaller);
    const preview = await ok(['project', 'sync', '-m', 'smaller.yaml', '--preview'], ENV);
    expect(preview.stdout).toContain('remove sequence shop/shout');
    expect(await names()).toContain('/guest/shop/shout');

    // An entity of another project with a name the manifest does not list is not touched.
    file(
      'other.yaml',
      'project:\n  name: other\n  packages:\n    other:\n      actions:\n        keep:\n          function: src/hello.js\n',
    );
    await ok(['project', 'deploy', '-m', 'other.yaml']);

    const { stdout } = await ok(['project', 'sync', '-m', 'smaller.yaml'], ENV);
    expect(stdout).toMatch(/removed 1 rule, 1 API route, 1 sequence, 1 action/);
    expect((await names()).sort()).toEqual(
      [
        '/guest/other',
        '/guest/other/keep',
        '/guest/shop',
        '/guest/shop/hello',
        '/guest/shop/upper',
        '/guest/order',
      ].sort(),
    );
    expect(await client.apis.listAll()).toEqual([]);
  });

  it('undeploys the manifest, leaving other projects alone', async () => {
    const { stdout } = await ok(['project', 'undeploy', '-m', 'smaller.yaml']);
    expect(stdout).toMatch(/ok: undeployed project shop/);
    expect((await names()).sort()).toEqual(['/guest/other', '/guest/other/keep']);
    await ok(['project', 'undeploy', '--projectname', 'other']);
    expect(await names()).toEqual([]);
  });

  it('refuses a bad manifest with the file, line and key of each problem, and deploys nothing', async () => {
    file(
      'bad.yaml',
      'packages:\n  bad:\n    actions:\n      a:\n        function: src/missing.js\n      b:\n        function: src/hello.js\n        limits:\n          memorySize: lots\n',
    );
    const r = await run(['project', 'deploy', '-m', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "bad.yaml:5: packages.bad.actions.a.function: 'src/missing.js' does not exist",
    );
    expect(r.stderr).toContain(
      'bad.yaml:9: packages.bad.actions.b.limits.memorySize: must be a positive whole number',
    );
    expect(await names()).toEqual([]);
    const syntax = await run(['project', 'deploy', '-m', file('syntax.yaml', 'packages:\n  p: [\n')]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/syntax\.yaml:\d+: not valid YAML/);
  });

  it('says what was deployed before a failure, and what was not', async () => {
    file(
      'failing.yaml',
      'project:\n  name: failing\n  packages:\n    f:\n      actions:\n        a:\n          function: src/hello.js\n      rules:\n        r:\n          trigger: nosuchtrigger\n          action: a\n',
    );
    const r = await run(['project', 'deploy', '-m', 'failing.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ok: deployed action f/a');
    expect(r.stderr).toContain('Unable to deploy rule r: trigger /guest/nosuchtrigger does not exist');
    expect(r.stderr).toContain('Deployed before the failure (2): package f, action f/a.');
    await ok(['project', 'undeploy', '--projectname', 'failing']);
    expect(await names()).toEqual([]);
  });

  it('deploys a trigger fed by the alarms feed, and undeploy tells the feed', async () => {
    file(
      'alarm.yaml',
      'project:\n  name: ticker\n  packages:\n    default:\n      triggers:\n        tick:\n          feed: /whisk.system/alarms/interval\n          inputs:\n            minutes: 10\n',
    );
    const { stdout } = await ok(['project', 'deploy', '-m', 'alarm.yaml']);
    expect(stdout).toContain('ok: deployed trigger tick (fed by /whisk.system/alarms/interval)');
    const read = await ok(['trigger', 'get', 'tick']);
    expect(read.stdout).toMatch(/minutes/);
    await ok(['project', 'deploy', '-m', 'alarm.yaml']);
    await ok(['project', 'undeploy', '-m', 'alarm.yaml']);
    expect(await names()).toEqual([]);
  });
});
