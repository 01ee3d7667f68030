/**
 * What sequences and conductors share: the run context, one blocking component invocation (a "step"),
 * and writing the composition's own activation record.
 */
import type { ActivationRecord, ActivationResponse } from '../../core/activation.js';
import { StatusCode, activationRecord } from '../../core/activation.js';
import type { KeyValue } from '../../core/entities.js';
import { WhirlError } from '../../core/errors.js';
import type { SystemLimits } from '../../core/limits.js';
import type { ActivationWriter } from '../../store/activation-writer.js';
import type { Entities } from '../entities.js';
import type { Caller } from '../identities.js';
import type { Invocations } from '../invocations.js';
import type { ResolvedAction } from '../resolve.js';
import { startActivation } from '../start-activation.js';
import type { Throttles } from '../throttles.js';
import { isObject } from '../validate.js';

/** OpenWhisk's wire strings for compositions (clients and tests match on them). */
export const CompositionMessages = {
  sequenceIsTooLong: 'Too many actions in the sequence.',
  sequenceNoComponent: 'No component specified for the sequence.',
  sequenceIsCyclic: 'Sequence may not refer to itself.',
  sequenceComponentNotFound: 'Sequence component does not exist.',
  sequenceActivationFailure: 'Sequence failed.',
  sequenceTimeout: (id: string) => `Timeout reached when retrieving activation ${id} for sequence component.`,
  compositionIsTooLong: 'Too many actions in the composition.',
  compositionActivationFailure: 'Activation failure during composition.',
  compositionTimeout: (id: string) => `Timeout reached when retrieving activation ${id} during composition.`,
  compositionComponentInvalid: (json: string) =>
    `Failed to parse action name from json value ${json} during composition.`,
  compositionComponentNotFound: (name: string) =>
    `Failed to resolve action with name '${name}' during composition.`,
  compositionComponentNotAccessible: (name: string) =>
    `Failed entitlement check for action with name '${name}' during composition.`,
  stopping: 'Whirl was stopping: the composition could not start its next action.',
} as const;

export interface RunContext {
  caller: Caller;
  transactionId: string;
  entities: Entities;
  invocations: Invocations;
  throttles: Throttles;
  system: SystemLimits;
  writer: ActivationWriter | undefined;
  /**
   * Runs a sequence that a conductor names as a component. It comes in through the context so that the
   * imports stay one-way (sequence.ts → conductor.ts) although the two nest in either direction.
   */
  runSequence(ctx: RunContext, seq: ResolvedAction, input: unknown, cause: string): Promise<ActivationRecord>;
  /** True once the controller is shutting down: no new component starts. */
  stopping(): boolean;
}

/** The outcome of one component (or conductor) activation, as the composition accounts for it. */
export interface Step {
  /** Absent when no activation could be started. */
  activationId?: string;
  /** False when the activation did not end (in time) or never started: the composition stops. */
  completed: boolean;
  response: ActivationResponse;
  duration: number;
  /** The memory limit the activation ran with (MB), for the composition's `limits` annotation. */
  memory?: number;
}

export const appError = (message: string): ActivationResponse => ({
  statusCode: StatusCode.ApplicationError,
  result: { error: message },
});

export const whiskError = (message: string): ActivationResponse => ({
  statusCode: StatusCode.WhiskError,
  result: { error: message },
});

/** Components run with `causedBy: sequence` (OpenWhisk marks every activation that has a cause so). */
const CAUSED_BY: KeyValue = { key: 'causedBy', value: 'sequence' };

/** A record's duration and memory, for accounting. */
export function stepOf(record: ActivationRecord): Step {
  const limits = record.annotations.find((a) => a.key === 'limits')?.value;
  const memory = isObject(limits) && typeof limits.memory === 'number' ? limits.memory : undefined;
  return {
    activationId: record.activationId,
    completed: true,
    response: record.response,
    duration: record.duration ?? (record.end ?? record.start) - record.start,
    ...(memory === undefined ? {} : { memory }),
  };
}

/**
 * Runs one primitive action, blocking, as a component of `cause`: its own parameters under the input
 * (arrays pass through unmerged, as between OpenWhisk sequence components). Never throws.
 */
export async function invokeStep(
  ctx: RunContext,
  action: ResolvedAction,
  input: unknown,
  cause: string,
  timeoutMessage: (id: string) => string,
): Promise<Step> {
  if (ctx.stopping()) return notStarted(CompositionMessages.stopping);
  try {
    const started = await startActivation(ctx, {
      caller: ctx.caller,
      action,
      payload: input,
      component: true,
      options: {
        // A component may run its whole time limit; the extra minute covers queueing and a cold start.
        waitMs: action.doc.limits.timeout + 60_000,
        transactionId: ctx.transactionId,
        cause,
        annotations: [CAUSED_BY],
      },
    });
    if (started.record === undefined) {
      return {
        activationId: started.activationId,
        completed: false,
        response: whiskError(timeoutMessage(started.activationId)),
        duration: 0,
      };
    }
    return stepOf(started.record);
  } catch (err) {
    // A refusal (a kind the namespace may not use, say) is the caller's error, and a conductor hears it
    // as `{error}`; anything else is the platform's, and the composition ends.
    if (err instanceof WhirlError && err.status < 500)
      return { completed: true, response: appError(err.message), duration: 0 };
    const message = err instanceof WhirlError ? err.message : CompositionMessages.sequenceActivationFailure;
    return notStarted(message);
  }
}

/** A step that never ran: a whisk error, and the composition goes no further. */
export const notStarted = (message: string): Step => ({
  completed: false,
  response: whiskError(message),
  duration: 0,
});

/** Accumulates a composition's logs, duration and peak memory. */
export class Accounting {
  readonly logs: string[] = [];
  duration = 0;
  maxMemory: number | undefined;

  add(step: Step): void {
    if (step.activationId !== undefined) this.logs.push(step.activationId);
    this.duration += step.duration;
    if (step.memory !== undefined) this.maxMemory = Math.max(this.maxMemory ?? 0, step.memory);
  }
}

/** Hands a composition's record to the writer (unless the namespace keeps no records). */
export function writeRecord(ctx: RunContext, record: ActivationRecord): void {
  if (ctx.caller.limits.storeActivations) ctx.writer?.add(record);
}

/**
 * Writes the record of a finished composition (sequence or conductor): its components' ids as logs, the
 * sum of their durations, the largest memory among them, and `topmost`/`causedBy` by nesting.
 */
export function finishComposition(
  ctx: RunContext,
  composition: ResolvedAction,
  run: {
    activationId: string;
    start: number;
    cause: string | undefined;
    response: ActivationResponse;
    acc: Accounting;
  },
  extraAnnotations: KeyValue[] = [],
): ActivationRecord {
  const { activationId, start, cause, response, acc } = run;
  const annotations: KeyValue[] = [
    { key: 'topmost', value: cause === undefined },
    { key: 'path', value: `${composition.path}/${composition.doc.name}` },
    { key: 'kind', value: 'sequence' },
    ...extraAnnotations,
  ];
  if (cause !== undefined) annotations.push(CAUSED_BY);
  if (acc.maxMemory !== undefined) {
    const { timeout, logs } = composition.doc.limits;
    annotations.push({ key: 'limits', value: { timeout, memory: acc.maxMemory, logs } });
  }
  annotations.push(...composition.annotations);
  const record = activationRecord({
    namespace: ctx.caller.namespace,
    subject: ctx.caller.subject,
    name: composition.doc.name,
    version: composition.doc.version,
    activationId,
    start,
    end: Date.now(),
    duration: acc.duration,
    cause,
    response,
    logs: acc.logs,
    annotations,
  });
  writeRecord(ctx, record);
  return record;
}
