// API gateway data: path validation, route matching, OpenAPI import and export. Pure functions.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ApiDoc, ApiRoute } from '../../src/core/entities.js';
import { WhirlError } from '../../src/core/errors.js';
import {
  checkBasePath,
  checkMethod,
  checkResponseType,
  checkRoutePath,
  matchRoute,
} from '../../src/controller/web/gateway/model.js';
import {
  exportOpenApi,
  importOpenApi,
  parseDocument,
  toYaml,
} from '../../src/controller/web/gateway/openapi.js';

const route = (method: string, path: string, name = `${method.toLowerCase()}${path}`): ApiRoute => ({
  path,
  method,
  action: { namespace: 'guest', name: name.replace(/[^\w]/g, '_') },
  responseType: 'json',
});

const api = (routes: ApiRoute[]): ApiDoc => ({
  namespace: 'guest',
  name: 'Books',
  version: '0.0.1',
  publish: false,
  annotations: [],
  updated: 1,
  basePath: '/library',
  routes,
});

const rejects = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof WhirlError && err.status === 400;
  }
  return false;
};

describe('paths, methods and response types', () => {
  it('accepts base paths of up to four URL-safe segments', () => {
    expect(checkBasePath('/books')).toBe('/books');
    expect(checkBasePath('/v1/books/')).toBe('/v1/books');
    expect(checkBasePath('/')).toBe('/');
    for (const bad of ['books', '/a/b/c/d/e', '/a b', '/{id}', '/a//b', 7])
      expect(rejects(() => checkBasePath(bad))).toBe(true);
  });

  it('accepts route paths with placeholders, each named once and never __ow_*', () => {
    expect(checkRoutePath('/books/{id}')).toBe('/books/{id}');
    expect(checkRoutePath('/files/{name}.{ext}/')).toBe('/files/{name}.{ext}');
    expect(checkRoutePath('/')).toBe('/');
    for (const bad of ['x', '/a/{id}/{id}', '/{__ow_user}', '/{a}{b}', '/a{', '/a b', '//x'])
      expect(rejects(() => checkRoutePath(bad))).toBe(true);
  });

  it('knows the methods and response types', () => {
    expect(checkMethod('get')).toBe('GET');
    expect(rejects(() => checkMethod('TRACE'))).toBe(true);
    expect(checkResponseType(undefined)).toBe('json');
    expect(checkResponseType('HTTP')).toBe('http');
    expect(rejects(() => checkResponseType('xml'))).toBe(true);
  });
});

describe('matching requests to routes', () => {
  const books = api([
    route('GET', '/books'),
    route('POST', '/books'),
    route('GET', '/books/{id}'),
    route('DELETE', '/books/{id}'),
    route('GET', '/books/new'),
    route('GET', '/files/{name}.{ext}'),
    route('GET', '/'),
  ]);

  it('picks the route for the method and passes placeholder values, decoded', () => {
    expect(matchRoute(books, '/books/42', 'GET')).toMatchObject({
      route: { path: '/books/{id}', method: 'GET' },
      params: { id: '42' },
    });
    expect(matchRoute(books, '/books/a%20b/', 'DELETE')).toMatchObject({ params: { id: 'a b' } });
    expect(matchRoute(books, '/files/report.pdf', 'GET')).toMatchObject({
      params: { name: 'report', ext: 'pdf' },
    });
    expect(matchRoute(books, '/', 'GET')).toMatchObject({ route: { path: '/' } });
    expect(matchRoute(books, '', 'GET')).toMatchObject({ route: { path: '/' } });
  });

  it('prefers literal segments to placeholders', () => {
    expect(matchRoute(books, '/books/new', 'GET')).toMatchObject({
      route: { path: '/books/new' },
      params: {},
    });
  });

  it('lists the methods of a known path asked with another one (405)', () => {
    expect(matchRoute(books, '/books', 'PUT')).toEqual({ methods: ['GET', 'POST'] });
    // `/books/new` only has GET; DELETE of it is not routed to `/books/{id}`.
    expect(matchRoute(books, '/books/new', 'DELETE')).toEqual({ methods: ['GET'] });
  });

  it('answers HEAD with the GET route, and nothing for unknown paths', () => {
    expect(matchRoute(books, '/books', 'HEAD')).toMatchObject({ route: { method: 'GET' } });
    expect(matchRoute(books, '/authors', 'GET')).toBeUndefined();
    expect(matchRoute(books, '/books/1/2', 'GET')).toBeUndefined();
    expect(matchRoute(books, '/books/%E0%A4%A', 'GET')).toBeUndefined();
  });
});

describe('OpenAPI', () => {
  const swagger = {
    swagger: '2.0',
    info: { title: 'Book Club', version: '2.1.0', description: 'books' },
    basePath: '/club',
    definitions: { Book: { type: 'object' } },
    paths: {
      '/books': {
        get: {
          summary: 'list',
          'x-openwhisk': {
            namespace: '_',
            action: 'listBooks',
            url: 'https://h/api/v1/web/_/default/listBooks.http',
          },
          responses: { 200: { description: 'ok' } },
        },
        post: { 'x-openwhisk': { namespace: 'guest', package: 'lib', action: 'addBook' } },
      },
      '/books/{id}': {
        get: { 'x-openwhisk': { namespace: 'other', action: 'shared/getBook', url: 'x.svg' } },
      },
    },
  };

  it('imports Swagger 2.0 with x-openwhisk actions, response types from the action URL', () => {
    const imported = importOpenApi(swagger, 'guest');
    expect(imported).toMatchObject({ basePath: '/club', name: 'Book Club' });
    expect(imported.routes).toEqual([
      {
        path: '/books',
        method: 'GET',
        action: { namespace: 'guest', name: 'listBooks' },
        responseType: 'http',
        operation: { summary: 'list', responses: { 200: { description: 'ok' } } },
      },
      {
        path: '/books',
        method: 'POST',
        action: { namespace: 'guest', package: 'lib', name: 'addBook' },
        responseType: 'json',
      },
      {
        path: '/books/{id}',
        method: 'GET',
        action: { namespace: 'other', package: 'shared', name: 'getBook' },
        responseType: 'svg',
      },
    ]);
    expect(imported.spec).toEqual({ info: swagger.info, definitions: swagger.definitions });
  });

  it('imports OpenAPI 3 (base path from the first server) and YAML', () => {
    const yaml = `
openapi: 3.0.3
info: { title: Pets, version: '1' }
servers: [{ url: 'https://example.com/v1/pets' }]
paths:
  /{id}:
    get:
      x-openwhisk: { action: getPet, responseType: http }
`;
    const imported = importOpenApi(parseDocument(yaml), 'guest');
    expect(imported).toMatchObject({
      basePath: '/v1/pets',
      name: 'Pets',
      routes: [
        {
          path: '/{id}',
          method: 'GET',
          action: { namespace: 'guest', name: 'getPet' },
          responseType: 'http',
        },
      ],
    });
  });

  it('refuses documents without operations, without actions, or of another kind', () => {
    expect(rejects(() => importOpenApi({ swagger: '2.0', basePath: '/a', paths: {} }, 'g'))).toBe(true);
    expect(
      rejects(() => importOpenApi({ swagger: '2.0', basePath: '/a', paths: { '/x': { get: {} } } }, 'g')),
    ).toBe(true);
    expect(rejects(() => importOpenApi({ openapi: '2.5', paths: {} }, 'g'))).toBe(true);
    expect(rejects(() => parseDocument('{ unbalanced: [ }'))).toBe(true);
  });

  it('exports what it imported, with x-openwhisk web action URLs and declared path parameters', () => {
    const imported = importOpenApi(swagger, 'guest');
    const doc: ApiDoc = {
      ...api(imported.routes),
      basePath: imported.basePath,
      name: imported.name,
      spec: imported.spec,
    };
    const out = exportOpenApi(doc, 'http://w:1', 'http://w:1/api/gw/guest');
    expect(out).toMatchObject({
      swagger: '2.0',
      info: { title: 'Book Club', version: '2.1.0', description: 'books' },
      basePath: '/club',
      definitions: { Book: { type: 'object' } },
    });
    const paths = out.paths as Record<string, Record<string, Record<string, unknown>>>;
    expect(paths['/books']!.get).toMatchObject({
      summary: 'list',
      'x-openwhisk': {
        namespace: 'guest',
        action: 'listBooks',
        url: 'http://w:1/api/v1/web/guest/default/listBooks.http',
      },
    });
    expect(paths['/books/{id}']!.get!.parameters).toEqual([
      { name: 'id', in: 'path', required: true, type: 'string' },
    ]);
    // And back: the export imports to the same routes, and exports to the same document again.
    const again = importOpenApi(parseDocument(toYaml(out)), 'guest');
    const essentials = (rs: ApiRoute[]) => rs.map(({ operation: _o, ...r }) => r);
    expect(essentials(again.routes)).toEqual(essentials(imported.routes));
    const doc2: ApiDoc = { ...doc, routes: again.routes, spec: again.spec };
    expect(exportOpenApi(doc2, 'http://w:1', 'http://w:1/api/gw/guest')).toEqual(out);
  });

  // What the Serverless Framework's `http` events (and OpenWhisk's API management) send: the package
  // `default` for "no package", and the secured action's secret in the gateway assembly.
  const serverless = {
    swagger: '2.0',
    basePath: '/',
    info: { title: 'svc', version: '1.0' },
    paths: {
      '/greet': {
        get: {
          operationId: 'get-/greet',
          'x-openwhisk': {
            action: 'svc-greet',
            namespace: 'guest',
            package: 'default',
            url: 'https://h/x.json',
          },
        },
      },
      '/open': { post: { operationId: 'post-/open', 'x-openwhisk': { action: 'default/open' } } },
    },
    'x-ibm-configuration': {
      cors: { enabled: true },
      assembly: {
        execute: [
          {
            'operation-switch': {
              case: [
                {
                  operations: ['get-/greet'],
                  execute: [
                    {
                      'set-variable': {
                        actions: [{ set: 'message.headers.X-Require-Whisk-Auth', value: 's3cret' }],
                      },
                    },
                    { invoke: { 'target-url': 'https://h/x.json', verb: 'keep' } },
                  ],
                },
              ],
            },
          },
        ],
      },
    },
  };

  it('takes the package `default` as no package', () => {
    const imported = importOpenApi(serverless, 'guest');
    expect(imported.routes.map((r) => r.action)).toEqual([
      { namespace: 'guest', name: 'svc-greet' },
      { namespace: 'guest', name: 'open' },
    ]);
  });

  it('reads the X-Require-Whisk-Auth secret each operation sends, and exports it again', () => {
    const imported = importOpenApi(serverless, 'guest');
    expect(imported.routes.map((r) => r.secureKey)).toEqual(['s3cret', undefined]);
    // The assembly is rebuilt from the routes; the rest of the gateway configuration is kept.
    expect(imported.spec).toEqual({
      info: serverless.info,
      'x-ibm-configuration': { cors: { enabled: true } },
    });
    const doc: ApiDoc = { ...api(imported.routes), basePath: '/', name: 'svc', spec: imported.spec };
    const out = exportOpenApi(doc, 'http://w:1', 'http://w:1/api/gw/guest');
    expect(out['x-ibm-configuration']).toEqual({
      cors: { enabled: true },
      assembly: {
        execute: [
          {
            'operation-switch': {
              case: [
                {
                  operations: ['get-/greet'],
                  execute: [
                    {
                      'set-variable': {
                        actions: [{ set: 'message.headers.X-Require-Whisk-Auth', value: 's3cret' }],
                      },
                    },
                    {
                      invoke: {
                        'target-url': 'http://w:1/api/v1/web/guest/default/svc-greet.json',
                        verb: 'keep',
                      },
                    },
                  ],
                },
              ],
            },
          },
        ],
      },
    });
    const essentials = (rs: ApiRoute[]) => rs.map(({ operation: _o, ...r }) => r);
    expect(essentials(importOpenApi(out, 'guest').routes)).toEqual(essentials(imported.routes));
    expect(
      rejects(() => importOpenApi({ ...serverless, 'x-ibm-configuration': badKey({ no: 1 }) }, 'g')),
    ).toBe(true);
  });

  it('exports OpenAPI 3 imports as OpenAPI 3, with the gateway URL as server', () => {
    const imported = importOpenApi(
      {
        openapi: '3.1.0',
        info: { title: 'T' },
        paths: { '/x': { get: { 'x-openwhisk': { action: 'a' } } } },
      },
      'guest',
    );
    const doc: ApiDoc = { ...api(imported.routes), basePath: imported.basePath, spec: imported.spec };
    const out = exportOpenApi(doc, 'http://w', 'http://w/api/gw/guest');
    expect(out).toMatchObject({ openapi: '3.1.0', servers: [{ url: 'http://w/api/gw/guest' }] });
    expect(parseYaml(toYaml(out))).toEqual(out);
  });
});

/** A gateway configuration whose one secret is `value`. */
function badKey(value: unknown) {
  const set = { set: 'message.headers.x-require-whisk-auth', value };
  const step = { operations: ['get-/greet'], execute: [{ 'set-variable': { actions: [set] } }] };
  return { assembly: { execute: [{ 'operation-switch': { case: [step] } }] } };
}
