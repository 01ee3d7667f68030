import { describe, expect, it } from 'vitest';
import type { ApiSummary } from '../types.js';
import { apiFullList, apiRows, apiTable, checkVerb, fullPath, parseCreateArgs, sortRows } from './api.js';

const library: ApiSummary = {
  namespace: 'guest',
  name: 'Library',
  basePath: '/library',
  url: 'http://h/api/gw/guest/library',
  routes: [
    {
      path: '/books/{id}',
      method: 'GET',
      action: '/guest/getBook',
      responseType: 'json',
      url: 'http://h/api/gw/guest/library/books/{id}',
    },
    {
      path: '/books',
      method: 'POST',
      action: '/guest/pkg/addBook',
      responseType: 'http',
      url: 'http://h/api/gw/guest/library/books',
    },
  ],
};
const root: ApiSummary = {
  namespace: 'guest',
  name: '/',
  basePath: '/',
  url: 'http://h/api/gw/guest',
  routes: [
    {
      path: '/ping',
      method: 'GET',
      action: '/guest/ping',
      responseType: 'json',
      url: 'http://h/api/gw/guest/ping',
    },
  ],
};

describe('api create arguments', () => {
  it('takes BASE_PATH REL_PATH VERB ACTION, qualifying the action', () => {
    expect(parseCreateArgs(['/library', '/books/{id}', 'get', 'getBook'])).toEqual({
      basePath: '/library',
      path: '/books/{id}',
      method: 'GET',
      action: '/_/getBook',
    });
  });

  it('puts three arguments under the root base path and keeps name and response type', () => {
    expect(
      parseCreateArgs(['/hello', 'POST', 'pkg/hi'], {
        apiname: 'Hi',
        responseType: 'HTTP',
        namespace: 'guest',
      }),
    ).toEqual({
      basePath: '/',
      path: '/hello',
      method: 'POST',
      action: '/guest/pkg/hi',
      name: 'Hi',
      responseType: 'http',
    });
  });

  it('reads a first argument without a slash as the API name, as wsk does', () => {
    expect(parseCreateArgs(['Library', '/books', 'get', 'a'])).toMatchObject({
      basePath: '/Library',
      name: 'Library',
    });
    expect(() => parseCreateArgs(['Library', '/books', 'get', 'a'], { apiname: 'X' })).toThrow(/once/);
  });

  it('normalises the base path and refuses what the gateway would refuse', () => {
    expect(parseCreateArgs(['/v1/books/', '/x', 'get', 'a']).basePath).toBe('/v1/books');
    expect(() => parseCreateArgs(['/b/{id}', '/x', 'get', 'a'])).toThrow(/parameters/);
    expect(() => parseCreateArgs(['/b', 'x', 'get', 'a'])).toThrow(/must begin with '\/'/);
    expect(() => parseCreateArgs(['/b', '/x', 'fetch', 'a'])).toThrow(/not a valid API verb/);
    expect(() => parseCreateArgs(['/b', '/x', 'get', 'a'], { responseType: 'xml' })).toThrow(/response-type/);
    expect(() => parseCreateArgs(['/x', 'get'])).toThrow(/BASE_PATH/);
  });

  it('accepts the verbs of the gateway in any case', () => {
    for (const v of ['get', 'Post', 'PUT', 'delete', 'patch', 'head', 'options'])
      expect(checkVerb(v)).toBe(v.toUpperCase());
  });
});

describe('api listing', () => {
  it('joins base path and route path', () => {
    expect(fullPath('/library', '/books')).toBe('/library/books');
    expect(fullPath('/', '/ping')).toBe('/ping');
    expect(fullPath('/library', '/')).toBe('/library');
  });

  it('makes one row per route, filtered by API (base path or name), path and verb', () => {
    expect(apiRows([library, root])).toHaveLength(3);
    expect(apiRows([library, root], { api: '/library/' }).map((r) => r.path)).toEqual([
      '/books/{id}',
      '/books',
    ]);
    expect(apiRows([library, root], { api: 'Library', path: '/books', verb: 'post' })).toEqual([
      {
        action: '/guest/pkg/addBook',
        verb: 'post',
        apiName: 'Library',
        basePath: '/library',
        path: '/books',
        url: 'http://h/api/gw/guest/library/books',
      },
    ]);
    expect(apiRows([library, root], { api: '/' }).map((r) => r.path)).toEqual(['/ping']);
    expect(apiRows([library], { api: 'nope' })).toEqual([]);
  });

  it('sorts by base path, path and verb', () => {
    expect(sortRows(apiRows([library, root])).map((r) => `${r.basePath} ${r.path}`)).toEqual([
      '/ /ping',
      '/library /books',
      '/library /books/{id}',
    ]);
  });

  it('prints wsk-style columns and a full form', () => {
    const lines = apiTable(apiRows([library]));
    expect(lines[0]).toMatch(/^Action\s+Verb\s+API Name {2}URL$/);
    // Action padded to the longest (18), verb right-aligned in 7, name in 9 (8 + 1), two spaces, URL.
    expect(lines[1]).toBe(
      `${'/guest/getBook'.padEnd(18)}     get   Library  http://h/api/gw/guest/library/books/{id}`,
    );
    expect(lines[2]).toBe(`/guest/pkg/addBook    post   Library  http://h/api/gw/guest/library/books`);
    expect(apiTable([])).toEqual(['Action    Verb  API Name  URL']);
    expect(apiFullList(apiRows([root]))).toEqual([
      'Action: /guest/ping',
      '  API Name: /',
      '  Base path: /',
      '  Path: /ping',
      '  Verb: get',
      '  URL: http://h/api/gw/guest/ping',
    ]);
  });
});
