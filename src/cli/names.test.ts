import { describe, expect, it } from 'vitest';
import { activationScope, listScope, parseEntityName, qualifiedName, qualifyComponent } from './names.js';

describe('entity names', () => {
  it.each([
    ['hello', { namespace: '_', name: 'hello' }],
    ['pkg/hello', { namespace: '_', pkg: 'pkg', name: 'hello' }],
    ['/guest/hello', { namespace: 'guest', name: 'hello' }],
    ['/guest/pkg/hello', { namespace: 'guest', pkg: 'pkg', name: 'hello' }],
    ['guest/pkg/hello', { namespace: 'guest', pkg: 'pkg', name: 'hello' }],
  ])('%s', (text, parsed) => {
    expect(parseEntityName(text)).toEqual(parsed);
  });

  it('rejects malformed names', () => {
    for (const bad of ['', '/', '/guest', 'a//b', 'a/b/c/d', '/a/b/c/d'])
      expect(() => parseEntityName(bad)).toThrow();
  });

  it('qualifies sequence components against the namespace', () => {
    expect(qualifyComponent('a')).toBe('/_/a');
    expect(qualifyComponent(' pkg/a ', 'guest')).toBe('/guest/pkg/a');
    expect(qualifyComponent('/whisk.system/utils/echo')).toBe('/whisk.system/utils/echo');
    expect(qualifiedName({ namespace: '_', name: 'x' })).toBe('/_/x');
  });

  it('reads list scopes', () => {
    expect(listScope(undefined, '_')).toEqual({ namespace: '_' });
    expect(listScope('/guest', '_')).toEqual({ namespace: 'guest' });
    expect(listScope('/guest/pkg', '_')).toEqual({ namespace: 'guest', pkg: 'pkg' });
    expect(listScope('pkg', '_')).toEqual({ namespace: '_', pkg: 'pkg' });
    expect(activationScope('pkg/a', '_')).toEqual({ namespace: '_', name: 'pkg/a' });
    expect(activationScope('/guest/a', '_')).toEqual({ namespace: 'guest', name: 'a' });
    expect(activationScope('/guest', '_')).toEqual({ namespace: 'guest' });
  });
});
