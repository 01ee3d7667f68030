import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from './data-dir-lock.js';

describe('lockDataDir', () => {
  it('claims a directory once, and lets it go', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whirl-lock-'));
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'whirl.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, 'whirl.pid'))).toBe(false);
  });

  it('refuses a directory a live process holds, and takes over one left by a dead process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whirl-lock-'));
    writeFileSync(join(dir, 'whirl.pid'), '1\n'); // pid 1 is always alive
    expect(() => lockDataDir(dir)).toThrow(/another Whirl \(pid 1\) is using the data directory/);
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(join(dir, 'whirl.pid'), `${dead}\n`);
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'whirl.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
