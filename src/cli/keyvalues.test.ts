import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectKeyValues, mergeKeyValues, webAnnotations, webSecureAnnotation } from './keyvalues.js';

const dir = mkdtempSync(join(tmpdir(), 'whirl-kv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('web annotations (--web)', () => {
  const values = (kvs: { key: string; value: unknown }[]) =>
    Object.fromEntries(kvs.map((k) => [k.key, k.value]));

  it('true/yes: exported, not raw, final', () => {
    for (const v of ['true', 'yes', 'TRUE']) {
      expect(values(webAnnotations(v))).toEqual({ 'web-export': true, 'raw-http': false, final: true });
    }
  });

  it('raw: all three true', () => {
    expect(values(webAnnotations('raw'))).toEqual({ 'web-export': true, 'raw-http': true, final: true });
  });

  it('false/no: all three false', () => {
    for (const v of ['false', 'no']) {
      expect(values(webAnnotations(v))).toEqual({ 'web-export': false, 'raw-http': false, final: false });
    }
  });

  it('rejects other values', () => {
    expect(() => webAnnotations('maybe')).toThrow(/true, false or raw/);
  });
});

describe('require-whisk-auth (--web-secure)', () => {
  it('true generates a number secret, false disables, anything else is the secret', () => {
    expect(webSecureAnnotation('true', () => 42)).toEqual({ key: 'require-whisk-auth', value: 42 });
    const generated = webSecureAnnotation('true').value;
    expect(Number.isSafeInteger(generated)).toBe(true);
    expect(webSecureAnnotation('false')).toEqual({ key: 'require-whisk-auth', value: false });
    expect(webSecureAnnotation('s3cret')).toEqual({ key: 'require-whisk-auth', value: 's3cret' });
  });
});

describe('parameters from flags and files', () => {
  it('reads files first, then -p pairs (JSON values), later keys winning', () => {
    const f = join(dir, 'p.json');
    writeFileSync(f, JSON.stringify({ a: 1, b: { c: true }, name: 'file' }));
    const kvs = collectKeyValues(
      [
        ['name', 'flag'],
        ['n', '7'],
      ],
      [f],
      '-P',
    );
    expect(kvs).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: { c: true } },
      { key: 'name', value: 'flag' },
      { key: 'n', value: 7 },
    ]);
  });

  it('explains bad files', () => {
    const notObject = join(dir, 'arr.json');
    writeFileSync(notObject, '[1]');
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{');
    expect(() => collectKeyValues([], [notObject], '-P')).toThrow(/JSON object/);
    expect(() => collectKeyValues([], [notJson], '-P')).toThrow(/not valid JSON/);
    expect(() => collectKeyValues([], [join(dir, 'none.json')], '-P')).toThrow(/cannot read/);
  });

  it('merges lists by key', () => {
    expect(
      mergeKeyValues(
        [
          { key: 'a', value: 1 },
          { key: 'b', value: 2 },
        ],
        [{ key: 'a', value: 3 }],
      ),
    ).toEqual([
      { key: 'a', value: 3 },
      { key: 'b', value: 2 },
    ]);
  });
});
