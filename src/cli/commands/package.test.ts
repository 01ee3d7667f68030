import { describe, expect, it } from 'vitest';
import type { Package } from '../types.js';
import { bindingOf, packageColumns, packageName, packageSummaryText } from './package.js';

describe('package names', () => {
  it('reads PKG, /NS/PKG and NS/PKG (packages do not nest)', () => {
    expect(packageName('tools', '_')).toEqual({ namespace: '_', name: 'tools' });
    expect(packageName('/whisk.system/utils', '_')).toEqual({ namespace: 'whisk.system', name: 'utils' });
    expect(packageName('whisk.system/utils', '_')).toEqual({ namespace: 'whisk.system', name: 'utils' });
    for (const bad of ['', '/a', 'a//b', '/a/b/c', 'a/b/c']) expect(() => packageName(bad, '_')).toThrow();
  });
});

describe('bindings', () => {
  it('are packages whose binding names another package', () => {
    expect(bindingOf({ binding: { namespace: 'whisk.system', name: 'utils' } })).toEqual({
      namespace: 'whisk.system',
      name: 'utils',
    });
    expect(bindingOf({ binding: false })).toBeUndefined();
    expect(bindingOf({ binding: {} })).toBeUndefined();
    expect(bindingOf({})).toBeUndefined();
    const row = (binding: Package['binding']) => packageColumns({ namespace: 'guest', name: 'b', binding });
    expect(row({ namespace: 'whisk.system', name: 'utils' })).toEqual(['binding:/whisk.system/utils']);
    expect(row(false)).toEqual([]);
  });
});

describe('package summary', () => {
  it('lists the package, its actions and feeds with their parameters', () => {
    const p: Package = {
      namespace: 'whisk.system',
      name: 'alarms',
      annotations: [{ key: 'description', value: 'Schedules' }],
      parameters: [{ key: 'apihost', value: 'x' }],
      actions: [{ name: 'helper', annotations: [] }],
      feeds: [
        {
          name: 'alarm',
          annotations: [
            { key: 'description', value: 'Cron' },
            { key: 'parameters', value: [{ name: 'cron' }, { name: 'timezone' }] },
          ],
        },
      ],
    };
    expect(packageSummaryText(p).split('\n')).toEqual([
      'package /whisk.system/alarms: Schedules',
      '   (parameters: *apihost)',
      ' action /whisk.system/alarms/helper',
      '    (parameters: none defined)',
      ' feed /whisk.system/alarms/alarm: Cron',
      '    (parameters: cron, timezone)',
    ]);
  });
});
