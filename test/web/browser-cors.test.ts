// CORS from a real browser: a page served from another origin on loopback calls web actions and an API
// route with a custom header and a JSON body, which makes Chromium send a preflight first. Debian's
// chromium, driven by playwright-core; the test is skipped (loudly) where it is not installed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { putAction, rest } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`browser CORS tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

let w: Whirl;
let pages: Server;
let pageOrigin: string;
let browser: BrowserContext;
let profile: string;

/** The page: its script calls the Whirl origin given in the query and reports what it saw. */
const PAGE = `<!doctype html><html><body><script>
async function call(url, init) {
  try {
    const r = await fetch(url, init);
    return { status: r.status, body: await r.text(), activation: r.headers.get('x-openwhisk-activation-id') };
  } catch (e) {
    return { failed: String(e) };
  }
}
window.call = call;
</script></body></html>`;

describe.skipIf(!hasChromium)('CORS in a browser', () => {
  beforeAll(async () => {
    w = await startWhirl();
    await putAction(w.url, w.guestKey, 'profile', {
      web: true,
      code: `function main(p) {
        return { method: p.__ow_method, token: p.__ow_headers['x-client-token'], origin: p.__ow_headers.origin, n: p.n };
      }`,
    });
    // Answers OPTIONS itself and grants nothing: the browser must refuse the real request.
    await putAction(w.url, w.guestKey, 'closed', {
      web: true,
      annotations: { 'web-custom-options': true },
      code: 'function main(p) { return { statusCode: 200, body: { method: p.__ow_method } } }',
    });
    const route = await rest(w.url, w.guestKey, 'POST', '/namespaces/_/apis', {
      basePath: '/app',
      path: '/profile',
      method: 'PUT',
      action: 'profile',
    });
    expect(route.status).toBe(200);

    pages = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    // Same host, another port: another origin as far as the browser is concerned.
    pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'whirl-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await w?.cleanup();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  type Seen = { status?: number; body?: string; activation?: string | null; failed?: string };
  const fromPage = async (url: string, init: Record<string, unknown>): Promise<Seen> => {
    const page = await browser.newPage();
    try {
      await page.goto(`${pageOrigin}/`);
      return await page.evaluate(
        // Runs in the page, where globalThis is its window.
        ([u, i]) => (globalThis as unknown as { call: (u: string, i: unknown) => Promise<Seen> }).call(u, i),
        [url, init] as const,
      );
    } finally {
      await page.close();
    }
  };
  const preflighted = {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', 'X-Client-Token': 'tok-42' },
    body: JSON.stringify({ n: 7 }),
  };

  it('passes a preflighted PUT with a custom header to a web action', async () => {
    const seen = await fromPage(`${w.url}/api/v1/web/guest/default/profile.json`, preflighted);
    expect(seen.failed).toBeUndefined();
    expect(seen.status).toBe(200);
    expect(JSON.parse(seen.body!)).toEqual({ method: 'put', token: 'tok-42', origin: pageOrigin, n: 7 });
    // The activation id is readable from script (exposed header).
    expect(seen.activation).toMatch(/^[0-9a-f]{32}$/);
    // Only the PUT ran the action: Whirl answered the preflight itself.
    const list = await rest(w.url, w.guestKey, 'GET', '/namespaces/_/activations?name=profile');
    expect(list.body).toHaveLength(1);
  });

  it('passes the same request to an API route', async () => {
    const seen = await fromPage(`${w.url}/api/gw/guest/app/profile`, preflighted);
    expect(seen.status).toBe(200);
    expect(JSON.parse(seen.body!)).toMatchObject({ method: 'put', token: 'tok-42', n: 7 });
  });

  it('lets the browser refuse when a custom OPTIONS handler grants no CORS', async () => {
    const seen = await fromPage(`${w.url}/api/v1/web/guest/default/closed.json`, preflighted);
    expect(seen.failed).toMatch(/Failed to fetch/);
    // A simple request needs no preflight; without CORS headers its response is still hidden from script.
    const simple = await fromPage(`${w.url}/api/v1/web/guest/default/closed.json`, { method: 'GET' });
    expect(simple.failed).toMatch(/Failed to fetch/);
  });
});
