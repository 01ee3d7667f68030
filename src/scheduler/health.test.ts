import { describe, expect, it } from 'vitest';
import { InvokerHealth, type InvokerHeartbeat } from './health.js';

const hb = (id: string, startedAt = 1, extra: Partial<InvokerHeartbeat> = {}): InvokerHeartbeat => ({
  kind: 'invoker',
  id,
  memoryMB: 1024,
  startedAt,
  ...extra,
});

describe('invoker health (spec §7.1)', () => {
  const setup = () => {
    let now = 1_000_000;
    const h = new InvokerHealth({ now: () => now });
    return { h, tick: (ms: number) => (now += ms) };
  };

  it('keeps a new invoker unhealthy until a health test passes, then up', () => {
    const { h } = setup();
    h.heartbeat(hb('invoker0'));
    expect(h.state('invoker0')).toBe('unhealthy');
    h.passedTest('invoker0');
    expect(h.state('invoker0')).toBe('up');
  });

  it('marks an invoker offline after 10 s without a heartbeat, or at once when it leaves', () => {
    const { h, tick } = setup();
    h.heartbeat(hb('a'));
    h.passedTest('a');
    tick(9_000);
    expect(h.state('a')).toBe('up');
    tick(2_000);
    expect(h.state('a')).toBe('offline');
    h.heartbeat(hb('b'));
    h.passedTest('b');
    h.heartbeat(hb('b', 1, { leaving: true }));
    expect(h.state('b')).toBe('offline');
  });

  it('tests an invoker again after it restarted or came back from offline', () => {
    const { h, tick } = setup();
    h.heartbeat(hb('a', 1));
    h.passedTest('a');
    h.heartbeat(hb('a', 2));
    expect(h.state('a')).toBe('unhealthy');
    h.passedTest('a');
    tick(20_000);
    h.heartbeat(hb('a', 2));
    expect(h.state('a')).toBe('unhealthy');
  });

  it('turns unhealthy after more than 3 system errors and unresponsive after more than 3 timeouts in the last 10', () => {
    const { h } = setup();
    h.heartbeat(hb('a'));
    h.passedTest('a');
    for (let i = 0; i < 3; i++) h.record('a', 'systemError');
    expect(h.state('a')).toBe('up');
    h.record('a', 'systemError');
    expect(h.state('a')).toBe('unhealthy');
    for (let i = 0; i < 7; i++) h.record('a', 'success');
    expect(h.state('a')).toBe('up'); // the errors left the window
    for (let i = 0; i < 4; i++) h.record('a', 'timeout');
    expect(h.state('a')).toBe('unresponsive');
    h.passedTest('a');
    expect(h.state('a')).toBe('up');
  });

  it('lists invokers known from the registry as offline until they ping, in natural order', () => {
    const { h } = setup();
    h.known({ id: 'invoker10', memoryMB: 512, registeredAt: 0 });
    h.heartbeat(hb('invoker2'));
    expect(h.list().map((v) => [v.id, v.state])).toEqual([
      ['invoker2', 'unhealthy'],
      ['invoker10', 'offline'],
    ]);
  });
});
