import { describe, expect, it } from 'vitest';
import { ActivationLogs, LogRouter, SENTINEL } from './logs.js';

const feedAll = (router: LogRouter, stream: 'stdout' | 'stderr', text: string, chunk = 7) => {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunk) router.feed(stream, bytes.subarray(i, i + chunk));
};

describe('log collection', () => {
  it('splits chunks into lines, keeps multi-byte characters whole, and ends at the sentinels', () => {
    const router = new LogRouter(1 << 20);
    const logs = new ActivationLogs(1 << 20);
    router.current = logs;
    feedAll(router, 'stdout', `hello ❄ world\nsecond\n${SENTINEL}\n`, 3);
    feedAll(router, 'stderr', `oops\n${SENTINEL}\n`);
    expect(logs.lines.map((l) => l.replace(/^\S+\s+/, ''))).toEqual([
      'stdout: hello ❄ world',
      'stdout: second',
      'stderr: oops',
    ]);
    expect(logs.complete).toBe(true);
  });

  it('truncates at the limit and still finds the sentinels in the flood that follows', () => {
    const router = new LogRouter(1 << 20);
    const logs = new ActivationLogs(100);
    router.current = logs;
    const flood = Array.from({ length: 5000 }, (_, i) => `line ${i} ✓ ${'x'.repeat(i % 50)}`).join('\n');
    for (const size of [1, 5, 33, 4096]) {
      const r = new LogRouter(1 << 20);
      const l = new ActivationLogs(100);
      r.current = l;
      feedAll(r, 'stdout', `${flood}\n${SENTINEL}\n`, size);
      feedAll(r, 'stderr', `${SENTINEL}\n`, size);
      expect(l.complete, `chunks of ${size}`).toBe(true);
      expect(l.lines.at(-1)).toMatch(
        /Logs were truncated because the total bytes size exceeds the limit of 100 bytes\.$/,
      );
      expect(l.lines.length).toBeLessThan(10);
    }
    expect(logs.complete).toBe(false);
  });

  it('keeps the logs of concurrent activations apart by their tags', () => {
    const router = new LogRouter(1 << 20);
    const a = new ActivationLogs(1 << 20);
    const b = new ActivationLogs(1 << 20);
    const idA = 'a'.repeat(32);
    const idB = 'b'.repeat(32);
    router.tagged.set(idA, a);
    router.tagged.set(idB, b);
    feedAll(
      router,
      'stdout',
      `[[whirl:${idA}]] one\n[[whirl:${idB}]] two\n[[whirl:${idA}]] ${SENTINEL}\nuntagged\n`,
    );
    expect(a.lines.map((l) => l.replace(/^\S+\s+/, ''))).toEqual(['stdout: one']);
    expect(b.lines.map((l) => l.replace(/^\S+\s+/, ''))).toEqual(['stdout: two']);
  });
});
