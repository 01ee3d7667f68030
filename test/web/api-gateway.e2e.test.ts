// The API gateway over real HTTP against a real `whirl standalone` process: publishing routes through the
// REST resource, serving them (path parameters, methods, CORS, response types, auth annotations),
// OpenAPI export and import (JSON and YAML), restarts and deletion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SYSTEM_KEY, startWhirl, type Whirl } from '../helpers/standalone.js';
import { putAction, rest } from './helpers.js';

let w: Whirl;
const gw = (path: string) => `${w.url}/api/gw/guest${path}`;
const apis = (method: string, path = '', body?: unknown, headers?: Record<string, string>) =>
  rest(w.url, w.guestKey, method, `/namespaces/_/apis${path}`, body, headers);

beforeAll(async () => {
  w = await startWhirl();
  const g = (name: string, spec: Parameters<typeof putAction>[3]) => putAction(w.url, w.guestKey, name, spec);
  await Promise.all([
    // Not a web action: publishing a route makes it one.
    g('getBook', {
      code: 'function main(p) { return { id: p.id, path: p.__ow_path, method: p.__ow_method, q: p.q } }',
    }),
    g('addBook', {
      web: true,
      code: 'function main(p) { return { statusCode: 201, headers: { location: "/books/" + p.title }, body: { created: p.title } } }',
    }),
    g('bookPage', { web: true, code: 'function main(p) { return { body: "<h1>Book " + p.id + "</h1>" } }' }),
    g('secure', {
      web: true,
      annotations: { 'require-whisk-auth': true },
      code: 'function main(p) { return { user: p.__ow_user } }',
    }),
  ]);
});
afterAll(async () => w?.cleanup());

describe('publishing and serving routes', () => {
  it('creates a route, making its action a web action and saying so', async () => {
    const r = await apis('POST', '', {
      basePath: '/library',
      path: '/books/{id}',
      method: 'get',
      action: 'getBook',
      name: 'Library',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: 'Library',
      basePath: '/library',
      url: `${w.url}/api/gw/guest/library`,
      routes: [{ path: '/books/{id}', method: 'GET', action: '/guest/getBook', responseType: 'json' }],
      webExported: ['/guest/getBook'],
    });
    const action = await rest(w.url, w.guestKey, 'GET', '/namespaces/_/actions/getBook');
    expect(action.body).toMatchObject({
      version: '0.0.2',
      annotations: expect.arrayContaining([
        { key: 'web-export', value: true },
        { key: 'final', value: true },
      ]),
    });
    // A second route to the same action has nothing more to export.
    const again = await apis('POST', '', {
      basePath: '/library',
      path: '/books/{id}/json',
      method: 'GET',
      action: 'getBook',
    });
    expect(again.body).toMatchObject({ webExported: [] });
  });

  it('serves it with path parameters, query parameters and the path relative to the base path', async () => {
    const r = await fetch(gw('/library/books/42?q=x'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(await r.json()).toEqual({ id: '42', path: '/books/42', method: 'get', q: 'x' });
    expect(await (await fetch(gw('/library/books/a%20b'))).json()).toMatchObject({ id: 'a b' });
  });

  it('routes methods separately, with the response type of each route', async () => {
    expect(
      (
        await apis('POST', '', {
          basePath: '/library',
          path: '/books',
          method: 'POST',
          action: 'addBook',
          responseType: 'http',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await apis('POST', '', {
          basePath: '/library',
          path: '/books/{id}/page',
          method: 'GET',
          action: 'bookPage',
          responseType: 'html',
        })
      ).status,
    ).toBe(200);
    const created = await fetch(gw('/library/books'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Dune' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/books/Dune');
    expect(await created.json()).toEqual({ created: 'Dune' });
    const page = await fetch(gw('/library/books/7/page'));
    expect(page.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(await page.text()).toBe('<h1>Book 7</h1>');
  });

  it('answers 405 with the allowed methods for a known path, 404 for unknown ones', async () => {
    const r = await fetch(gw('/library/books/42'), { method: 'PUT', body: '{}' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, OPTIONS');
    expect(await r.json()).toMatchObject({ error: 'HTTP method not allowed, supported methods: GET.' });
    expect((await fetch(gw('/library/authors'))).status).toBe(404);
    expect((await fetch(gw('/nowhere/books/1'))).status).toBe(404);
    expect((await fetch(`${w.url}/api/gw/nobody/library/books/1`)).status).toBe(404);
  });

  it('answers CORS preflights for known paths, and HEAD with the GET route', async () => {
    const r = await fetch(gw('/library/books'), {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-trace',
      },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(r.headers.get('access-control-allow-headers')).toBe('content-type, x-trace');
    const head = await fetch(gw('/library/books/1'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const served = await fetch(gw('/library/books/1'));
    expect(served.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('refuses routes to missing actions and to foreign actions it cannot export', async () => {
    const missing = await apis('POST', '', { basePath: '/x', path: '/y', method: 'GET', action: 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'action /guest/nope does not exist' });
    await rest(w.url, SYSTEM_KEY, 'PUT', '/namespaces/_/packages/pub?overwrite=true', { publish: true });
    await putAction(w.url, SYSTEM_KEY, 'pub/tool', { code: 'function main() { return {} }' });
    const foreign = await apis('POST', '', {
      basePath: '/x',
      path: '/y',
      method: 'GET',
      action: '/whisk.system/pub/tool',
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ error: expect.stringContaining('only its owner can make it one') });
    const bad = await apis('POST', '', { basePath: 'x', path: '/y', method: 'GET', action: 'getBook' });
    expect(bad.status).toBe(400);
    expect(
      (await apis('POST', '', { basePath: '/x', path: '/y', method: 'TRACE', action: 'getBook' })).status,
    ).toBe(400);
  });

  it('serves the owner’s secured web actions with the key they had when the route was created', async () => {
    // require-whisk-auth: true — the gateway presents the owner's credentials.
    await apis('POST', '', { basePath: '/me', path: '/', method: 'GET', action: 'secure' });
    const me = await fetch(gw('/me'));
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: 'guest' });
    const locked = (secret: string) =>
      putAction(w.url, w.guestKey, 'locked', {
        web: true,
        annotations: { 'require-whisk-auth': secret },
        code: 'function main() { return { in: true } }',
      });
    await locked('one');
    await apis('POST', '', { basePath: '/locked', path: '/', method: 'GET', action: 'locked' });
    expect(await (await fetch(gw('/locked'))).json()).toEqual({ in: true });
    expect((await fetch(`${w.url}/api/v1/web/guest/default/locked.json`)).status).toBe(401);
    // The route keeps the secret it was given (as OpenWhisk's gateway does) until it is created again.
    await locked('two');
    expect((await fetch(gw('/locked'))).status).toBe(401);
    await apis('POST', '', { basePath: '/locked', path: '/', method: 'GET', action: 'locked' });
    expect((await fetch(gw('/locked'))).status).toBe(200);
    expect((await apis('DELETE', '/locked')).status).toBe(200);
  });
});

describe('listing, OpenAPI export and import', () => {
  it('lists the namespace’s APIs and counts them', async () => {
    const list = await apis('GET');
    expect(list.status).toBe(200);
    const names = (list.body as { name: string }[]).map((a) => a.name).sort();
    expect(names).toEqual(['/me', 'Library']);
    expect((await apis('GET', '?count=true')).body).toEqual({ apis: 2 });
    // Another namespace sees its own (none), and may not look at guest's.
    expect((await rest(w.url, SYSTEM_KEY, 'GET', '/namespaces/_/apis')).body).toEqual([]);
    expect((await rest(w.url, SYSTEM_KEY, 'GET', '/namespaces/guest/apis')).status).toBe(403);
  });

  it('exports an API as Swagger 2.0, JSON or YAML, by base path or by name', async () => {
    const doc = await apis('GET', '/library');
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({
      swagger: '2.0',
      info: { title: 'Library' },
      basePath: '/library',
      paths: {
        '/books/{id}': {
          get: {
            'x-openwhisk': {
              namespace: 'guest',
              action: 'getBook',
              url: `${w.url}/api/v1/web/guest/default/getBook.json`,
            },
            parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }],
          },
        },
        '/books': { post: { 'x-openwhisk': { action: 'addBook' } } },
      },
    });
    const yaml = await apis('GET', '/library?format=yaml');
    expect(yaml.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
    expect(parseYaml(yaml.body as string)).toEqual(doc.body);
    expect((await apis('GET', '/Library')).body).toEqual(doc.body);
    expect((await apis('GET', '/nope')).status).toBe(404);
  });

  it('imports an OpenAPI 3 document written in YAML and serves it', async () => {
    const yaml = `openapi: 3.0.3
info:
  title: Shop
  version: 1.0.0
servers:
  - url: /shop
paths:
  /items/{sku}:
    get:
      summary: One item
      x-openwhisk:
        namespace: _
        action: getBook
        url: https://elsewhere/api/v1/web/_/default/getBook.json
  /page/{id}:
    get:
      x-openwhisk: { action: bookPage, url: x.html }
`;
    const created = await apis('PUT', '', yaml, { 'content-type': 'application/yaml' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'Shop', basePath: '/shop', webExported: [] });
    expect(await (await fetch(gw('/shop/items/sku-1'))).json()).toEqual({
      path: '/items/sku-1',
      method: 'get',
    });
    expect(await (await fetch(gw('/shop/page/9'))).text()).toBe('<h1>Book 9</h1>');
    // Creating it again needs overwrite=true.
    expect((await apis('PUT', '', yaml, { 'content-type': 'application/yaml' })).status).toBe(409);
    const replaced = await apis('PUT', '?overwrite=true', yaml.replace('title: Shop', 'title: Shop 2'), {
      'content-type': 'application/yaml',
    });
    expect(replaced.body).toMatchObject({ name: 'Shop 2', version: '0.0.2' });
    const exported = await apis('GET', '/shop');
    expect(exported.body).toMatchObject({
      openapi: '3.0.3',
      servers: [{ url: `${w.url}/api/gw/guest/shop` }],
      paths: { '/items/{sku}': { get: { summary: 'One item' } } },
    });
  });

  it('refuses malformed documents', async () => {
    expect((await apis('PUT', '', 'not: [valid', { 'content-type': 'application/yaml' })).status).toBe(400);
    const noAction = { swagger: '2.0', basePath: '/z', info: { title: 'z' }, paths: { '/a': { get: {} } } };
    const r = await apis('PUT', '', noAction);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      error: "The operation GET /a needs an 'x-openwhisk' extension naming its action.",
    });
  });
});

describe('lifecycle', () => {
  it('keeps routes across a restart', async () => {
    const dataDir = w.dataDir;
    expect(await w.stop()).toBe(0);
    w = await startWhirl({ dataDir });
    expect(await (await fetch(gw('/library/books/5'))).json()).toMatchObject({ id: '5' });
    expect((await apis('GET', '?count=true')).body).toEqual({ apis: 3 });
  });

  it('deletes one operation, a path, then the whole API', async () => {
    const one = await apis('DELETE', '/library?path=/books&method=post');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ routes: [{ path: '/books', method: 'POST' }] });
    expect((await fetch(gw('/library/books'), { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await apis('DELETE', '/library?path=/books&method=post')).status).toBe(404);
    expect((await apis('DELETE', `/library?path=${encodeURIComponent('/books/{id}/page')}`)).status).toBe(
      200,
    );
    expect((await fetch(gw('/library/books/1/page'))).status).toBe(404);
    expect((await fetch(gw('/library/books/1'))).status).toBe(200);
    expect((await apis('DELETE', '/library')).status).toBe(200);
    expect((await fetch(gw('/library/books/1'))).status).toBe(404);
    expect((await apis('GET', '/library')).status).toBe(404);
    expect((await apis('GET')).body).toHaveLength(2);
  });
});
