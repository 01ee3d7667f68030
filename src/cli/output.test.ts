import { describe, expect, it } from 'vitest';
import type { Exchange } from './client.js';
import {
  activationRow,
  entityRow,
  fieldOf,
  formatExchange,
  json,
  redact,
  secretsOf,
  stripLogLine,
  truncateBody,
} from './output.js';

const KEY =
  '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
const SECRET = KEY.split(':')[1]!;

describe('verbose output', () => {
  it('never shows the key, its secret half or its base64 form', () => {
    const e: Exchange = {
      method: 'POST',
      url: 'http://h/api/v1/namespaces/_/actions/a',
      requestHeaders: { authorization: 'Basic [masked]' },
      requestBody: JSON.stringify({ key: KEY, basic: Buffer.from(KEY).toString('base64') }),
      status: 200,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: JSON.stringify({ leaked: SECRET }),
      durationMs: 3,
    };
    const text = formatExchange(e, secretsOf(KEY));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(Buffer.from(KEY).toString('base64'));
    expect(text).toContain('[masked]');
    expect(text).toContain('> POST http://h/api/v1/namespaces/_/actions/a');
    expect(text).toContain('< 200 (3 ms)');
  });

  it('truncates bodies at 1000 bytes', () => {
    const long = 'x'.repeat(1500);
    expect(truncateBody(long)).toBe(`${'x'.repeat(1000)}... (500 more bytes not shown)`);
    expect(truncateBody('short')).toBe('short');
  });

  it('redacts only secrets long enough to matter', () => {
    expect(redact('a:b', ['a'])).toBe('a:b');
  });
});

describe('tables and JSON', () => {
  it('prints JSON with 4 spaces', () => {
    expect(json({ a: [1] })).toBe('{\n    "a": [\n        1\n    ]\n}');
  });

  it('lays out entity rows like wsk', () => {
    const row = entityRow({ namespace: 'guest', name: 'hello', publish: false }, 'nodejs:20');
    expect(row).toBe(`${'/guest/hello'.padEnd(70)} private nodejs:20`);
    expect(entityRow({ namespace: 'guest/pkg', name: 'a', publish: true })).toBe(
      `${'/guest/pkg/a'.padEnd(70)} shared`,
    );
  });

  it('lays out activation rows', () => {
    const row = activationRow({
      namespace: 'guest',
      name: 'hello',
      version: '0.0.1',
      activationId: 'a'.repeat(32),
      start: Date.UTC(2024, 0, 2, 3, 4, 5),
      end: 1,
      duration: 41,
      statusCode: 1,
      annotations: [
        { key: 'kind', value: 'nodejs:20' },
        { key: 'path', value: 'guest/hello' },
        { key: 'initTime', value: 5 },
      ],
    });
    expect(row).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d a{32} nodejs:20 +cold +41ms +application error +guest\/hello:0\.0\.1$/,
    );
  });

  it('strips log prefixes and reads dotted fields', () => {
    expect(stripLogLine('2024-01-01T00:00:00.000Z       stdout: hi there')).toBe('hi there');
    expect(stripLogLine('no prefix')).toBe('no prefix');
    expect(fieldOf({ exec: { kind: 'k' } }, 'exec.kind')).toBe('k');
    expect(fieldOf({ exec: 1 }, 'exec.kind')).toBeUndefined();
  });
});
