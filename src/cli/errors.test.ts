import { describe, expect, it } from 'vitest';
import { WhirlApiError } from './client.js';
import { AttemptError, describeFailure } from './errors.js';
import { ExitCode } from './exit-codes.js';

const fail = (status: number, error: string, noun = 'rule', verb = 'create') =>
  describeFailure(new AttemptError(`${verb} ${noun} 'x'`, new WhirlApiError(status, error, 'c0de', {})), {
    noun,
    verb,
  });

describe('hints for events and packages', () => {
  it('say what to create when a rule names a missing trigger or action', () => {
    const t = fail(400, 'trigger /guest/tick does not exist');
    expect(t.exitCode).toBe(ExitCode.RequestFailed);
    expect(t.lines).toEqual([
      "error: Unable to create rule 'x': trigger /guest/tick does not exist (code c0de)",
      "Create the trigger first: 'whirl trigger create tick'.",
    ]);
    expect(fail(400, 'action /guest/a does not exist').lines[1]).toContain('whirl action list');
  });

  it('explain package errors', () => {
    expect(
      fail(
        409,
        'Package not empty (contains 2 entities). Set force param or delete package contents.',
        'package',
        'delete',
      ).lines[1],
    ).toContain('--force');
    expect(
      fail(400, 'Binding references a package that does not exist.', 'package', 'bind').lines[1],
    ).toContain('whirl package list /NAMESPACE');
    expect(fail(400, 'Cannot bind to another package binding.', 'package', 'bind').lines).toHaveLength(2);
    expect(fail(409, 'resource already exists', 'trigger').lines[1]).toBe(
      "Use 'whirl trigger update' to change it.",
    );
  });

  it('explain rules whose trigger is gone, and bad feed names', () => {
    expect(
      fail(404, 'Only rules with existing triggers can be activated', 'rule', 'enable').lines[1],
    ).toContain('trigger is gone');
    expect(fail(400, 'Feed name is not valid', 'trigger').lines[1]).toContain(
      '--feed /whisk.system/alarms/alarm',
    );
    expect(fail(400, 'something else', 'trigger').lines).toHaveLength(1);
  });
});
