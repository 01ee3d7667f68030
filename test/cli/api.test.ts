/**
 * End to end: `whirl api create|get|list|delete` against a real standalone Whirl, with real HTTP requests
 * to the URLs the CLI prints (docs/api-gateway.md).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, KeyValue } from '../../src/cli/types.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli, jsonAfterOk } from './run-cli.js';

let w: Whirl;
let dir: string;
const run = (...args: string[]) => cli(w.env, args);

function file(name: string, content: string): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The URL `api create` prints (its last line). */
const lastLine = (stdout: string) => stdout.trim().split('\n').at(-1)!;

const BOOK = `function main(p) { return { id: p.id, path: p.__ow_path, method: p.__ow_method, q: p.q }; }`;
const HTML = `function main() { return { headers: { 'content-type': 'text/html' }, body: '<p>ping</p>' }; }`;

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-api-'));
  await ok('action', 'create', 'getBook', file('book.js', BOOK));
  await ok('action', 'create', 'ping', file('ping.js', HTML), '--web', 'true');
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whirl api create', () => {
  it('creates a route, makes the action a web action (and says so), and prints a URL that answers', async () => {
    const out = await ok(
      'api',
      'create',
      '/library',
      '/books/{id}',
      'get',
      'getBook',
      '--apiname',
      'Library',
    );
    expect(out.trim().split('\n')).toEqual([
      'ok: made /guest/getBook a web action (web-export: true) so that the API can run it',
      'ok: created API /library/books/{id} GET for action /guest/getBook',
      `${w.url}/api/gw/guest/library/books/{id}`,
    ]);
    const a = jsonAfterOk<Action & { annotations: KeyValue[] }>(await ok('action', 'get', 'getBook'));
    expect(a.annotations).toEqual(expect.arrayContaining([{ key: 'web-export', value: true }]));

    const res = await fetch(`${lastLine(out).replace('{id}', '42')}?q=x`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '42', path: '/books/42', method: 'get', q: 'x' });
    // A known path with another method.
    expect((await fetch(lastLine(out).replace('{id}', '42'), { method: 'PUT' })).status).toBe(405);
  });

  it('puts three arguments under the root base path, with the response type given', async () => {
    const out = await ok('api', 'create', '/ping', 'get', 'ping', '--response-type', 'http');
    expect(out).not.toContain('made');
    expect(out).toContain('ok: created API /ping GET for action /guest/ping\n');
    const res = await fetch(lastLine(out));
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toBe('<p>ping</p>');
  });

  it('publishes a --web-secure action: the route presents its secret, the web URL still needs it', async () => {
    await ok('action', 'create', 'vault', file('vault.js', HTML), '--web', 'true', '--web-secure', 'true');
    const out = await ok('api', 'create', '/vault', '/open', 'get', 'vault', '--response-type', 'http');
    const res = await fetch(lastLine(out));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<p>ping</p>');
    expect((await fetch(`${w.url}/api/v1/web/guest/default/vault.http`)).status).toBe(401);
    await ok('api', 'delete', '/vault');
  });

  it('refuses bad verbs and paths on the command line, and missing actions on the server', async () => {
    const verb = await run('api', 'create', '/x', '/y', 'fetch', 'getBook');
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain("'fetch' is not a valid API verb");
    const path = await run('api', 'create', '/x', 'y', 'get', 'getBook');
    expect(path.code).toBe(2);
    const missing = await run('api', 'create', '/x', '/y', 'get', 'nosuch');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Unable to create API: action \/guest\/nosuch does not exist/);
    const none = await run('api', 'create');
    expect(none.code).toBe(2);
  });
});

describe('whirl api list, get and delete', () => {
  it('lists every route with its URL, filtered by API, path and verb', async () => {
    await ok('api', 'create', '/library', '/books', 'post', 'getBook');
    const all = (await ok('api', 'list', '-n')).trim().split('\n');
    expect(all[0]).toBe('ok: APIs');
    expect(all[1]).toMatch(/^Action\s+Verb\s+API Name {2}URL$/);
    expect(all.slice(2).map((l) => l.replace(/\s+/g, ' '))).toEqual([
      `/guest/ping get / ${w.url}/api/gw/guest/ping`,
      `/guest/getBook post Library ${w.url}/api/gw/guest/library/books`,
      `/guest/getBook get Library ${w.url}/api/gw/guest/library/books/{id}`,
    ]);
    const one = (await ok('api', 'list', 'Library', '/books', 'post')).trim().split('\n');
    expect(one).toHaveLength(3);
    const full = await ok('api', 'list', '/library', '/books/{id}', '-f');
    expect(full).toContain('Action: /guest/getBook\n  API Name: Library\n  Base path: /library\n');
    expect(full).toContain(`  URL: ${w.url}/api/gw/guest/library/books/{id}\n`);
  });

  it('exports OpenAPI (JSON or YAML) that imports again with --config-file', async () => {
    const json = JSON.parse(await ok('api', 'get', 'Library')) as Record<string, unknown>;
    expect(json).toMatchObject({ swagger: '2.0', basePath: '/library', info: { title: 'Library' } });
    expect(Object.keys(json.paths as object).sort()).toEqual(['/books', '/books/{id}']);
    const yaml = await ok('api', 'get', '/library', '--format', 'yaml');
    expect(yaml).toMatch(/^swagger: "2.0"\n/m);
    const saved = file('library.yaml', yaml);

    expect(await ok('api', 'delete', 'Library')).toBe('ok: deleted API Library\n');
    expect((await fetch(`${w.url}/api/gw/guest/library/books/1`)).status).toBe(404);

    const created = await ok('api', 'create', '--config-file', saved);
    expect(created).toContain(`ok: created API /library/books/{id} GET for action /guest/getBook\n`);
    expect(created).toContain(`${w.url}/api/gw/guest/library/books\n`);
    expect(await (await fetch(`${w.url}/api/gw/guest/library/books/7`)).json()).toMatchObject({ id: '7' });
    // A document again at the same base path replaces the API, and says so.
    const again = await ok('api', 'create', '-c', saved);
    expect(again).toContain("ok: replaced the API that was at /library ('Library')\n");
    expect(readFileSync(saved, 'utf8')).toBe(yaml);
  });

  it('imports an OpenAPI 3 JSON document', async () => {
    const doc = {
      openapi: '3.0.3',
      info: { title: 'Shop', version: '1.0.0' },
      servers: [{ url: '/shop' }],
      paths: {
        '/items/{id}': {
          get: { summary: 'one item', 'x-openwhisk': { namespace: '_', action: 'getBook' } },
        },
      },
    };
    const out = await ok('api', 'create', '--config-file', file('shop.json', JSON.stringify(doc)));
    expect(out).toBe(
      `ok: created API /shop/items/{id} GET for action /guest/getBook\n${w.url}/api/gw/guest/shop/items/{id}\n`,
    );
    expect(await (await fetch(`${w.url}/api/gw/guest/shop/items/9`)).json()).toMatchObject({ id: '9' });
    const exported = JSON.parse(await ok('api', 'get', 'Shop')) as { openapi?: string };
    expect(exported.openapi).toBe('3.0.3');
  });

  it('deletes one verb, one path, a whole API (the root one too), and explains unknown ones', async () => {
    expect(await ok('api', 'delete', '/library', '/books', 'post')).toBe(
      'ok: deleted /books POST from /library\n',
    );
    expect((await fetch(`${w.url}/api/gw/guest/library/books`, { method: 'POST' })).status).toBe(404);
    expect(await ok('api', 'delete', '/library', '/books/{id}')).toBe(
      'ok: deleted /books/{id} from /library\n',
    );
    expect(await ok('api', 'delete', '/')).toBe('ok: deleted API /\n');
    expect((await fetch(`${w.url}/api/gw/guest/ping`)).status).toBe(404);
    const gone = await run('api', 'delete', '/library');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /^error: Unable to delete API '\/library': API '\/?library' does not exist\./,
    );
    expect(gone.stderr).toContain("Run 'whirl api list' to see what exists.");
    const list = (await ok('api', 'list')).trim().split('\n');
    expect(list.slice(2).map((l) => l.replace(/\s+/g, ' '))).toEqual([
      `/guest/getBook get Shop ${w.url}/api/gw/guest/shop/items/{id}`,
    ]);
  });
});
