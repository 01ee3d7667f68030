/**
 * Adobe's `@adobe/aio-lib-runtime` (what `aio runtime deploy` runs) against a real standalone Whirl, with
 * a wskdeploy manifest: its deploy (processPackage + deployPackage), sync (syncProject), report
 * (getProjectEntities), undeploy (undeployPackage) and API listing (the openwhisk client's routes). The
 * whisk-managed annotations it writes and those `whirl project` writes are the same, so each tool finds
 * and removes what the other deployed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhirlClient } from '../../src/cli/client.js';
import type { KeyValue } from '../../src/cli/types.js';
import { cli } from '../cli/run-cli.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

/** The part of aio-lib-runtime this test drives (it ships no types for these helpers). */
interface Entities {
  pkgAndDeps: { name: string }[];
  actions: { name: string }[];
  triggers: { name: string }[];
  rules: { name: string }[];
  apis: { name: string; basepath: string; relpath: string; operation?: string }[];
}
interface Ow {
  routes: {
    list(
      o?: object,
    ): Promise<{ apis: { value: { apidoc: { basePath: string; paths: Record<string, unknown> } } }[] }>;
  };
}
type Logger = (line: string) => void;
interface AioRuntime {
  init(o: { apihost: string; api_key: string; namespace: string }): Promise<Ow>;
  utils: {
    setPaths(flags: { manifest: string; deployment?: string }): {
      packages: object;
      deploymentPackages: object;
      deploymentTriggers: object;
      projectName: string;
      manifestPath: string;
    };
    processPackage(
      packages: object,
      dp: object,
      dt: object,
      params: object,
      namesOnly?: boolean,
      owOptions?: object,
    ): Entities;
    deployPackage(e: Entities, ow: Ow, log: Logger): Promise<void>;
    syncProject(
      name: string,
      path: string,
      content: string,
      e: Entities,
      ow: Ow,
      log: Logger,
      ims?: string,
      del?: boolean,
    ): Promise<void>;
    getProjectEntities(project: string, isHash: boolean, ow: Ow): Promise<Entities>;
    undeployPackage(e: Entities, ow: Ow, log: Logger): Promise<void>;
  };
}
const aio = createRequire(import.meta.url)('@adobe/aio-lib-runtime') as AioRuntime;

let w: Whirl;
let dir: string;
let client: WhirlClient;
let ow: Ow;
const lines: string[] = [];
const log: Logger = (l) => void lines.push(l);

const kv = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));

/** aio reads `function:` relative to the process's folder, so the manifest names files absolutely. */
function manifest(withBye: boolean): string {
  return `project:
  name: aio-shop
  packages:
    aioshop:
      inputs:
        region: eu
      actions:
        hello:
          function: ${dir}/hello.js
          runtime: nodejs:20
          web: 'yes'
          inputs:
            name: $AIO_WHO
          limits:
            timeout: 4000
            memorySize: 128
${
  withBye
    ? `        bye:
          function: ${dir}/hello.js
          runtime: nodejs:20
`
    : ''
}      sequences:
        twice:
          actions: hello, hello
      triggers:
        ping:
          inputs:
            name: trigger
        every10:
          feed: /whisk.system/alarms/interval
          inputs:
            minutes: 10
      dependencies:
        aioutils:
          location: /whisk.system/utils
          inputs:
            greeting: bound
      rules:
        on-ping:
          trigger: ping
          action: hello
      apis:
        aio-api:
          aio:
            hello:
              hello:
                method: get
                response: json
`;
}

function load(text: string) {
  const path = join(dir, 'manifest.yaml');
  writeFileSync(path, text);
  const c = aio.utils.setPaths({ manifest: path });
  const entities = aio.utils.processPackage(c.packages, c.deploymentPackages, c.deploymentTriggers, {});
  return { c, entities, text: readFileSync(path, 'utf8') };
}

async function actionNames(): Promise<string[]> {
  const list = await client.actions.list();
  return list.map((a) => `${a.namespace.split('/')[1] ?? ''}/${a.name}`).sort();
}

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-aio-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hello.js'), `function main(p) { return { hi: p.name, region: p.region }; }`);
  client = new WhirlClient({ apihost: w.url, auth: w.guestKey });
  ow = await aio.init({ apihost: w.url, api_key: w.guestKey, namespace: 'guest' });
});
afterAll(async () => {
  client?.close();
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('@adobe/aio-lib-runtime against Whirl', () => {
  it('deploys a manifest with syncProject: packages, actions, sequences, triggers, rules and API routes', async () => {
    process.env.AIO_WHO = 'Ann';
    const { c, entities, text } = load(manifest(true));
    await aio.utils.syncProject(c.projectName, c.manifestPath, text, entities, ow, log, undefined, true);
    expect(lines.at(-1)).toBe('Success: Deployment completed successfully.');

    expect(await actionNames()).toEqual(['aioshop/bye', 'aioshop/hello', 'aioshop/twice']);
    const hello = await client.actions.get('aioshop/hello');
    expect(kv(hello.parameters)).toMatchObject({ name: 'Ann', region: 'eu' });
    expect(hello.limits).toMatchObject({ timeout: 4000, memory: 128 });
    expect(kv(hello.annotations)).toMatchObject({
      'web-export': true,
      'whisk-managed': { projectName: 'aio-shop', projectDeps: [] },
    });
    const result = await client.actions.invoke('aioshop/twice', {}, { result: true });
    expect(result.body).toEqual({ hi: 'Ann', region: 'eu' });
    const binding = await client.packages.get('aioutils');
    expect(binding.binding).toEqual({ namespace: 'whisk.system', name: 'utils' });
    expect(kv(binding.parameters)).toEqual({ greeting: 'bound' });
    const rule = await client.rules.get('on-ping');
    expect(rule).toMatchObject({ status: 'active', action: { name: 'hello', path: 'guest/aioshop' } });

    // The route it created through the API management actions serves the web action.
    const web = await fetch(`${w.url}/api/gw/guest/aio/hello`);
    expect(web.status).toBe(200);
    expect(await web.json()).toEqual({ hi: 'Ann', region: 'eu' });
  });

  it("creates and deletes a feed trigger with its Triggers helper (the feed's CREATE and DELETE)", async () => {
    const triggers = (
      ow as unknown as {
        triggers: { create(o: object): Promise<unknown>; delete(o: object): Promise<unknown> };
      }
    ).triggers;
    await triggers.create({
      name: 'tick',
      trigger: { feed: '/whisk.system/alarms/interval', parameters: [{ key: 'minutes', value: 5 }] },
    });
    const read = await cli(w.env, ['trigger', 'get', 'tick']);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toMatch(/"minutes": 5/);
    await triggers.delete({ name: 'tick' });
    expect((await client.triggers.list()).map((t) => t.name)).not.toContain('tick');
  });

  it('lists the API routes through the openwhisk client it uses', async () => {
    const listed = await ow.routes.list();
    const docs = listed.apis.map((a) => a.value.apidoc);
    expect(docs.map((d) => d.basePath)).toEqual(['/aio']);
    expect(Object.keys(docs[0]!.paths)).toEqual(['/hello']);
  });

  it("reports the project's entities by its whisk-managed annotation", async () => {
    const report = await aio.utils.getProjectEntities('aio-shop', false, ow);
    expect(report.pkgAndDeps.map((p) => p.name).sort()).toEqual(['aioshop', 'aioutils']);
    expect(report.actions.map((a) => a.name).sort()).toEqual([
      'aioshop/bye',
      'aioshop/hello',
      'aioshop/twice',
    ]);
    expect(report.triggers.map((t) => t.name).sort()).toEqual(['every10', 'ping']);
    // aio-lib-runtime annotates packages, actions and triggers, not rules (addManagedProjectAnnotations).
    expect(report.rules).toEqual([]);
  });

  it('syncs: an action the manifest no longer lists is removed', async () => {
    const { c, entities, text } = load(manifest(false));
    await aio.utils.syncProject(c.projectName, c.manifestPath, text, entities, ow, log, undefined, true);
    expect(await actionNames()).toEqual(['aioshop/hello', 'aioshop/twice']);
  });

  it('sees what `whirl project` deployed, and `whirl project` sees what it deployed', async () => {
    // whirl finds aio's project: a preview of an undeploy by name lists every entity.
    const preview = await cli(w.env, ['project', 'undeploy', '--projectname', 'aio-shop', '--preview']);
    expect(preview.code, preview.stderr).toBe(0);
    for (const e of [
      'trigger ping',
      'API route GET /aio/hello',
      'sequence aioshop/twice',
      'action aioshop/hello',
      'package aioshop',
    ])
      expect(preview.stdout).toContain(`remove ${e}`);

    // aio finds whirl's project, and its undeploy removes it.
    writeFileSync(
      join(dir, 'whirl.yaml'),
      'project:\n  name: from-whirl\n  packages:\n    fromwhirl:\n      actions:\n        a:\n          function: hello.js\n',
    );
    const deployed = await cli(w.env, ['project', 'deploy', '-m', join(dir, 'whirl.yaml')]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const theirs = await aio.utils.getProjectEntities('from-whirl', false, ow);
    expect(theirs.actions.map((a) => a.name)).toEqual(['fromwhirl/a']);
    await aio.utils.undeployPackage(theirs, ow, log);
    expect(await actionNames()).toEqual(['aioshop/hello', 'aioshop/twice']);
    expect((await client.packages.list()).map((p) => p.name).sort()).toEqual(['aioshop', 'aioutils']);
  });

  it('undeploys the project by the names in its manifest, as `aio runtime deploy undeploy` does', async () => {
    const path = join(dir, 'manifest.yaml');
    writeFileSync(path, manifest(false));
    const c = aio.utils.setPaths({ manifest: path });
    const names = aio.utils.processPackage(c.packages, c.deploymentPackages, c.deploymentTriggers, {}, true);
    await aio.utils.undeployPackage(names, ow, log);
    expect(lines.at(-1)).toBe('Success: Undeployment completed successfully.');
    const left = await aio.utils.getProjectEntities('aio-shop', false, ow);
    expect([...left.actions, ...left.pkgAndDeps, ...left.triggers]).toEqual([]);
    expect(await actionNames()).toEqual([]);
    expect(await client.packages.list()).toEqual([]);
    expect(await client.triggers.list()).toEqual([]);
    expect(await client.rules.list()).toEqual([]);
    expect(await client.apis.listAll()).toEqual([]);
  });
});
