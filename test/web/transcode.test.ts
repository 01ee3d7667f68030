// Web action responses (spec §4.4): how each extension renders an activation result. Pure functions.
import { describe, expect, it } from 'vitest';
import type { ActivationRecord } from '../../src/core/activation.js';
import { WhirlError } from '../../src/core/errors.js';
import { isAcceptable, isTextual } from '../../src/controller/web/media.js';
import { responseFor, transcode, type WebResponse } from '../../src/controller/web/response.js';

const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function failure(f: () => unknown): { status: number; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof WhirlError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a WhirlError');
}

const text = (r: WebResponse) => r.body?.toString('utf8');
const header = (r: WebResponse, name: string) => r.headers.get(name);

describe('.json', () => {
  it('sends objects and arrays as application/json', () => {
    const r = transcode('json', { a: 1 });
    expect(r).toMatchObject({ status: 200, contentType: 'application/json' });
    expect(JSON.parse(text(r)!)).toEqual({ a: 1 });
    expect(text(transcode('json', [1, 2]))).toBe('[1,2]');
  });

  it('refuses anything else with 400 "Response is not valid \'application/json\'."', () => {
    for (const v of ['x', 3, null, true]) {
      expect(failure(() => transcode('json', v))).toEqual({
        status: 400,
        message: "Response is not valid 'application/json'.",
      });
    }
  });
});

describe('.html, .svg and .text', () => {
  it('takes body, else html, as text/html', () => {
    expect(transcode('html', { body: '<p>b</p>', html: 'h' })).toMatchObject({
      contentType: 'text/html; charset=UTF-8',
    });
    expect(text(transcode('html', { html: '<p>h</p>' }))).toBe('<p>h</p>');
    expect(text(transcode('html', '<i>s</i>'))).toBe('<i>s</i>');
    expect(failure(() => transcode('html', { body: 3 })).message).toBe("Response is not valid 'text/html'.");
    expect(failure(() => transcode('html', { other: 'x' })).status).toBe(400);
  });

  it('takes body, else svg, as image/svg+xml', () => {
    const r = transcode('svg', { svg: '<svg/>' });
    expect(r.contentType).toBe('image/svg+xml');
    expect(text(r)).toBe('<svg/>');
    expect(failure(() => transcode('svg', {})).message).toBe("Response is not valid 'image/svg+xml'.");
  });

  it('renders body, else text, of any type as text/plain, and 404s without either', () => {
    expect(text(transcode('text', { text: 'hi' }))).toBe('hi');
    expect(text(transcode('text', { body: 42 }))).toBe('42');
    expect(text(transcode('text', { body: null }))).toBe('null');
    expect(text(transcode('text', { text: { a: [1] } }))).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(text(transcode('text', false))).toBe('false');
    expect(transcode('text', 'x').contentType).toBe('text/plain; charset=UTF-8');
    expect(failure(() => transcode('text', { other: 1 }))).toEqual({
      status: 404,
      message: 'Response does not include requested property.',
    });
  });
});

describe('.http', () => {
  it('answers 204 without a body, also for a plain result, with no content type', () => {
    const r = transcode('http', { payload: 'x', headers: { 'content-type': 'text/plain', 'x-a': 'b' } });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(header(r, 'content-type')).toBeUndefined();
    expect(header(r, 'x-a')).toEqual(['b']);
    expect(transcode('http', { body: '' }).status).toBe(204);
    expect(transcode('http', { statusCode: 302, headers: { location: '/x' } }).status).toBe(302);
  });

  it('sends a string body as text/html unless the headers say otherwise', () => {
    const r = transcode('http', { body: '<b>hi</b>' });
    expect(r).toMatchObject({ status: 200, contentType: 'text/html; charset=UTF-8' });
    const plain = transcode('http', { body: 'x', headers: { 'Content-Type': 'text/plain; charset=latin1' } });
    expect(plain.contentType).toBe('text/plain; charset=latin1');
  });

  it('takes statusCode as a number or a numeric string, and refuses others', () => {
    expect(transcode('http', { statusCode: 201, body: 'x' }).status).toBe(201);
    expect(transcode('http', { statusCode: '418', body: 'x' }).status).toBe(418);
    for (const bad of ['abc', 99, 600, 2.5, true]) {
      expect(failure(() => transcode('http', { statusCode: bad, body: 'x' }))).toEqual({
        status: 400,
        message: "Response is not valid 'message/http'.",
      });
    }
  });

  it('repeats a header given as an array (several Set-Cookie headers)', () => {
    const r = transcode('http', {
      headers: { 'Set-Cookie': ['a=b', 'c=d'], 'X-Num': 3, 'X-Bool': true, 'set-cookie': 'e=f' },
      body: 'ok',
    });
    expect(header(r, 'set-cookie')).toEqual(['a=b', 'c=d', 'e=f']);
    expect(header(r, 'x-num')).toEqual(['3']);
    expect(header(r, 'x-bool')).toEqual(['true']);
  });

  it('refuses headers that are not name → string/number/boolean (or arrays of them)', () => {
    for (const headers of [[1], 'x', { a: { b: 1 } }, { a: null }, { 'bad name': 'x' }, { a: 'x\r\ny: z' }]) {
      expect(failure(() => transcode('http', { headers, body: 'x' })).message).toBe(
        "Response is not valid 'message/http'.",
      );
    }
  });

  it('keeps framing headers for the server', () => {
    const r = transcode('http', {
      headers: { 'Content-Length': '999', 'Transfer-Encoding': 'x' },
      body: 'ok',
    });
    expect(header(r, 'content-length')).toBeUndefined();
    expect(header(r, 'transfer-encoding')).toBeUndefined();
  });

  it('decodes base64 bodies of binary content types', () => {
    const r = transcode('http', { headers: { 'Content-Type': 'image/png' }, body: PNG_BASE64 });
    expect(r.contentType).toBe('image/png');
    expect(r.body).toEqual(Buffer.from(PNG_BASE64, 'base64'));
    expect(r.body!.subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses a binary type whose body is not base64', () => {
    expect(
      failure(() => transcode('http', { headers: { 'content-type': 'image/png' }, body: 'not base64!' })),
    ).toEqual({ status: 400, message: 'Response type in header did not match generated content type.' });
  });

  it('sends JSON bodies as application/json, or as another JSON type the headers name', () => {
    const r = transcode('http', { body: { a: 1 } });
    expect(r.contentType).toBe('application/json');
    expect(text(r)).toBe('{"a":1}');
    const problem = transcode('http', {
      statusCode: 400,
      headers: { 'content-type': 'application/problem+json' },
      body: { title: 'no' },
    });
    expect(problem).toMatchObject({ status: 400, contentType: 'application/problem+json' });
    expect(text(transcode('http', { body: [1, true] }))).toBe('[1,true]');
  });

  it('refuses a JSON body under a non-JSON content type, and unknown content types', () => {
    expect(
      failure(() => transcode('http', { headers: { 'content-type': 'text/html' }, body: { a: 1 } })).message,
    ).toBe('Response type in header did not match generated content type.');
    expect(failure(() => transcode('http', { headers: { 'content-type': 'nonsense' }, body: 'x' }))).toEqual({
      status: 400,
      message: 'Response did not specify a known content-type.',
    });
  });

  it('sends a JSON string as JSON, decoding legacy base64 JSON only when it decodes to JSON', () => {
    const json = { headers: { 'content-type': 'application/json' } };
    expect(text(transcode('http', { ...json, body: '{"status":"success"}' }))).toBe('{"status":"success"}');
    const encoded = Buffer.from('{"legacy":true}').toString('base64');
    expect(text(transcode('http', { ...json, body: encoded }))).toBe('{"legacy":true}');
    // "1234" looks like base64 but is a JSON number: it is sent as it is.
    expect(text(transcode('http', { ...json, body: '1234' }))).toBe('1234');
  });

  it('refuses results that are not objects', () => {
    for (const v of ['x', [1], 3]) {
      expect(failure(() => transcode('http', v)).message).toBe("Response is not valid 'message/http'.");
    }
  });
});

describe('activation outcomes', () => {
  const record = (statusCode: 0 | 1 | 2 | 3, result: unknown) =>
    ({ response: { statusCode, result } }) as unknown as ActivationRecord;

  it('renders the error field of an application error (so an action can choose the status)', () => {
    const r = responseFor(record(1, { error: { statusCode: 403, body: 'go away' } }), 'http');
    expect(r.status).toBe(403);
    expect(text(r)).toBe('go away');
    expect(JSON.parse(text(responseFor(record(1, { error: { why: 'x' } }), 'json'))!)).toEqual({ why: 'x' });
  });

  it('answers 400 "There was an error processing your request." for developer and platform errors', () => {
    for (const code of [2, 3] as const) {
      expect(failure(() => responseFor(record(code, { error: 'boom' }), 'json'))).toEqual({
        status: 400,
        message: 'There was an error processing your request.',
      });
    }
  });
});

describe('media types', () => {
  it('tells text from bytes', () => {
    for (const t of [
      'text/plain',
      'application/json',
      'application/ld+json',
      'application/xml',
      'application/atom+xml',
    ])
      expect(isTextual(t)).toBe(true);
    for (const t of ['image/png', 'image/svg+xml', 'application/octet-stream', 'application/pdf', ''])
      expect(isTextual(t)).toBe(false);
  });

  it('negotiates Accept ranges with wildcards and q=0', () => {
    expect(isAcceptable(undefined, 'text/html')).toBe(true);
    expect(isAcceptable('application/json', 'text/html')).toBe(false);
    expect(isAcceptable('text/*', 'text/html')).toBe(true);
    expect(isAcceptable('image/avif,image/webp,*/*;q=0.8', 'image/png')).toBe(true);
    expect(isAcceptable('text/html;q=0, application/json', 'text/html')).toBe(false);
  });
});
