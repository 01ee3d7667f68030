// The official `openwhisk` npm client's `routes` API, unchanged, against a real standalone Whirl: it calls
// the whisk.system/apimgmt web actions (createApi, getApi, deleteApi), which Whirl serves built in.
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { putAction } from './helpers.js';

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
    expect(api.value.gwApiUrl).toBe(`${w.url}/api/gw/guest`);
    expect(api.value.apidoc).toMatchObject({ basePath: '/demo', paths: { '/hello/{user}': { get: {} } } });
    expect(api.webExported).toEqual(['/guest/hello']);
    const r = await fetch(`${api.value.gwApiUrl}/demo/hello/ann?name=Ann`);
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
