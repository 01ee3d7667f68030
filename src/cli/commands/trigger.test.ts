import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { feedHint, feedOf, firePayload, routeParameters, triggerName } from './trigger.js';
import { feedInvokedLine, feedParameters } from './trigger-feed.js';

describe('trigger names', () => {
  it('takes T and /NS/T, not names inside packages', () => {
    expect(triggerName('t', '_')).toEqual({ namespace: '_', name: 't' });
    expect(triggerName('/guest/t', '_')).toEqual({ namespace: 'guest', name: 't' });
    expect(() => triggerName('pkg/t', '_')).toThrow(/do not live in packages/);
  });
});

describe('the feed lifecycle parameters', () => {
  it('adds lifecycleEvent, triggerName and authKey over the user parameters', () => {
    expect(
      feedParameters('CREATE', { namespace: '_', name: 'tick' }, 'uuid:key', {
        cron: '* * * * *',
        lifecycleEvent: 'DELETE',
      }),
    ).toEqual({ cron: '* * * * *', lifecycleEvent: 'CREATE', triggerName: '/_/tick', authKey: 'uuid:key' });
    expect(feedParameters('READ', { namespace: 'guest', name: 't' }, undefined)).toEqual({
      lifecycleEvent: 'READ',
      triggerName: '/guest/t',
    });
  });

  it('finds the feed of a trigger and says where to look when one fails', () => {
    expect(feedOf({ annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] })).toBe(
      '/whisk.system/alarms/alarm',
    );
    expect(feedOf({ annotations: [{ key: 'feed', value: true }] })).toBeUndefined();
    expect(feedOf({})).toBeUndefined();
    expect(feedHint('/whisk.system/alarms/alarm', false)).toContain(
      'whirl action get /whisk.system/alarms/alarm --summary',
    );
    expect(feedHint('/whisk.system/alarms/nope', true)).toContain('whirl package get /whisk.system/alarms');
    expect(feedHint('/_/nope', true)).toContain('feeds live in packages');
    expect(feedInvokedLine('/a/b/c', 'READ', 'id1')).toBe('invoked /a/b/c (READ) with id id1');
  });
});

describe('fire payload', () => {
  it('is the PAYLOAD object with -p and -P on top', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whirl-fire-'));
    try {
      const file = join(dir, 'p.json');
      writeFileSync(file, JSON.stringify({ fromFile: 1, a: 'file' }));
      expect(firePayload('{"a":1,"b":{"c":2}}', [['a', '3']], [file])).toEqual({
        a: 3,
        b: { c: 2 },
        fromFile: 1,
      });
      expect(firePayload(undefined, [['name', 'Ann']], [])).toEqual({ name: 'Ann' });
      expect(firePayload(undefined, [], [])).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('must be a JSON object', () => {
    for (const bad of ['x', '[1]', '3', 'null', '{'])
      expect(() => firePayload(bad, [], [])).toThrow(/JSON object/);
  });
});

describe('where trigger parameters go', () => {
  const a = [{ key: 'a', value: 1 }];
  const b = [{ key: 'b', value: 2 }];

  it('-p goes to the feed when there is one, else to the trigger', () => {
    expect(routeParameters({ param: a }, true)).toEqual({ feed: a });
    expect(routeParameters({ param: a }, false)).toEqual({ trigger: a });
    expect(routeParameters({}, true)).toEqual({ feed: undefined });
  });

  it('-T goes to the trigger and -F to the feed, also together', () => {
    expect(routeParameters({ trigger: a, feed: b }, true)).toEqual({ trigger: a, feed: b });
    expect(routeParameters({ trigger: a }, false)).toEqual({ trigger: a, feed: undefined });
  });

  it('refuses to mix the two ways, and -F without a feed', () => {
    expect(() => routeParameters({ param: a, trigger: b }, true)).toThrow(
      /either with -p\/-P or with -T\/-F/,
    );
    expect(() => routeParameters({ param: a, feed: b }, true)).toThrow(/not both/);
    expect(() => routeParameters({ feed: b }, false)).toThrow(/this trigger has none/);
  });
});
