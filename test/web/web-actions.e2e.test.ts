// Web actions over real HTTP against a real `whirl standalone` process: each rule of spec §4 and the
// web action items of the behaviour checklist (91–100), with small actions written for these tests.
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENEROUS_LIMITS } from '../helpers/limits.js';
import { SYSTEM_KEY, startWhirl, type Whirl } from '../helpers/standalone.js';
import { basic, makePng, noise, putAction, rest, type Rest } from './helpers.js';

const ECHO = 'function main(p) { return p }';

let w: Whirl;
let guest: string;
const web = (path: string) => `${w.url}/api/v1/web/guest/default/${path}`;

beforeAll(async () => {
  // whisk.system gets a tight invoke limit: its web actions show that the owner's throttles apply.
  w = await startWhirl({
    limits: {
      guest: GENEROUS_LIMITS,
      'whisk.system': { invocationsPerMinute: 2, concurrentInvocations: 10 },
    },
  });
  guest = w.guestKey;
  const create = (name: string, spec: Parameters<typeof putAction>[3]) => putAction(w.url, guest, name, spec);
  await Promise.all([
    create('echo', { code: ECHO, web: true }),
    create('page', {
      web: true,
      code: `function main(p) {
        const name = String(p.name || 'world').replace(/[<>&]/g, '');
        return { body: '<!doctype html><html><body><h1>Hello, ' + name + '!</h1></body></html>' };
      }`,
    }),
    create('image', {
      web: true,
      code: `const crypto = require('crypto');
      function main(p) {
        const bytes = Buffer.from(p.__ow_body, 'base64');
        return {
          statusCode: 201,
          headers: {
            'Content-Type': p.__ow_headers['content-type'],
            'X-Sha256': crypto.createHash('sha256').update(bytes).digest('hex'),
          },
          body: p.__ow_body,
        };
      }`,
    }),
    create('signup', {
      web: true,
      code: `function main(p) {
        return { body: '<p>Welcome ' + p.name + ' (' + p.plan + ')</p>', headers: { 'X-Fields': Object.keys(p).filter(k => !k.startsWith('__ow_')).sort().join(',') } };
      }`,
    }),
    create('webhook', {
      web: 'raw',
      params: { secret: 'whsec_test' },
      code: `const crypto = require('crypto');
      function main(p) {
        const body = Buffer.from(p.__ow_body, 'base64');
        const expected = 'sha256=' + crypto.createHmac('sha256', p.secret).update(body).digest('hex');
        const given = String(p.__ow_headers['x-hub-signature-256'] || '');
        const ok = given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
        if (!ok) return { statusCode: 401, body: { error: 'bad signature' } };
        const event = JSON.parse(body.toString('utf8'));
        return { statusCode: 202, body: { received: event.action, query: p.__ow_query } };
      }`,
    }),
    create('login', {
      web: true,
      code: `function main(p) {
        return {
          headers: { 'Set-Cookie': ['session=s3cr3t; HttpOnly; Path=/', 'theme=dark; Path=/'], 'X-Saw-Cookie': p.__ow_headers.cookie || '' },
          body: 'signed in',
        };
      }`,
    }),
    create('private', { code: ECHO, web: true, annotations: { 'require-whisk-auth': true } }),
    create('hooked', { code: ECHO, web: true, annotations: { 'require-whisk-auth': 'let-me-in' } }),
    create('numbered', { code: ECHO, web: true, annotations: { 'require-whisk-auth': 4711 } }),
    create('hidden', { code: ECHO }),
    create('stringly', { code: ECHO, annotations: { 'web-export': 'true' } }),
    create('head', {
      web: true,
      code: `function main(p) { return { headers: { 'Request-Type': p.__ow_method }, body: 'not for HEAD' } }`,
    }),
    create('options', {
      web: true,
      annotations: { 'web-custom-options': true },
      code: `function main(p) {
        if (p.__ow_method === 'options') return { statusCode: 200, headers: { 'Access-Control-Allow-Origin': 'https://app.example', 'Access-Control-Allow-Methods': 'PUT', 'Set-Cookie': ['a=b', 'c=d'] } };
        return { body: 'custom' };
      }`,
    }),
    create('text', {
      web: true,
      code: `function main() { return { headers: { 'content-type': 'text/html' }, body: '<p>x</p>' } }`,
    }),
    create('status', {
      web: true,
      code: `function main(p) {
        if (p.mode === 'app') return { error: { statusCode: 409, headers: { 'content-type': 'application/json' }, body: { reason: 'taken' } } };
        if (p.mode === 'crash') throw new Error('boom');
        return { statusCode: '418', body: 'teapot' };
      }`,
    }),
    create('defaults', { web: true, params: { greeting: 'hi' }, code: ECHO }),
    create('keyed', {
      web: true,
      annotations: { 'provide-api-key': true },
      code: 'function main() { return { key: process.env.__OW_API_KEY || null } }',
    }),
    create('open', { web: true, annotations: { final: false }, params: { greeting: 'hi' }, code: ECHO }),
  ]);
});
afterAll(async () => w?.cleanup());

describe('JSON API', () => {
  it('merges query and JSON body (body wins) and answers application/json (checklist 91)', async () => {
    const r = await fetch(`${web('echo.json')}?a=1&b=query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ b: 'body', n: [1, 2] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
    const p = (await r.json()) as Record<string, unknown>;
    expect(p).toMatchObject({ a: '1', b: 'body', n: [1, 2], __ow_method: 'post', __ow_path: '' });
    expect((p.__ow_headers as Record<string, string>)['content-type']).toBe('application/json');
    expect(p).not.toHaveProperty('__ow_user');
  });

  it('passes no content-type header on a GET without a body', async () => {
    const p = (await (await fetch(web('echo.json'))).json()) as { __ow_headers: Record<string, string> };
    expect(p.__ow_headers).not.toHaveProperty('content-type');
  });

  it('passes the rest of the URL as __ow_path (checklist 92)', async () => {
    const long = 'A'.repeat(6000);
    const p = (await (await fetch(`${web('echo.json')}/users/42/?a=${long}`)).json()) as Record<
      string,
      string
    >;
    expect(p.__ow_path).toBe('/users/42/');
    expect(p.a).toBe(long);
  });

  it('refuses reserved and final parameters with 400', async () => {
    const reserved = await fetch(`${web('echo.json')}?__ow_user=root`);
    expect(reserved.status).toBe(400);
    expect(await reserved.json()).toMatchObject({
      error: 'Request defines parameters that are not allowed (e.g., reserved properties).',
    });
    expect((await fetch(`${web('defaults.json')}?greeting=yo`)).status).toBe(400);
    const open = (await (await fetch(`${web('open.json')}?greeting=yo`)).json()) as Record<string, string>;
    expect(open.greeting).toBe('yo');
    const kept = (await (await fetch(`${web('defaults.json')}?other=1`)).json()) as Record<string, string>;
    expect(kept).toMatchObject({ greeting: 'hi', other: '1' });
  });

  it('answers 413 above the payload limit', async () => {
    const r = await fetch(web('echo.json'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ big: 'x'.repeat(1024 * 1024) }),
    });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toMatch(
      /^Request larger than allowed: \d+ > 1048576 bytes\.$/,
    );
  });
});

describe('HTML page', () => {
  it('serves text/html from .html and from .http (its default for string bodies)', async () => {
    for (const path of ['page.html?name=Ann', 'page?name=Ann']) {
      const r = await fetch(web(path));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=UTF-8');
      expect(await r.text()).toBe('<!doctype html><html><body><h1>Hello, Ann!</h1></body></html>');
    }
  });

  it('answers 406 when the client does not accept the type (checklist 97)', async () => {
    const r = await fetch(web('text.http'), { headers: { accept: 'application/json' } });
    expect(r.status).toBe(406);
    expect(await r.text()).toContain(
      'Resource representation is only available with these types:\\ntext/html',
    );
  });
});

describe('binary bodies', () => {
  it('round-trips a PNG: bytes in as base64 __ow_body, base64 out as bytes', async () => {
    const png = makePng(160, 160, noise); // ~100 KB that does not compress
    expect(png.length).toBeGreaterThan(90_000);
    const r = await fetch(web('image'), {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.headers.get('x-sha256')).toBe(createHash('sha256').update(png).digest('hex'));
    expect(Buffer.from(await r.arrayBuffer()).equals(png)).toBe(true);
  });
});

describe('forms', () => {
  it('merges an urlencoded form post into the parameters', async () => {
    const r = await fetch(web('signup'), {
      method: 'POST',
      body: new URLSearchParams({ name: 'Zoë & Co', plan: 'pro' }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fields')).toBe('name,plan');
    expect(await r.text()).toBe('<p>Welcome Zoë & Co (pro)</p>');
  });

  it('passes a text body as __ow_body (checklist 96)', async () => {
    for (const body of ['key=value', 'This is the body']) {
      const r = await fetch(web('echo.json'), {
        method: 'POST',
        headers: { 'content-type': 'text/html' },
        body,
      });
      expect(((await r.json()) as Record<string, string>).__ow_body).toBe(body);
    }
  });
});

describe('raw webhook', () => {
  const payload = '{"action":"opened",  "number": 7}\n';
  const sign = (secret: string, body: string) =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  it('gets the exact bytes and query, so it can verify an HMAC signature', async () => {
    const r = await fetch(`${web('webhook.http')}?delivery=1&secret=forged`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign('whsec_test', payload) },
      body: payload,
    });
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ received: 'opened', query: 'delivery=1&secret=forged' });
  });

  it('lets the action refuse a wrong signature', async () => {
    const r = await fetch(web('webhook.http'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign('guess', payload) },
      body: payload,
    });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: 'bad signature' });
  });
});

describe('cookies and headers', () => {
  it('sends several Set-Cookie headers and shows the action the request cookies (checklist 98)', async () => {
    const r = await fetch(web('login'), { headers: { cookie: 'theme=light; visits=3' } });
    expect(r.status).toBe(200);
    expect(r.headers.getSetCookie()).toEqual(['session=s3cr3t; HttpOnly; Path=/', 'theme=dark; Path=/']);
    expect(r.headers.get('x-saw-cookie')).toBe('theme=light; visits=3');
  });

  it('reaches the action on HEAD and answers without a body (checklist 100)', async () => {
    const r = await fetch(web('head'), { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('request-type')).toBe('head');
    expect(await r.text()).toBe('');
  });

  it('takes the status from statusCode, or from the error of an application error', async () => {
    const teapot = await fetch(web('status'));
    expect(teapot.status).toBe(418);
    expect(await teapot.text()).toBe('teapot');
    const conflict = await fetch(`${web('status')}?mode=app`);
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({ reason: 'taken' });
    const crash = await fetch(`${web('status')}?mode=crash`);
    expect(crash.status).toBe(400);
    expect(await crash.json()).toMatchObject({ error: 'There was an error processing your request.' });
  });
});

describe('CORS', () => {
  it('answers OPTIONS itself, echoing the requested headers (checklist 95)', async () => {
    const r = await fetch(web('echo.json'), {
      method: 'OPTIONS',
      headers: { origin: 'https://site.example', 'access-control-request-headers': 'x-custom-header' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-methods')).toBe(
      'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH',
    );
    expect(r.headers.get('access-control-allow-headers')).toBe('x-custom-header');
    expect(r.headers.get('x-openwhisk-activation-id')).toBeNull();
    const get = await fetch(web('echo.json'));
    expect(get.headers.get('access-control-allow-headers')).toBe(
      'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
    );
  });

  it('lets a web-custom-options action answer OPTIONS, without default CORS (checklist 94)', async () => {
    const r = await fetch(web('options'), { method: 'OPTIONS' });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(r.headers.get('access-control-allow-methods')).toBe('PUT');
    expect(r.headers.getSetCookie()).toEqual(['a=b', 'c=d']);
    const get = await fetch(web('options'));
    expect(await get.text()).toBe('custom');
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps the REST API CORS headers off web responses', async () => {
    const r = await fetch(web('echo.json'));
    expect(r.headers.get('access-control-allow-methods')).not.toBe('GET, DELETE, POST, PUT, HEAD');
  });
});

describe('authentication', () => {
  it('require-whisk-auth true: 401 without valid credentials, __ow_user with them (checklist 93)', async () => {
    expect((await fetch(web('private.json'))).status).toBe(401);
    const bad = await fetch(web('private.json'), {
      headers: { authorization: basic(`${guest.split(':')[0]}:wrong`) },
    });
    expect(bad.status).toBe(401);
    const ok = await fetch(web('private.json'), { headers: { authorization: basic(guest) } });
    expect(ok.status).toBe(200);
    const p = (await ok.json()) as Record<string, unknown>;
    expect(p.__ow_user).toBe('guest');
    // The platform consumed the credentials: the action does not see the caller's key.
    expect(p.__ow_headers).not.toHaveProperty('authorization');
    const other = await fetch(web('private.json'), { headers: { authorization: basic(SYSTEM_KEY) } });
    expect(((await other.json()) as Record<string, unknown>).__ow_user).toBe('whisk.system');
  });

  it('require-whisk-auth secret: the X-Require-Whisk-Auth header must match', async () => {
    expect((await fetch(web('hooked.json'))).status).toBe(401);
    expect((await fetch(web('hooked.json'), { headers: { 'x-require-whisk-auth': 'nope' } })).status).toBe(
      401,
    );
    expect(
      (await fetch(web('hooked.json'), { headers: { 'x-require-whisk-auth': 'let-me-in' } })).status,
    ).toBe(200);
    expect((await fetch(web('numbered.json'), { headers: { 'x-require-whisk-auth': '4711' } })).status).toBe(
      200,
    );
  });

  it('passes __ow_user whenever valid credentials come along, and other Authorization schemes through', async () => {
    const p = (await (
      await fetch(web('echo.json'), { headers: { authorization: basic(guest) } })
    ).json()) as Record<string, unknown>;
    expect(p.__ow_user).toBe('guest');
    const bearer = (await (
      await fetch(web('echo.json'), { headers: { authorization: 'Bearer abc' } })
    ).json()) as {
      __ow_headers: Record<string, string>;
    };
    expect(bearer.__ow_headers.authorization).toBe('Bearer abc');
  });
});

describe('the API key of provide-api-key actions', () => {
  it('reaches the action only when the owner itself called (keys are stored hashed)', async () => {
    const key = async (headers: Record<string, string>) =>
      ((await (await fetch(web('keyed.json'), { headers })).json()) as { key: string | null }).key;
    expect(await key({})).toBeNull();
    expect(await key({ authorization: basic(SYSTEM_KEY) })).toBeNull();
    expect(await key({ authorization: basic(guest) })).toBe(guest);
  });
});

describe('what is (not) a web action', () => {
  it('answers 404 unless web-export is the boolean true', async () => {
    for (const path of ['hidden.json', 'stringly.json', 'missing.json']) {
      const r = await fetch(web(path));
      expect(r.status).toBe(404);
      expect(await r.json()).toMatchObject({ error: 'The requested resource does not exist.' });
    }
    expect((await fetch(`${w.url}/api/v1/web/nobody/default/echo.json`)).status).toBe(404);
    expect((await fetch(`${w.url}/api/v1/web/guest/nopkg/echo.json`)).status).toBe(404);
  });

  it('reaches a public package’s web action through a binding, running as the binding’s owner', async () => {
    const sys = (m: string, p: string, b?: unknown) => rest(w.url, SYSTEM_KEY, m, p, b);
    const pkg = { publish: true, parameters: [{ key: 'greeting', value: 'hello' }] };
    expect((await sys('PUT', '/namespaces/_/packages/shared?overwrite=true', pkg)).status).toBe(200);
    await putAction(w.url, SYSTEM_KEY, 'shared/greet', {
      web: true,
      code: 'function main(p) { return { msg: p.greeting + " " + p.name } }',
    });
    const bind = await rest(w.url, guest, 'PUT', '/namespaces/_/packages/mine?overwrite=true', {
      binding: { namespace: 'whisk.system', name: 'shared' },
      parameters: [{ key: 'greeting', value: 'howdy' }],
    });
    expect(bind.status).toBe(200);
    // The binding's parameter wins over the package's (package < binding < action < request).
    const r = await fetch(`${w.url}/api/v1/web/guest/mine/greet.json?name=Ann`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ msg: 'howdy Ann' });
    const id = r.headers.get('x-openwhisk-activation-id')!;
    // The activation is the binding owner's (guest), not the package owner's.
    let record: Rest | undefined;
    for (let i = 0; i < 50; i++) {
      record = await rest(w.url, guest, 'GET', `/namespaces/_/activations/${id}`);
      if (record.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(record?.status).toBe(200);
    expect(record?.body).toMatchObject({ namespace: 'guest', name: 'greet' });
  });
});

describe('the owner', () => {
  it("runs the activation as the URL's namespace, under its throttles, whoever calls", async () => {
    await putAction(w.url, SYSTEM_KEY, 'limited', { web: true, code: ECHO });
    const statuses: number[] = [];
    let last: Response | undefined;
    let firstId: string | null = null;
    for (let i = 0; i < 6 && !statuses.includes(429); i++) {
      // A guest key does not make it guest's activation: whisk.system owns the action.
      last = await fetch(`${w.url}/api/v1/web/whisk.system/default/limited.json`, {
        headers: i % 2 === 0 ? {} : { authorization: basic(guest) },
      });
      statuses.push(last.status);
      firstId ??= last.headers.get('x-openwhisk-activation-id');
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    expect(await last!.json()).toMatchObject({
      error: expect.stringMatching(/^Too many requests in the last minute/),
    });
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    // The activation belongs to whisk.system: guest cannot read it.
    expect((await rest(w.url, guest, 'GET', `/namespaces/_/activations/${firstId}`)).status).toBe(404);
  });
});
