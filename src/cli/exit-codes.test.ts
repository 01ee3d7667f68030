import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.js';
import { WhirlApiError, WhirlConnectionError } from './client.js';
import { AttemptError, CommandError, ConfigError, describeFailure } from './errors.js';
import { activationExitCode, EXIT_CODE_TABLE, ExitCode } from './exit-codes.js';

const ctx = { noun: 'action', verb: 'create', apihost: 'http://127.0.0.1:3233' };

describe('exit codes', () => {
  it('are the documented numbers', () => {
    expect(ExitCode).toEqual({
      Ok: 0,
      RequestFailed: 1,
      Usage: 2,
      Unreachable: 3,
      ActionFailed: 4,
      StillRunning: 5,
    });
    expect(EXIT_CODE_TABLE.map((r) => r.code)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('map activation outcomes: success 0, application/developer error 4, whisk error 1', () => {
    expect(activationExitCode(0)).toBe(0);
    expect(activationExitCode('success')).toBe(0);
    expect(activationExitCode(1)).toBe(4);
    expect(activationExitCode('application error')).toBe(4);
    expect(activationExitCode(2)).toBe(4);
    expect(activationExitCode('action developer error')).toBe(4);
    expect(activationExitCode(3)).toBe(1);
    expect(activationExitCode('whisk internal error')).toBe(1);
    expect(activationExitCode(undefined)).toBe(1);
  });

  it('map failures: usage 2, server refusal 1, unreachable or misconfigured 3', () => {
    expect(describeFailure(new UsageError('bad'), ctx).exitCode).toBe(2);
    const conflict = new WhirlApiError(409, 'resource already exists', 'abc', {});
    expect(describeFailure(new AttemptError("create action 'x'", conflict), ctx).exitCode).toBe(1);
    const refused = new WhirlConnectionError('connect ECONNREFUSED', 'ECONNREFUSED', 'http://x');
    expect(describeFailure(new AttemptError('list actions', refused), ctx).exitCode).toBe(3);
    expect(describeFailure(new ConfigError('No API host is set.'), ctx).exitCode).toBe(3);
    expect(describeFailure(new CommandError('x', ExitCode.StillRunning), ctx).exitCode).toBe(5);
    expect(describeFailure(new Error('boom'), ctx).exitCode).toBe(1);
  });

  it('word errors like wsk, with a hint', () => {
    const conflict = new WhirlApiError(409, 'resource already exists', 'abc123', {});
    expect(describeFailure(new AttemptError("create action 'hello'", conflict), ctx).lines).toEqual([
      "error: Unable to create action 'hello': resource already exists (code abc123)",
      "Use 'whirl action update' to change it.",
    ]);
    const denied = new WhirlApiError(401, 'The supplied authentication is invalid', 'c', {});
    expect(describeFailure(denied, ctx).lines.join('\n')).toMatch(/whirl property set --auth UUID:KEY/);
    const refused = new WhirlConnectionError('connect ECONNREFUSED', 'ECONNREFUSED', 'http://x');
    expect(describeFailure(refused, ctx).lines.join('\n')).toMatch(
      /Is Whirl running at http:\/\/127\.0\.0\.1:3233\?.*whirl standalone/s,
    );
  });

  it('are listed in src/cli/README.md exactly as in the table', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    for (const row of EXIT_CODE_TABLE) expect(readme).toContain(`| ${row.code} | ${row.meaning} |`);
  });
});
