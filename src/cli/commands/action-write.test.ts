import { describe, expect, it } from 'vitest';
import { annotationsFor } from './action-write.js';

const kv = (o: Record<string, unknown>) => Object.entries(o).map(([key, value]) => ({ key, value }));
const obj = (list: { key: string; value: unknown }[] | undefined) =>
  list === undefined ? undefined : Object.fromEntries(list.map((a) => [a.key, a.value]));

const existing = kv({
  description: 'd',
  'web-export': true,
  'raw-http': false,
  final: true,
  'require-whisk-auth': 's',
});

describe('annotations of create/update (as wsk builds them)', () => {
  it('-a alone is sent as given: on update it replaces the old set', () => {
    expect(obj(annotationsFor({ given: kv({ k: 'v' }), existing }, true))).toEqual({ k: 'v' });
    expect(annotationsFor({ existing }, true)).toBeUndefined();
  });

  it('--web without -a keeps the current annotations and changes the web ones', () => {
    expect(obj(annotationsFor({ web: 'false', existing }, true))).toEqual({
      description: 'd',
      'web-export': false,
      'raw-http': false,
      final: false,
      'require-whisk-auth': 's',
    });
  });

  it('--web or --web-secure with -a: the given ones, the current web state, then the flags', () => {
    expect(obj(annotationsFor({ given: kv({ k: 'v' }), secure: 'new', existing }, true))).toEqual({
      'web-export': true,
      'raw-http': false,
      final: true,
      'require-whisk-auth': 'new',
      k: 'v',
    });
    expect(obj(annotationsFor({ given: kv({ k: 'v' }), web: 'raw', existing }, true))).toMatchObject({
      k: 'v',
      'raw-http': true,
      'require-whisk-auth': 's',
    });
  });

  it('--web-secure needs a web action: from --web, or the current annotations on update', () => {
    expect(() => annotationsFor({ secure: 'x' }, false)).toThrow(/add --web true/);
    expect(() => annotationsFor({ secure: 'x', existing: kv({ 'web-export': false }) }, true)).toThrow(
      /add --web true/,
    );
    expect(() => annotationsFor({ secure: 'x', web: 'no', existing }, true)).toThrow(/add --web true/);
    expect(obj(annotationsFor({ secure: 'x', web: 'true' }, false))).toMatchObject({
      'web-export': true,
      'require-whisk-auth': 'x',
    });
    // On create there is nothing current to keep.
    expect(obj(annotationsFor({ web: 'true', existing }, false))).toEqual({
      'web-export': true,
      'raw-http': false,
      final: true,
    });
  });
});
