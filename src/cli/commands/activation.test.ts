import { describe, expect, it } from 'vitest';
import { formatTime } from '../output.js';
import type { Activation } from '../types.js';
import { activationSummaryText } from './activation.js';

const record = (over: Partial<Activation>): Activation => ({
  namespace: 'guest',
  name: 'hello',
  activationId: 'a'.repeat(32),
  start: 1_700_000_000_000,
  end: 1_700_000_000_012,
  duration: 12,
  response: { status: 'success', success: true, result: { greeting: 'hi' } },
  logs: [],
  ...over,
});

describe('activation get --summary', () => {
  it("prints what ran, its status, end time and duration, then the result (wsk's layout)", () => {
    expect(activationSummaryText(record({}))).toBe(
      `activation result for '/guest/hello' (success at ${formatTime(1_700_000_000_012)}, 12ms)\n` +
        `{\n    "greeting": "hi"\n}`,
    );
  });

  it('names the package through the path annotation, and shows failures', () => {
    const text = activationSummaryText(
      record({
        annotations: [{ key: 'path', value: 'guest/tools/hello' }],
        response: { status: 'application error', success: false, result: { error: 'nope' } },
      }),
    );
    expect(text).toMatch(/^activation result for '\/guest\/tools\/hello' \(application error at /);
    expect(text).toContain('"error": "nope"');
  });
});
