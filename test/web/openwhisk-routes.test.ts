// The official `openwhisk` npm client's `routes` API, unchanged, against a real standalone Whirl: it calls
// the whisk.system/apimgmt web actions (createApi, getApi, deleteApi), which Whirl serves built in.
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_KEY, startWhirl, type Whirl } from '../helpers/standalone.js';
import { putAction, rest } from './helpers.js';

interface CliApi {
  id: string;
  value: {
    gwApiUrl: string;
    apidoc: { basePath: string; info: { title: string }; paths: Record<string, unknown> };
  };
}

let w: Whirl;
let ow: ReturnType<typeof openwhisk>;
/** `routes.get` exists in the client but not in its type declarations. */
const routesGet = (o: { basepath?: string; name?: string }): Promise<unknown> =>
  (ow.routes as unknown as { get(o: object): Promise<unknown> }).get(o);
beforeAll(async () => {
  w = await startWhirl();
  ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
  await putAction(w.url, w.guestKey, 'hello', {
    code: 'function main(p) { return { greeting: "hello " + (p.name || "you"), user: p.user } }',
  });
  await putAction(w.url, w.guestKey, 'bye', {
    web: true,
    code: 'function main() { return { body: "bye" } }',
  });
  // Secured web actions: guest's own, and one in another namespace's published package.
  await putAction(w.url, w.guestKey, 'vault', {
    web: true,
    annotations: { 'require-whisk-auth': 'guest-secret' },
    code: 'function main(p) { return { opened: true, user: p.__ow_user } }',
  });
  await rest(w.url, SYSTEM_KEY, 'PUT', '/namespaces/_/packages/shared?overwrite=true', { publish: true });
  await putAction(w.url, SYSTEM_KEY, 'shared/safe', {
    web: true,
    annotations: { 'require-whisk-auth': 4242 },
    code: 'function main() { return { safe: "open" } }',
  });
});
afterAll(async () => w?.cleanup());

describe('ow.routes against Whirl', () => {
  it('creates a route whose gateway URL serves the action', async () => {
    const api = (await ow.routes.create({
      basepath: '/demo',
      relpath: '/hello/{user}',
      operation: 'GET',
      action: 'hello',
    })) as unknown as CliApi & { webExported: string[] };
    expect(api.value.gwApiUrl).toBe(`${w.url}/api/gw/guest/demo`);
    expect(api.value.apidoc).toMatchObject({ basePath: '/demo', paths: { '/hello/{user}': { get: {} } } });
    expect(api.webExported).toEqual(['/guest/hello']);
    const r = await fetch(`${api.value.gwApiUrl}/hello/ann?name=Ann`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ greeting: 'hello Ann', user: 'ann' });
  });

  it('creates with an API name and a response type, and lists, gets and filters', async () => {
    // `name` becomes the apidoc's apiName; `responsetype` travels as a query parameter.
    const created = (await ow.routes.create({
      basepath: '/demo',
      relpath: '/bye',
      operation: 'POST',
      action: 'bye',
      name: 'Demo API',
      responsetype: 'http',
    } as never)) as unknown as CliApi;
    expect(created.value.apidoc.info.title).toBe('Demo API');
    const all = (await ow.routes.list()) as unknown as { apis: CliApi[] };
    expect(all.apis).toHaveLength(1);
    expect(Object.keys(all.apis[0]!.value.apidoc.paths).sort()).toEqual(['/bye', '/hello/{user}']);
    const byBase = (await routesGet({ basepath: '/demo' })) as { apis: CliApi[] };
    expect(byBase.apis[0]!.value.apidoc.info.title).toBe('Demo API');
    const filtered = (await ow.routes.list({
      basepath: '/demo',
      relpath: '/bye',
      operation: 'POST',
    })) as unknown as {
      apis: CliApi[];
    };
    expect(Object.keys(filtered.apis[0]!.value.apidoc.paths)).toEqual(['/bye']);
    const none = (await routesGet({ basepath: '/nothing' })) as { apis: CliApi[] };
    expect(none.apis).toEqual([]);
    const bye = await fetch(`${w.url}/api/gw/guest/demo/bye`, { method: 'POST' });
    expect(bye.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(await bye.text()).toBe('bye');
  });

  it('creates an API from a swagger document', async () => {
    const swagger = {
      swagger: '2.0',
      info: { title: 'Greeter', version: '1.0.0' },
      basePath: '/greeter',
      paths: {
        '/hi': {
          get: {
            'x-openwhisk': {
              namespace: '_',
              action: 'hello',
              url: 'https://x/api/v1/web/_/default/hello.json',
            },
          },
        },
      },
    };
    const api = (await ow.routes.create({ swagger } as never)) as unknown as CliApi;
    expect(api.value.apidoc.info.title).toBe('Greeter');
    expect(await (await fetch(`${w.url}/api/gw/guest/greeter/hi`)).json()).toMatchObject({
      greeting: 'hello you',
    });
    const named = (await routesGet({ name: 'Greeter' })) as { apis: CliApi[] };
    expect(named.apis[0]!.value.apidoc.basePath).toBe('/greeter');
  });

  it('lists with options given as undefined (sent as the string "undefined")', async () => {
    const all = (await ow.routes.list({ relpath: undefined, operation: undefined })) as unknown as {
      apis: CliApi[];
    };
    expect(all.apis.map((a) => a.value.apidoc.basePath).sort()).toEqual(['/demo', '/greeter']);
    // What `aio runtime api list` sends with no arguments: every option, all undefined.
    const aio = (await ow.routes.list({
      basepath: undefined,
      relpath: undefined,
      operation: undefined,
      skip: undefined,
      limit: undefined,
    })) as unknown as { apis: CliApi[] };
    expect(aio.apis.map((a) => a.value.apidoc.basePath).sort()).toEqual(['/demo', '/greeter']);
  });

  it('routes to a secured web action with the secure key it is given (as wsk api create sends it)', async () => {
    const route = {
      basepath: '/safe',
      relpath: '/open',
      operation: 'GET' as const,
      action: '/whisk.system/shared/safe',
    };
    // Another namespace's secret is never filled in: without it, the route is refused like the action.
    await ow.routes.create(route);
    expect((await fetch(`${w.url}/api/gw/guest/safe/open`)).status).toBe(401);
    await ow.routes.create({ ...route, secure_key: 4242 } as never);
    const r = await fetch(`${w.url}/api/gw/guest/safe/open`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ safe: 'open' });
  });

  it('routes to a secured web action with the secret in a Serverless Framework swagger', async () => {
    // The document serverless-openwhisk sends for `http: GET /vault`: package `default`, and the secret
    // in the gateway assembly as the X-Require-Whisk-Auth header of the backend call.
    const url = 'https://h/api/v1/web/guest/default/vault.json';
    const swagger = {
      swagger: '2.0',
      basePath: '/',
      info: { title: 'svc', version: '1.0' },
      paths: {
        '/vault': {
          get: {
            operationId: 'get-/vault',
            responses: { 200: { description: 'A successful invocation response' } },
            'x-openwhisk': { action: 'vault', namespace: 'guest', package: 'default', url },
          },
        },
      },
      'x-ibm-configuration': {
        cors: { enabled: true },
        assembly: {
          execute: [
            {
              'operation-switch': {
                case: [
                  {
                    operations: ['get-/vault'],
                    execute: [
                      {
                        'set-variable': {
                          actions: [{ set: 'message.headers.X-Require-Whisk-Auth', value: 'guest-secret' }],
                        },
                      },
                      { invoke: { 'target-url': url, verb: 'keep' } },
                    ],
                  },
                ],
              },
            },
          ],
        },
      },
    };
    await ow.routes.create({ swagger } as never);
    // The gateway's secret replaces whatever the request sends, as OpenWhisk's gateway does.
    const r = await fetch(`${w.url}/api/gw/guest/vault`, { headers: { 'x-require-whisk-auth': 'wrong' } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ opened: true });
    expect((await fetch(`${w.url}/api/v1/web/guest/default/vault.json`)).status).toBe(401);
    await ow.routes.delete({ basepath: '/' });
    await ow.routes.delete({ basepath: '/safe' });
  });

  it('deletes an operation and then a whole API', async () => {
    await ow.routes.delete({ basepath: '/demo', relpath: '/bye', operation: 'POST' });
    expect((await fetch(`${w.url}/api/gw/guest/demo/bye`, { method: 'POST' })).status).toBe(404);
    await ow.routes.delete({ basepath: '/demo' });
    expect((await fetch(`${w.url}/api/gw/guest/demo/hello/ann`)).status).toBe(404);
    const left = (await ow.routes.list()) as unknown as { apis: CliApi[] };
    expect(left.apis.map((a) => a.value.apidoc.basePath)).toEqual(['/greeter']);
    await expect(ow.routes.delete({ basepath: '/demo' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('needs valid credentials', async () => {
    const anonymous = openwhisk({ apihost: w.url, api_key: `${w.guestKey.split(':')[0]}:wrong` });
    await expect(anonymous.routes.list()).rejects.toMatchObject({ statusCode: 401 });
  });
});
