/**
 * End to end: web actions through the CLI (`action create|update --web/--web-secure`, `action get --url`)
 * against a real standalone Whirl, with real HTTP requests to the printed URLs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The web-related annotations of an action, as stored. */
async function webAnnotations(name: string): Promise<Record<string, unknown>> {
  const a = jsonAfterOk<Action & { annotations: KeyValue[] }>(await ok('action', 'get', name));
  const keys = ['web-export', 'raw-http', 'final', 'require-whisk-auth'];
  return Object.fromEntries(
    a.annotations.filter((kv) => keys.includes(kv.key)).map((kv) => [kv.key, kv.value]),
  );
}

/** `action get NAME --url`: the URL line. */
async function urlOf(name: string): Promise<string> {
  const lines = (await ok('action', 'get', name, '--url')).trim().split('\n');
  expect(lines[0]).toBe(`ok: got action ${name}`);
  return lines[1]!;
}

const PAGE = `function main(p) {
  return { headers: { 'content-type': 'text/html' }, body: '<h1>Hello ' + (p.name || 'web') + '</h1>' };
}`;
const RAW = `function main(p) {
  return { body: { method: p.__ow_method, body: p.__ow_body, query: p.__ow_query, sig: p.__ow_headers['x-signature'] } };
}`;

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-web-'));
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whirl action --web', () => {
  it('--web true sets web-export, raw-http and final as wsk does, and the printed URL serves the page', async () => {
    await ok('action', 'create', 'page', file('page.js', PAGE), '--web', 'true');
    expect(await webAnnotations('page')).toEqual({ 'web-export': true, 'raw-http': false, final: true });
    const url = await urlOf('page');
    expect(url).toBe(`${w.url}/api/v1/web/guest/default/page`);
    const res = await fetch(`${url}?name=Ann`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toBe('<h1>Hello Ann</h1>');
  });

  it('--web raw passes the request unparsed', async () => {
    await ok('action', 'create', 'hook', file('hook.js', RAW), '--web', 'raw');
    expect(await webAnnotations('hook')).toEqual({ 'web-export': true, 'raw-http': true, final: true });
    const res = await fetch(`${await urlOf('hook')}?a=1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-signature': 'sha256=abc' },
      body: 'payload text',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      method: 'post',
      body: 'payload text',
      query: 'a=1',
      sig: 'sha256=abc',
    });
  });

  it('--web-secure SECRET requires the X-Require-Whisk-Auth header; true picks a number; false opens it', async () => {
    await ok(
      'action',
      'create',
      'secret',
      file('secret.js', PAGE),
      '--web',
      'true',
      '--web-secure',
      's3cret',
    );
    expect(await webAnnotations('secret')).toEqual({
      'web-export': true,
      'raw-http': false,
      final: true,
      'require-whisk-auth': 's3cret',
    });
    const url = await urlOf('secret');
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { 'x-require-whisk-auth': 'wrong' } })).status).toBe(401);
    const good = await fetch(url, { headers: { 'x-require-whisk-auth': 's3cret' } });
    expect(good.status).toBe(200);
    expect(await good.text()).toBe('<h1>Hello web</h1>');

    await ok('action', 'update', 'secret', '--web-secure', 'true');
    const generated = (await webAnnotations('secret'))['require-whisk-auth'];
    expect(typeof generated).toBe('number');
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { 'x-require-whisk-auth': String(generated) } })).status).toBe(200);

    await ok('action', 'update', 'secret', '--web-secure', 'false');
    expect((await webAnnotations('secret'))['require-whisk-auth']).toBe(false);
    expect((await fetch(url)).status).toBe(200);
  });

  it('--web false turns it off: the URL answers 404 and get --url says why', async () => {
    await ok('action', 'update', 'page', '--web', 'false');
    expect(await webAnnotations('page')).toEqual({ 'web-export': false, 'raw-http': false, final: false });
    const r = await run('action', 'get', 'page', '--url');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')[1]).toBe(`${w.url}/api/v1/web/guest/default/page`);
    expect(r.stderr).toContain('is not a web action');
    expect(r.stderr).toContain('whirl action update page --web true');
    expect((await fetch(`${w.url}/api/v1/web/guest/default/page`)).status).toBe(404);
  });

  it('refuses --web-secure without --web on create, and bad --web values', async () => {
    const a = await run('action', 'create', 'x', file('x.js', PAGE), '--web-secure', 'abc');
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--web-secure applies to web actions');
    const b = await run('action', 'create', 'x', file('x.js', PAGE), '--web', 'maybe');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--web is true, false or raw');
  });

  it('prints the URL of a web action in a package', async () => {
    await ok('package', 'create', 'site');
    await ok('action', 'create', 'site/home', file('home.js', PAGE), '--web', 'true');
    const url = await urlOf('site/home');
    expect(url).toBe(`${w.url}/api/v1/web/guest/site/home`);
    expect(await (await fetch(url)).text()).toBe('<h1>Hello web</h1>');
  });
});
