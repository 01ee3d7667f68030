import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeApiHost, parseProps, propsPath, readProps, resolveConfig, writeProps } from './props.js';

const dir = mkdtempSync(join(tmpdir(), 'whirl-props-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const f = join(dir, `props-${Math.random().toString(16).slice(2)}`);
  writeFileSync(f, text);
  return f;
}

describe('properties file', () => {
  it('parses KEY=value lines, skipping comments and blanks; = may appear in values', () => {
    const p = parseProps('# comment\nAUTH=a:b=c\n\n APIHOST = h:1 \r\nbogus\n');
    expect([...p]).toEqual([
      ['AUTH', 'a:b=c'],
      ['APIHOST', 'h:1'],
    ]);
  });

  it('is WSK_CONFIG_FILE when set, else ~/.wskprops', () => {
    expect(propsPath({ WSK_CONFIG_FILE: '/x/y' })).toBe('/x/y');
    expect(propsPath({})).toMatch(/\.wskprops$/);
  });

  it('writes owner-only and keeps unknown keys', () => {
    const f = file('CERT=c\nAUTH=old\n');
    const p = readProps(f);
    p.set('AUTH', 'new');
    writeProps(f, p);
    expect(readFileSync(f, 'utf8')).toBe('CERT=c\nAUTH=new\n');
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });
});

describe('resolveConfig precedence: flag > env > file > default', () => {
  const f = file('AUTH=file:key\nAPIHOST=file.example.com\nAPIVERSION=vfile\nNAMESPACE=ns1\n');

  it('uses the file when nothing else is set', () => {
    const c = resolveConfig({}, {}, f);
    expect(c.auth).toEqual({ value: 'file:key', source: 'file' });
    expect(c.apihost).toEqual({ value: 'https://file.example.com', source: 'file' });
    expect(c.apiversion.value).toBe('vfile');
    expect(c.namespace.value).toBe('ns1');
  });

  it('lets the environment override the file', () => {
    const env = { WHISK_AUTH: 'env:key', WHISK_APIHOST: 'http://env:1', WHISK_APIVERSION: 'venv' };
    const c = resolveConfig({}, env, f);
    expect(c.auth).toEqual({ value: 'env:key', source: 'env' });
    expect(c.apihost.value).toBe('http://env:1');
    expect(c.apiversion.value).toBe('venv');
  });

  it('lets flags override the environment', () => {
    const env = { WHISK_AUTH: 'env:key', WHISK_APIHOST: 'http://env:1' };
    const c = resolveConfig({ auth: 'flag:key', apihost: 'localhost:3233', insecure: true }, env, f);
    expect(c.auth).toEqual({ value: 'flag:key', source: 'flag' });
    expect(c.apihost).toEqual({ value: 'http://localhost:3233', source: 'flag' });
    expect(c.insecure).toBe(true);
  });

  it('falls back to defaults (v1, _) and ignores empty values', () => {
    const c = resolveConfig({ auth: '' }, { WHISK_AUTH: '' }, join(dir, 'missing'));
    expect(c.auth.value).toBeUndefined();
    expect(c.apihost.value).toBeUndefined();
    expect(c.apiversion).toEqual({ value: 'v1', source: 'default' });
    expect(c.namespace).toEqual({ value: '_', source: 'default' });
  });
});

describe('normalizeApiHost', () => {
  it.each([
    ['openwhisk.example.com', 'https://openwhisk.example.com'],
    ['openwhisk.example.com:443/', 'https://openwhisk.example.com:443'],
    ['10.0.0.5:3233', 'https://10.0.0.5:3233'],
    ['localhost:3233', 'http://localhost:3233'],
    ['127.0.0.1:3233', 'http://127.0.0.1:3233'],
    ['[::1]:3233', 'http://[::1]:3233'],
    ['http://h:1///', 'http://h:1'],
    ['HTTPS://h', 'HTTPS://h'],
    [' https://h/ ', 'https://h'],
  ])('%s → %s', (raw, url) => {
    expect(normalizeApiHost(raw)).toBe(url);
  });
});
