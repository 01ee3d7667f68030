import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { homeHash, schedule, stepSizes } from './sharding.js';

const slots = (free: number[], usable = free.map(() => true)) =>
  free.map((freeMB, i) => ({ freeMB, usable: usable[i]! }));

describe('sharding placement', () => {
  it('uses step sizes that visit every invoker once from any home', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (n, hash) => {
        const steps = stepSizes(n);
        const step = steps[hash % steps.length]!;
        const seen = new Set<number>();
        for (let i = 0, at = hash % n; i < n; i++, at = (at + step) % n) seen.add(at);
        expect(seen.size).toBe(n);
      }),
    );
  });

  it('sends an action to the same home invoker every time while it has room (warm containers)', () => {
    const h = homeHash('guest', 'guest/hello');
    expect(homeHash('guest', 'guest/hello')).toBe(h);
    const first = schedule(slots([1024, 1024, 1024]), h, 256)!;
    for (let i = 0; i < 10; i++) expect(schedule(slots([1024, 1024, 1024]), h, 256)).toEqual(first);
    expect(first.forced).toBe(false);
  });

  it('overflows to another invoker when home is full or not usable, and overloads one only when all are full', () => {
    const h = 7;
    const home = schedule(slots([1024, 1024, 1024]), h, 256)!.index;
    const full = [1024, 1024, 1024];
    full[home] = 100;
    const next = schedule(slots(full), h, 256)!;
    expect(next.index).not.toBe(home);
    expect(next.forced).toBe(false);
    const usable = [true, true, true];
    usable[home] = false;
    expect(schedule(slots([1024, 1024, 1024], usable), h, 256)!.index).not.toBe(home);
    const forced = schedule(slots([0, 0, 0], [true, false, true]), h, 256, () => 0.99)!;
    expect(forced).toEqual({ index: 2, forced: true });
  });

  it('places nothing when no invoker is usable (the controller answers 503)', () => {
    expect(schedule(slots([1024, 1024], [false, false]), 3, 128)).toBeUndefined();
    expect(schedule([], 3, 128)).toBeUndefined();
  });

  it('spreads different actions over the invokers', () => {
    const homes = new Set<number>();
    for (let i = 0; i < 50; i++)
      homes.add(schedule(slots([1024, 1024, 1024]), homeHash('ns', `ns/a${i}`), 256)!.index);
    expect(homes.size).toBe(3);
  });
});
