import { describe, expect, it } from 'vitest';
import { withinDepth } from './json.js';

const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

describe('withinDepth', () => {
  it('accepts scalars, flat values and nesting up to the limit', () => {
    expect(withinDepth(1)).toBe(true);
    expect(withinDepth({ a: [1, { b: 'c' }] })).toBe(true);
    expect(withinDepth(nested(512))).toBe(true);
  });

  it('refuses nesting beyond the limit, even far beyond what recursion could walk', () => {
    expect(withinDepth(nested(513))).toBe(false);
    expect(withinDepth({ x: nested(200_000) })).toBe(false);
    expect(withinDepth(nested(10), 5)).toBe(false);
  });
});
