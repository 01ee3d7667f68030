import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { SETTINGS, envName, loadConfig, usage } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'whirl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cluster configuration', () => {
  it('takes a flag over the environment over the config file over the default', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'port: 1111\nnats-url: nats://file:4222\nhost: 0.0.0.0\nmemory: 512\n');
    const c = loadConfig('controller', ['--config', file, '--port', '3333'], {
      WHIRL_PORT: '2222',
      WHIRL_NATS_URL: 'nats://env:4222',
    });
    expect(c.port).toBe(3333);
    expect(c['nats-url']).toBe('nats://env:4222');
    expect(c.host).toBe('0.0.0.0');
    expect(c['database-url']).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(c.id).toBe('controller0');
    expect(c.memory).toBeUndefined(); // an invoker setting: allowed in a shared file, not used here
    expect(loadConfig('invoker', ['--config', file], {}).memory).toBe(512);
  });

  it('reads booleans as --flag, --no-flag and environment words', () => {
    expect(loadConfig('invoker', ['--no-prewarm'], {}).prewarm).toBe(false);
    expect(loadConfig('invoker', [], { WHIRL_ADOPT: 'false' }).adopt).toBe(false);
    expect(loadConfig('invoker', [], {}).adopt).toBe(true);
  });

  it('refuses unknown options, unknown file keys and bad numbers with a usage error', () => {
    expect(() => loadConfig('controller', ['--memory', '3'], {})).toThrow(UsageError);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'prot: 1\n');
    expect(() => loadConfig('controller', ['--config', file], {})).toThrow(/unknown setting 'prot'/);
    expect(() => loadConfig('controller', ['--port', 'x'], {})).toThrow(/must be a number/);
  });

  it('documents every setting in its usage and in docs/cluster.md', () => {
    const docs = readFileSync(new URL('../../../docs/cluster.md', import.meta.url), 'utf8');
    for (const s of SETTINGS) {
      expect(docs).toContain(`| \`${s.name}\` | \`${envName(s.name)}\` |`);
      for (const role of s.roles) expect(usage(role, '')).toContain(`--${s.name}`);
    }
  });
});
