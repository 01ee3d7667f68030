import { describe, expect, it } from 'vitest';
import { WhirlError } from '../core/errors.js';
import type { EffectiveLimits } from '../core/limits.js';
import type { Caller } from './identities.js';
import { MemoryRateCounter, Throttles } from './throttles.js';

/** A clock the test moves by hand: no test waits for a wall-clock minute to turn. */
class ManualClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

const range = { min: 1, max: 1, std: 1 };
const caller = (limits: Partial<EffectiveLimits>): Caller => ({
  subject: 's',
  namespace: 'ns',
  uuid: 'u',
  authKey: 'u:k',
  limits: {
    invocationsPerMinute: 2,
    concurrentInvocations: 100,
    firesPerMinute: 1,
    storeActivations: true,
    outboundNetwork: true,
    timeoutMs: range,
    memoryMB: range,
    logsMB: range,
    concurrency: range,
    ...limits,
  },
});

async function refusal(p: Promise<void>): Promise<WhirlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WhirlError);
  return err as WhirlError;
}

describe('throttles', () => {
  it('count per wall-clock minute, say when the window turns, and start afresh when it has', async () => {
    const minute = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
    const clock = new ManualClock(minute + 45_500);
    const t = new Throttles(new MemoryRateCounter(), () => 0, clock);
    const c = caller({});
    await t.checkInvoke(c);
    await t.checkInvoke(c);
    const err = await refusal(t.checkInvoke(c));
    expect(err.status).toBe(429);
    expect(err.message).toBe('Too many requests in the last minute (count: 3, allowed: 2).');
    // 14.5 s left in the minute: retry after 15.
    expect(err.headers['retry-after']).toBe('15');
    // A refused request does not count: the next one is refused with the same count.
    expect((await refusal(t.checkInvoke(c))).message).toMatch(/count: 3,/);

    clock.ms = minute + 60_000;
    await t.checkInvoke(c);
    await t.checkInvoke(c);
    await expect(t.checkInvoke(c)).rejects.toThrow(/count: 3/);
  });

  it('keep fires and invocations apart, and refuse beyond the activations in flight', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    let inFlight = 0;
    const t = new Throttles(new MemoryRateCounter(), () => inFlight, clock);
    const c = caller({ concurrentInvocations: 1 });
    await t.checkFire(c);
    await expect(t.checkFire(c)).rejects.toThrow(
      'Too many requests in the last minute (count: 2, allowed: 1).',
    );
    await t.checkInvoke(c);
    inFlight = 1;
    const err = await refusal(t.checkInvoke(c));
    expect(err.message).toBe('Too many concurrent requests in flight (count: 1, allowed: 1).');
    expect(err.headers['retry-after']).toBe('1');
  });
});
