import { describe, expect, it } from 'vitest';
import { ruleBody, ruleName } from './rule.js';

describe('rules', () => {
  it('are named R or /NS/R', () => {
    expect(ruleName('r', '_')).toEqual({ namespace: '_', name: 'r' });
    expect(ruleName('/guest/r', '_')).toEqual({ namespace: 'guest', name: 'r' });
    expect(() => ruleName('p/r', '_')).toThrow(/do not live in packages/);
  });

  it('send trigger and action fully qualified, and only what is given', () => {
    expect(ruleBody('t', 'pkg/a', '_')).toEqual({ trigger: '/_/t', action: '/_/pkg/a' });
    expect(ruleBody('/guest/t', '/whisk.system/utils/echo', '_')).toEqual({
      trigger: '/guest/t',
      action: '/whisk.system/utils/echo',
    });
    expect(ruleBody(undefined, undefined, '_')).toEqual({});
    expect(() => ruleBody('p/t', 'a', '_')).toThrow(/not a trigger name/);
  });
});
