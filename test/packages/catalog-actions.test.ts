// The catalog's actions, run like any action: `/whisk.system/utils/*` and `/whisk.system/samples/*`
// invoked by guest (public packages; the activations belong to guest).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';

const SYS = '/api/v1/namespaces/whisk.system/actions';

describe('system catalog actions', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
  });
  afterAll(async () => w.cleanup());

  const run = async (path: string, params: object = {}) => {
    const r = await w.call('POST', `${SYS}/${path}?blocking=true`, params);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().namespace).toBe('guest');
    return r.json();
  };

  it('utils: echo, cat, sort, split, head, wordCount, date', async () => {
    expect((await run('utils/echo', { a: [1] })).response.result).toEqual({ a: [1] });
    expect((await run('utils/cat', { lines: ['a', 'b'] })).response.result).toEqual({
      lines: ['a', 'b'],
      payload: 'a\nb',
    });
    expect((await run('utils/sort', { lines: ['b', 'c', 'a'] })).response.result).toEqual({
      length: 3,
      lines: ['a', 'b', 'c'],
    });
    expect((await run('utils/split', { payload: 'x\r\ny\nz' })).response.result).toEqual({
      lines: ['x', 'y', 'z'],
      payload: 'x\r\ny\nz',
    });
    expect((await run('utils/split', { payload: 'a,b', separator: ',' })).response.result.lines).toEqual([
      'a',
      'b',
    ]);
    expect((await run('utils/head', { lines: ['a', 'b', 'c'], num: 2 })).response.result).toEqual({
      lines: ['a', 'b'],
    });
    expect((await run('utils/head', { lines: ['a', 'b'] })).response.result).toEqual({ lines: ['a'] });
    expect((await run('utils/wordCount', { payload: ' one two  three ' })).response.result).toEqual({
      count: 3,
    });
    const date = (await run('utils/date')).response.result.date as string;
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(60_000);
  });

  it('samples: helloWorld, greeting, wordCount', async () => {
    const hello = await run('samples/helloWorld', { payload: 'Ann' });
    expect(hello.response.result).toEqual({ payload: 'Hello, Ann!' });
    expect(hello.logs.join('\n')).toContain('hello Ann!');
    expect((await run('samples/greeting', { name: 'Bo', place: 'Oslo' })).response.result).toEqual({
      payload: 'Hello, Bo from Oslo!',
    });
    expect((await run('samples/greeting')).response.result).toEqual({
      payload: 'Hello, stranger from somewhere!',
    });
    expect((await run('samples/wordCount', { payload: 'a b' })).response.result).toEqual({ count: 2 });
  });

  it('is read-only for other namespaces', async () => {
    const r = await w.call('PUT', `${SYS}/utils/echo?overwrite=true`, {
      exec: { kind: 'nodejs:20', code: 'x' },
    });
    expect(r.statusCode).toBe(403);
    expect((await w.call('DELETE', '/api/v1/namespaces/whisk.system/packages/utils')).statusCode).toBe(403);
  });
});
