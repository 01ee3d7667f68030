import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { tarStream } from './tar.js';

describe('tar writer', () => {
  it.runIf(spawnSync('tar', ['--version']).status === 0)(
    'writes archives GNU tar extracts: directories, files, modes, long names and links',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'whirl-tar-'));
      try {
        const onDisk = join(dir, 'source.bin');
        writeFileSync(onDisk, Buffer.alloc(70_000, 7));
        const long = `deep/${'d'.repeat(90)}/${'f'.repeat(80)}.txt`;
        const archive = await buffer(
          tarStream([
            { type: 'dir', name: 'deep' },
            { type: 'dir', name: `deep/${'d'.repeat(90)}` },
            { type: 'file', name: long, data: Buffer.from('long name ❄') },
            { type: 'file', name: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\n') },
            { type: 'file', name: 'big.bin', path: onDisk, size: 70_000 },
            { type: 'symlink', name: 'link', target: `/${'t'.repeat(150)}` },
            { type: 'symlink', name: 'sh', target: 'bin/tool' },
          ]),
        );
        expect(archive.length % 512).toBe(0);
        const out = join(dir, 'out');
        spawnSync('mkdir', [out]);
        const r = spawnSync('tar', ['-x', '-C', out], { input: archive });
        expect(r.status, r.stderr.toString()).toBe(0);
        expect(readFileSync(join(out, long), 'utf8')).toBe('long name ❄');
        expect(statSync(join(out, 'bin/tool')).mode & 0o777).toBe(0o755);
        expect(readFileSync(join(out, 'big.bin')).equals(Buffer.alloc(70_000, 7))).toBe(true);
        expect(readlinkSync(join(out, 'link'))).toBe(`/${'t'.repeat(150)}`);
        expect(readlinkSync(join(out, 'sh'))).toBe('bin/tool');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
