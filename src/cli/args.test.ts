import { describe, expect, it } from 'vitest';
import { GLOBAL_FLAGS, firstPositional } from './command.js';
import { closest, didYouMean, jsonOrString, parseArgs, UsageError, type FlagDef } from './args.js';

const DEFS: FlagDef[] = [
  { long: 'param', short: 'p', kind: 'pair', help: '' },
  { long: 'param-file', short: 'P', kind: 'list', help: '' },
  { long: 'blocking', short: 'b', kind: 'boolean', help: '' },
  { long: 'result', short: 'r', kind: 'boolean', help: '' },
  { long: 'timeout', short: 't', kind: 'number', help: '' },
  { long: 'kind', kind: 'string', help: '' },
  ...GLOBAL_FLAGS,
];

describe('parseArgs', () => {
  it('collects repeated two-value flags in order, values taken verbatim', () => {
    const a = parseArgs(['hello', '-p', 'name', 'World', '--param', 'n', '-5', '-p', 'x', '--kind'], DEFS);
    expect(a.positionals).toEqual(['hello']);
    expect(a.pairs('param')).toEqual([
      ['name', 'World'],
      ['n', '-5'],
      ['x', '--kind'],
    ]);
  });

  it('accepts flags anywhere, before, between and after positionals', () => {
    const a = parseArgs(['-v', 'hello', '--apihost', 'http://h:1', 'file.js', '-i', '-t', '300'], DEFS);
    expect(a.positionals).toEqual(['hello', 'file.js']);
    expect(a.bool('verbose')).toBe(true);
    expect(a.bool('insecure')).toBe(true);
    expect(a.string('apihost')).toBe('http://h:1');
    expect(a.number('timeout')).toBe(300);
  });

  it('supports --flag=value, bundled short booleans and --', () => {
    const a = parseArgs(['--kind=python:3', '-br', '--', '-not-a-flag'], DEFS);
    expect(a.string('kind')).toBe('python:3');
    expect(a.bool('blocking') && a.bool('result')).toBe(true);
    expect(a.positionals).toEqual(['-not-a-flag']);
    expect(parseArgs(['--blocking=false'], DEFS).bool('blocking')).toBe(false);
  });

  it('keeps every value of a list flag', () => {
    expect(parseArgs(['-P', 'a.json', '--param-file', 'b.json'], DEFS).list('param-file')).toEqual([
      'a.json',
      'b.json',
    ]);
  });

  it('treats negative numbers as positionals, not flags', () => {
    expect(parseArgs(['-1'], DEFS).positionals).toEqual(['-1']);
  });

  it('rejects unknown flags with a suggestion, and missing values', () => {
    expect(() => parseArgs(['--parma', 'a', 'b'], DEFS)).toThrow(
      /unknown flag --parma \(did you mean --param\?\)/,
    );
    expect(() => parseArgs(['-p', 'only-key'], DEFS)).toThrow(UsageError);
    expect(() => parseArgs(['-t', 'soon'], DEFS)).toThrow(/needs an integer/);
    expect(() => parseArgs(['-bt'], DEFS)).toThrow(/cannot be bundled/);
  });

  it('lets earlier definitions shadow later ones (command flags over global ones)', () => {
    const own: FlagDef = { long: 'auth', kind: 'boolean', help: '' };
    expect(parseArgs(['--auth'], [own, ...GLOBAL_FLAGS]).bool('auth')).toBe(true);
    expect(parseArgs(['--auth', 'k'], GLOBAL_FLAGS).string('auth')).toBe('k');
  });
});

describe('jsonOrString (parameter values)', () => {
  it.each([
    ['5', 5],
    ['true', true],
    ['null', null],
    ['"5"', '5'],
    ['{"a":[1,2]}', { a: [1, 2] }],
    ['hello', 'hello'],
    ['{not json', '{not json'],
    ['', ''],
  ])('%s', (text, value) => {
    expect(jsonOrString(text)).toEqual(value);
  });
});

describe('firstPositional', () => {
  it('skips global flags and their values', () => {
    expect(firstPositional(['-u', 'k:v', '--apihost', 'h', '-v', 'action', 'list'])).toBe(4 + 1);
    expect(firstPositional(['--apihost=h', 'list'])).toBe(1);
    expect(firstPositional(['-v'])).toBe(-1);
  });
});

describe('did you mean', () => {
  it('suggests the closest name when it is close enough', () => {
    const verbs = ['create', 'update', 'invoke', 'get', 'delete', 'list'];
    expect(closest('crate', verbs)).toBe('create');
    expect(closest('lst', verbs)).toBe('list');
    expect(closest('xyz', verbs)).toBeUndefined();
    expect(didYouMean('acton', ['action', 'activation', 'api'])).toBe(" (did you mean 'action'?)");
    expect(didYouMean('zzzzzz', ['action'])).toBe('');
  });
});
