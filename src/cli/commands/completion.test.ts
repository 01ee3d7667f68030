import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bashScript, completionTable, zshScript, type CompletionTable } from './completion.js';

let dir: string;
let table: CompletionTable;
let bashFile: string;
let zshFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whirl-completion-'));
  table = await completionTable();
  bashFile = join(dir, 'whirl.bash');
  zshFile = join(dir, 'whirl.zsh');
  writeFileSync(bashFile, bashScript(table));
  writeFileSync(zshFile, zshScript(table));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sources the bash script in a real bash and runs its completion function on `line` (cursor at the end). */
function bashComplete(...line: string[]): string[] {
  const script = [
    `source ${JSON.stringify(bashFile)}`,
    'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
    '_whirl',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const out = execFileSync('bash', ['-c', script, 'bash', 'whirl', ...line], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

const hasZsh = spawnSync('zsh', ['--version']).status === 0;

describe('the completion table', () => {
  it('comes from the command registry: nouns, verbs with aliases, flags of each verb', () => {
    expect(table.commands).toEqual(expect.arrayContaining(['action', 'activation', 'list', 'standalone']));
    expect(table.verbs.action).toEqual(['create', 'update', 'invoke', 'get', 'delete', 'list']);
    expect(table.flags['trigger create']).toEqual(expect.arrayContaining(['--feed', '-F', '--feed-param']));
    expect(table.flags['activation get']).toEqual(expect.arrayContaining(['--summary', '--logs', '--last']));
    expect(table.verbless).toContain('list');
    expect(table.valueFlags).toEqual(['--auth', '-u', '--apihost', '--apiversion']);
  });
});

describe('the bash script, sourced in bash', () => {
  it('completes commands, verbs and flags', () => {
    expect(bashComplete('act')).toEqual(['action', 'activation']);
    expect(bashComplete('action', 'cr')).toEqual(['create']);
    expect(bashComplete('action', 'invoke', 'hello', '--r')).toEqual(['--result']);
    expect(bashComplete('trigger', 'create', 't', '--feed-')).toEqual(['--feed-param']);
    expect(bashComplete('list', '/guest', '--n')).toEqual(['--name-sort']);
    expect(bashComplete('completion', '')).toEqual(['bash', 'zsh']);
    // Global flags everywhere, and global flags with a value are skipped when finding the command.
    expect(bashComplete('rule', 'enable', '--verb')).toEqual(['--verbose']);
    expect(bashComplete('--apihost', 'http://h', '-u', 'k', 'rule', 'en')).toEqual(['enable']);
  });

  it('offers nothing after an unknown command', () => {
    expect(bashComplete('nosuch', '')).toEqual([]);
  });
});

describe('the zsh script', () => {
  it.runIf(hasZsh)('parses in zsh', () => {
    expect(spawnSync('zsh', ['-n', zshFile]).status).toBe(0);
  });

  it('shares the candidate function with the bash script, and it runs outside zsh', () => {
    // zsh is not installed everywhere: the file is loaded in bash, which defines the zsh glue without
    // expanding it, and the shared POSIX function is run (only `_whirl`'s compadd part is zsh's own).
    const out = execFileSync(
      'bash',
      ['-c', `compdef() { :; }; . ${JSON.stringify(zshFile)}; __whirl_candidates cr action`],
      { encoding: 'utf8' },
    );
    expect(out.trim().split(' ')).toEqual(['create', 'update', 'invoke', 'get', 'delete', 'list']);
    expect(zshScript(table)).toMatch(/^#compdef whirl\n/);
    expect(zshScript(table)).toContain('compdef _whirl whirl');
  });
});
