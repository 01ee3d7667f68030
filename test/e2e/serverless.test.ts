// The Serverless Framework (serverless 3 with the serverless-openwhisk plugin, both unchanged and pinned in
// package.json) against a real standalone Whirl: a service with two Node.js functions, an `http` event
// (an API gateway route to a secured web action), a web action, a sequence and a `schedule` event (a
// trigger, a rule and an alarm of /whisk.system/alarms/alarm) goes through deploy, invoke, logs, info and
// remove; after each step the REST API shows what the plugin means to leave.
//
// The plugin is 0.18.3, not 0.18.4: 0.18.4's deployTriggers clears each trigger's `feed` before
// deployFeeds reads it, so its `schedule` events get a trigger and a rule but never an alarm (against
// OpenWhisk too). 0.18.3 binds the alarm, but leaves the trigger without its `feed` annotation.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { rest } from '../web/helpers.js';

const SERVERLESS = fileURLToPath(new URL('../../node_modules/.bin/serverless', import.meta.url));
const SERVICE = 'whirlsls';
/** The plugin names actions `${service}-${stage}-${function}` and schedule triggers and rules after the function. */
const action = (fn: string) => `${SERVICE}-dev-${fn}`;
const TRIGGER = `${SERVICE}_greet_schedule_trigger`;
const RULE = `${SERVICE}_greet_schedule_rule`;

const SERVERLESS_YML = `
service: ${SERVICE}
frameworkVersion: '3'
configValidationMode: off
provider:
  name: openwhisk
  runtime: nodejs:20
plugins:
  - serverless-openwhisk
functions:
  greet:
    handler: handler.greet
    parameters:
      greeting: Hello
    annotations:
      note: from-serverless
    events:
      - http: GET /greet
      - schedule:
          rate: cron(* * * * *)
          params:
            name: alarm
  shout:
    handler: handler.shout
  page:
    handler: handler.page
    annotations:
      web-export: true
  loud:
    sequence:
      - greet
      - shout
`;

const HANDLER = `
exports.greet = (p) => {
  console.log('greeting ' + (p.name || 'world'));
  return { message: (p.greeting || 'Hi') + ', ' + (p.name || 'world') + '!' };
};
exports.shout = (p) => ({ message: String(p.message).toUpperCase() });
exports.page = () => ({ body: '<h1>whirl</h1>' });
`;

let w: Whirl;
let dir: string;
let ow: ReturnType<typeof openwhisk>;
/** The client's `feeds.get` (READ lifecycle event), which its type declarations leave out. */
const feedsOf = (c: ReturnType<typeof openwhisk>) =>
  c.feeds as unknown as { get(o: { name: string; trigger: string }): Promise<unknown> };
const list = async (collection: string) =>
  (await rest(w.url, w.guestKey, 'GET', `/namespaces/_/${collection}`)).body as { name?: string }[];

/** The log lines of greet's recent activations, as the REST API has them. */
async function greetLogs(): Promise<string> {
  const r = await rest(
    w.url,
    w.guestKey,
    'GET',
    `/namespaces/_/activations?name=${action('greet')}&docs=true`,
  );
  return (r.body as { logs?: string[] }[]).flatMap((a) => a.logs ?? []).join('\n');
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `serverless ARGS` in the service directory, with a throwaway HOME and nothing that calls home. */
function serverless(...args: string[]): Promise<Run> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: join(dir, 'home'),
    OW_APIHOST: w.url,
    OW_AUTH: w.guestKey,
    // No ~/.wskprops of the machine's: only the variables above.
    WSK_CONFIG_FILE: join(dir, 'home', '.wskprops'),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
    SLS_DISABLE_AUTO_UPDATE: '1',
  };
  const child = spawn(process.execPath, [SERVERLESS, ...args], {
    cwd: join(dir, 'service'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs serverless, expects success, and gives its output (results on stdout, progress on stderr). */
async function ok(...args: string[]): Promise<Run> {
  const r = await serverless(...args);
  expect(r.code, `serverless ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

beforeAll(async () => {
  w = await startWhirl();
  ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
  dir = mkdtempSync(join(tmpdir(), 'whirl-serverless-'));
  const service = join(dir, 'service');
  mkdirSync(service);
  mkdirSync(join(dir, 'home'));
  writeFileSync(join(service, 'serverless.yml'), SERVERLESS_YML);
  writeFileSync(join(service, 'handler.js'), HANDLER);
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Each serverless command takes seconds to start (more on a busy machine); deploy runs several.
describe('the Serverless Framework against Whirl', { timeout: 120_000 }, () => {
  it('deploys the functions, the sequence, the route, the web action, the trigger, its rule and its alarm', async () => {
    const deployed = await ok('deploy');
    expect(deployed.stderr).toContain('Deployment successful!');

    const names = (await list('actions')).map((a) => a.name).sort();
    expect(names).toEqual([action('greet'), action('loud'), action('page'), action('shout')]);
    const greet = (await rest(w.url, w.guestKey, 'GET', `/namespaces/_/actions/${action('greet')}`)).body as {
      parameters: unknown[];
      annotations: { key: string; value: unknown }[];
    };
    expect(greet.parameters).toEqual([{ key: 'greeting', value: 'Hello' }]);
    // An `http` event makes the function a web action secured with a generated secret.
    const annotations = Object.fromEntries(greet.annotations.map((a) => [a.key, a.value]));
    expect(annotations).toMatchObject({ note: 'from-serverless', 'web-export': true });
    expect(annotations['require-whisk-auth']).toMatch(/^[0-9a-f]{128}$/);
    const loud = (await rest(w.url, w.guestKey, 'GET', `/namespaces/_/actions/${action('loud')}`)).body;
    expect(loud).toMatchObject({
      exec: { kind: 'sequence', components: [`/guest/${action('greet')}`, `/guest/${action('shout')}`] },
    });

    expect((await list('triggers')).map((t) => t.name)).toEqual([TRIGGER]);
    const rule = (await rest(w.url, w.guestKey, 'GET', `/namespaces/_/rules/${RULE}`)).body;
    expect(rule).toMatchObject({
      status: 'active',
      trigger: { path: 'guest', name: TRIGGER },
      action: { path: 'guest', name: action('greet') },
    });
    const alarm = (await feedsOf(ow).get({ name: '/whisk.system/alarms/alarm', trigger: TRIGGER })) as {
      response: { result: unknown };
    };
    expect(alarm.response.result).toMatchObject({
      config: { name: TRIGGER, cron: '* * * * *', payload: { name: 'alarm' } },
      status: { active: true },
    });

    const apis = (await rest(w.url, w.guestKey, 'GET', '/namespaces/_/apis')).body;
    expect(apis).toMatchObject([
      { basePath: '/', routes: [{ method: 'GET', path: '/greet', action: `/guest/${action('greet')}` }] },
    ]);
  });

  it('serves the API route (past the secret), the web action, and no unsecured URL', async () => {
    const routed = await fetch(`${w.url}/api/gw/guest/greet?name=Cy`);
    expect(routed.status).toBe(200);
    expect(await routed.json()).toEqual({ message: 'Hello, Cy!' });
    expect((await fetch(`${w.url}/api/v1/web/guest/default/${action('greet')}.json`)).status).toBe(401);
    const page = await fetch(`${w.url}/api/v1/web/guest/default/${action('page')}.html`);
    expect(await page.text()).toBe('<h1>whirl</h1>');
  });

  it('invokes a function and the sequence, fires the trigger, and shows the logs', async () => {
    expect(JSON.parse((await ok('invoke', '-f', 'greet', '-d', '{"name":"Ann"}')).stdout)).toEqual({
      message: 'Hello, Ann!',
    });
    expect(JSON.parse((await ok('invoke', '-f', 'loud', '-d', '{"name":"Bob"}')).stdout)).toEqual({
      message: 'HELLO, BOB!',
    });
    // The rule runs greet for a fire of the alarm's trigger (fired here rather than waiting a minute).
    const fired = await rest(w.url, w.guestKey, 'POST', `/namespaces/_/triggers/${TRIGGER}`, { name: 'Eve' });
    expect(fired.status).toBe(202);
    for (let i = 0; i < 100 && !(await greetLogs()).includes('greeting Eve'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const logs = (await ok('logs', '-f', 'greet')).stdout;
    expect(logs).toMatch(/^activation \([0-9a-f]{32}\):$/m);
    expect(logs).toContain('greeting Ann');
    expect(logs).toContain('greeting Eve');
  });

  it('tells what is deployed', async () => {
    const info = (await ok('info')).stdout;
    for (const name of [action('greet'), action('loud'), action('page'), action('shout'), TRIGGER, RULE]) {
      expect(info).toContain(name);
    }
    expect(info).toContain(`GET ${w.url}/api/gw/guest/greet --> ${action('greet')}`);
  });

  it('removes everything it deployed, the route and the alarm too', async () => {
    expect((await ok('remove')).stderr).toContain('Resource removal successful!');
    for (const collection of ['actions', 'triggers', 'rules', 'apis']) {
      expect(await list(collection), collection).toEqual([]);
    }
    expect((await fetch(`${w.url}/api/gw/guest/greet`)).status).toBe(404);
    await expect(
      feedsOf(ow).get({ name: '/whisk.system/alarms/alarm', trigger: TRIGGER }),
    ).rejects.toMatchObject({ message: expect.stringContaining('has no alarm') });
  });
});
