/**
 * The entity collections of the client (packages, triggers, rules, APIs) against a fake server: the
 * requests they send and how they read the answers. The real server is exercised by test/cli.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeBasePath, WhirlApiError, WhirlClient } from './client.js';

interface Seen {
  method: string;
  url: string;
  type: string | undefined;
  body: string;
}

let server: Server;
let client: WhirlClient;
const seen: Seen[] = [];
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
const last = () => seen[seen.length - 1]!;

function send(res: ServerResponse, status: number, body?: unknown, type = 'application/json') {
  res.writeHead(status, body === undefined ? {} : { 'content-type': type });
  res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'], body });
      const route = routes.get(`${req.method} ${req.url!.split('?')[0]}`);
      if (route) route(req, res);
      else send(res, 200, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new WhirlClient({
    apihost: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    auth: 'a:b',
  });
});
afterAll(async () => {
  client.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('packages', () => {
  it('bind a package with parameters, and delete with force', async () => {
    await client.packages.bind(
      'mine',
      { namespace: 'whisk.system', name: 'utils' },
      {
        parameters: [{ key: 'k', value: 1 }],
      },
    );
    expect(last()).toMatchObject({ method: 'PUT', url: '/api/v1/namespaces/_/packages/mine' });
    expect(JSON.parse(last().body)).toEqual({
      binding: { namespace: 'whisk.system', name: 'utils' },
      parameters: [{ key: 'k', value: 1 }],
    });
    await client.packages.remove('mine', { force: true });
    expect(last()).toMatchObject({ method: 'DELETE', url: '/api/v1/namespaces/_/packages/mine?force=true' });
    await client.packages.remove('mine');
    expect(last().url).toBe('/api/v1/namespaces/_/packages/mine');
  });

  it('list another namespace', async () => {
    await client.packages.list({ namespace: 'whisk.system', limit: 5 });
    expect(last().url).toBe('/api/v1/namespaces/whisk.system/packages?limit=5');
  });

  it('do not nest, and neither do triggers and rules', async () => {
    await expect(client.packages.get('a/b')).rejects.toThrow(/cannot live in packages/);
    await expect(client.triggers.get('a/b')).rejects.toThrow(/cannot live in packages/);
    await expect(client.rules.get('a/b')).rejects.toThrow(/cannot live in packages/);
  });
});

describe('triggers and rules', () => {
  it('fire: 202 with an activation id, or 204 when no rule is active', async () => {
    routes.set('POST /api/v1/namespaces/_/triggers/t', (_q, res) => send(res, 202, { activationId: 'abc' }));
    expect(await client.triggers.fire('t', { a: 1 })).toEqual({ status: 202, activationId: 'abc' });
    expect(JSON.parse(last().body)).toEqual({ a: 1 });
    routes.set('POST /api/v1/namespaces/_/triggers/t', (_q, res) => send(res, 204));
    expect(await client.triggers.fire('t')).toEqual({ status: 204, activationId: undefined });
  });

  it('enable and disable rules with POST {status}', async () => {
    await client.rules.setStatus('/guest/r', 'inactive');
    expect(last()).toMatchObject({ method: 'POST', url: '/api/v1/namespaces/guest/rules/r' });
    expect(JSON.parse(last().body)).toEqual({ status: 'inactive' });
  });
});

describe('APIs', () => {
  const summary = (basePath: string, name: string) => ({
    namespace: 'guest',
    name,
    basePath,
    url: `http://h/api/gw/guest${basePath}`,
    routes: [],
  });

  it('address an API by base path (the root too) or by name', async () => {
    await client.apis.remove('/v1/books', '/x/{id}', 'GET');
    expect(last()).toMatchObject({
      method: 'DELETE',
      url: '/api/v1/namespaces/_/apis/v1/books?path=%2Fx%2F%7Bid%7D&method=get',
    });
    await client.apis.remove('/');
    expect(last().url).toBe('/api/v1/namespaces/_/apis/');
    await client.apis.remove('Book Club');
    expect(last().url).toBe('/api/v1/namespaces/_/apis/Book%20Club');
  });

  it('add routes as JSON and import documents as JSON or YAML, replacing only when asked', async () => {
    routes.set('POST /api/v1/namespaces/_/apis', (_q, res) =>
      send(res, 200, { ...summary('/b', '/b'), webExported: ['/guest/a'] }),
    );
    const api = await client.apis.addRoute({ basePath: '/b', path: '/x', method: 'GET', action: '/_/a' });
    expect(api.webExported).toEqual(['/guest/a']);
    expect(JSON.parse(last().body)).toEqual({ basePath: '/b', path: '/x', method: 'GET', action: '/_/a' });

    await client.apis.importDocument('swagger: "2.0"\n', { yaml: true });
    expect(last()).toMatchObject({
      method: 'PUT',
      url: '/api/v1/namespaces/_/apis',
      type: 'application/yaml',
      body: 'swagger: "2.0"\n',
    });
    await client.apis.importDocument('{"swagger":"2.0"}', { overwrite: true });
    expect(last()).toMatchObject({
      url: '/api/v1/namespaces/_/apis?overwrite=true',
      type: 'application/json',
    });
  });

  it('export documents as text (YAML is not parsed)', async () => {
    routes.set('GET /api/v1/namespaces/_/apis/library', (_q, res) =>
      send(res, 200, '"quoted": yes\n', 'application/yaml'),
    );
    expect(await client.apis.exportDocument('/library', 'yaml')).toBe('"quoted": yes\n');
    expect(last().url).toBe('/api/v1/namespaces/_/apis/library?format=yaml');
  });

  it('find one API in the list by base path or name, else a 404', async () => {
    routes.set('GET /api/v1/namespaces/_/apis', (_q, res) =>
      send(res, 200, [summary('/library', 'Library'), summary('/', '/')]),
    );
    expect((await client.apis.get('/library/')).name).toBe('Library');
    expect((await client.apis.get('Library')).basePath).toBe('/library');
    expect((await client.apis.get('/')).basePath).toBe('/');
    const err = await client.apis.get('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhirlApiError);
    expect((err as WhirlApiError).status).toBe(404);
  });

  it('normalise base paths', () => {
    expect(normalizeBasePath('/a/b/')).toBe('/a/b');
    expect(normalizeBasePath('/')).toBe('/');
    expect(normalizeBasePath('//a')).toBe('/a');
  });
});
