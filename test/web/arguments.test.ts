// Web action requests as action payloads (spec §4.2) and web action URLs (§4.1). Pure functions.
import { describe, expect, it } from 'vitest';
import type { KeyValue } from '../../src/core/entities.js';
import { WhirlError } from '../../src/core/errors.js';
import { webPayload, type ArgumentOptions, type WebRequest } from '../../src/controller/web/request.js';
import { parseWebPath, splitExtension } from '../../src/controller/web/web-actions.js';

const req = (o: Partial<WebRequest> & { type?: string; text?: string } = {}): WebRequest => {
  const { type, text, ...rest } = o;
  return {
    method: 'POST',
    headers: { host: 'h', ...(type === undefined ? {} : { 'content-type': type }) },
    query: '',
    body: text === undefined ? undefined : Buffer.from(text),
    path: '',
    ...rest,
  };
};
const plain: ArgumentOptions = { raw: false, params: [], final: false };
const raw: ArgumentOptions = { raw: true, params: [], final: false };
const finalParams = (params: KeyValue[]): ArgumentOptions => ({ raw: false, params, final: true });

function status(f: () => unknown): number {
  try {
    f();
  } catch (err) {
    if (err instanceof WhirlError) return err.status;
    throw err;
  }
  return 0;
}

describe('web action payloads', () => {
  it('carries the method (lower case), the headers and the path', () => {
    const p = webPayload(req({ method: 'PATCH', path: '/a/b', headers: { 'x-one': ['1', '2'] } }), plain);
    expect(p).toEqual({ __ow_method: 'patch', __ow_headers: { 'x-one': '1, 2' }, __ow_path: '/a/b' });
  });

  it('adds __ow_user only for a caller, and keeps the consumed credentials out of __ow_headers', () => {
    const p = webPayload(
      req({
        headers: { authorization: 'Basic x', cookie: 'c=1' },
        user: 'guest',
        omitHeaders: ['authorization'],
      }),
      plain,
    );
    expect(p.__ow_user).toBe('guest');
    expect(p.__ow_headers).toEqual({ cookie: 'c=1' });
    expect(webPayload(req(), plain)).not.toHaveProperty('__ow_user');
  });

  it('merges query parameters and a JSON object body, the body winning', () => {
    const p = webPayload(
      req({ query: 'a=1&b=2&b=3', type: 'application/json', text: '{"b":"body","c":[1]}' }),
      plain,
    );
    expect(p).toMatchObject({ a: '1', b: 'body', c: [1] });
    expect(p).not.toHaveProperty('__ow_body');
  });

  it('merges a form body', () => {
    const p = webPayload(
      req({ type: 'application/x-www-form-urlencoded', text: 'name=Ann+Lee&x=%26' }),
      plain,
    );
    expect(p).toMatchObject({ name: 'Ann Lee', x: '&' });
  });

  it('passes other JSON values, text and bytes as __ow_body', () => {
    expect(webPayload(req({ type: 'application/json', text: '[1,2]' }), plain).__ow_body).toEqual([1, 2]);
    expect(webPayload(req({ type: 'text/html', text: 'key=value' }), plain).__ow_body).toBe('key=value');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(webPayload(req({ headers: { 'content-type': 'image/png' }, body: bytes }), plain).__ow_body).toBe(
      bytes.toString('base64'),
    );
    expect(webPayload(req({ headers: {}, body: bytes }), plain).__ow_body).toBe(bytes.toString('base64'));
    expect(webPayload(req({ type: 'application/json', text: '' }), plain)).not.toHaveProperty('__ow_body');
  });

  it('refuses malformed JSON with 400', () => {
    expect(status(() => webPayload(req({ type: 'application/json', text: '{nope' }), plain))).toBe(400);
  });

  it('refuses reserved names from the query or the body with 400', () => {
    expect(status(() => webPayload(req({ query: '__ow_user=root' }), plain))).toBe(400);
    expect(
      status(() => webPayload(req({ type: 'application/json', text: '{"__ow_method":"get"}' }), plain)),
    ).toBe(400);
  });

  it('with final, refuses overriding a defined parameter but accepts others', () => {
    const o = finalParams([{ key: 'secret', value: 's' }]);
    expect(status(() => webPayload(req({ query: 'secret=x' }), o))).toBe(400);
    expect(status(() => webPayload(req({ type: 'application/json', text: '{"secret":1}' }), o))).toBe(400);
    expect(webPayload(req({ query: 'other=x' }), o)).toMatchObject({ other: 'x' });
    expect(webPayload(req({ query: 'secret=x' }), { ...o, final: false })).toMatchObject({ secret: 'x' });
  });

  it('gives raw-http actions the query string and the body unparsed (JSON and bytes as base64)', () => {
    const json = '{"a":1}';
    const p = webPayload(req({ query: 'a=1&__ow_user=x', type: 'application/json', text: json }), raw);
    expect(p).toMatchObject({
      __ow_query: 'a=1&__ow_user=x',
      __ow_body: Buffer.from(json).toString('base64'),
    });
    expect(p).not.toHaveProperty('a');
    expect(webPayload(req({ type: 'application/x-www-form-urlencoded', text: 'k=v' }), raw).__ow_body).toBe(
      'k=v',
    );
    expect(webPayload(req(), raw)).toMatchObject({ __ow_query: '', __ow_body: '' });
  });

  it('puts path parameters on top, checked like the rest', () => {
    const p = webPayload(req({ query: 'id=q' }), { ...plain, pathParams: { id: '42' } });
    expect(p.id).toBe('42');
    expect(
      status(() => webPayload(req(), { ...finalParams([{ key: 'id', value: 1 }]), pathParams: { id: '2' } })),
    ).toBe(400);
  });

  it('keeps a __proto__ key as data', () => {
    const p = webPayload(req({ type: 'application/json', text: '{"__proto__":{"x":1}}' }), plain);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(JSON.stringify(p)).toContain('"__proto__":{"x":1}');
  });
});

describe('web action URLs', () => {
  it('split the extension off the action name, .http by default', () => {
    expect(splitExtension('a.json')).toEqual({ name: 'a', ext: 'json' });
    expect(splitExtension('my.action.text')).toEqual({ name: 'my.action', ext: 'text' });
    expect(splitExtension('plain')).toEqual({ name: 'plain', ext: 'http' });
    expect(splitExtension('v1.2')).toEqual({ name: 'v1.2', ext: 'http' });
  });

  it('name namespace, package (or default) and action, and keep the rest as the path', () => {
    expect(parseWebPath('/api/v1/web/guest/default/hello.json/a/b?x=1')).toEqual({
      namespace: 'guest',
      action: { namespace: 'guest', name: 'hello' },
      ext: 'json',
      rest: '/a/b',
    });
    expect(parseWebPath('/api/v1/web/guest/my%20pkg/hi')).toMatchObject({
      action: { namespace: 'guest', pkg: 'my pkg', name: 'hi' },
      ext: 'http',
      rest: '',
    });
    expect(parseWebPath('/api/v1/web/guest/default')).toBeUndefined();
    expect(parseWebPath('/api/v1/web/guest/default/bad*name')).toBeUndefined();
    expect(parseWebPath('/api/v1/web/guest/default/%E0%A4%A')).toBeUndefined();
  });
});
