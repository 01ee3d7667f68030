/**
 * Running a sequence (spec §6.1): components run blocking, one after another, each one's result the
 * next one's input; the first failure ends the sequence with that failure. The sequence gets its own
 * record: logs = component activation ids, duration = their sum, `limits.memory` = their peak. Nested
 * sequences run inline with their own record, and every atomic action counts towards one limit.
 */
import type { ActivationRecord, ActivationResponse } from '../../core/activation.js';
import { StatusCode, newActivationId } from '../../core/activation.js';
import type { SequenceExec } from '../../core/entities.js';
import { getAnnotation, isSequence, isTruthy } from '../../core/entities.js';
import { WhirlError } from '../../core/errors.js';
import { refFromString } from '../references.js';
import { isObject } from '../validate.js';
import { resolveAction, type ResolvedAction } from '../resolve.js';
import { runConductor } from './conductor.js';
import {
  Accounting,
  CompositionMessages as M,
  appError,
  finishComposition,
  invokeStep,
  notStarted,
  stepOf,
  whiskError,
  type RunContext,
  type Step,
} from './steps.js';

/** Atomic actions run so far under the topmost sequence (shared with nested sequences). */
export interface SequenceCounter {
  atomic: number;
}

/** Whether an input can flow into the next component (objects and arrays do; anything else is `{}`). */
const flowable = (v: unknown): boolean => v !== null && typeof v === 'object';

export async function runSequence(
  ctx: RunContext,
  seq: ResolvedAction,
  input: unknown,
  cause: string | undefined,
  counter: SequenceCounter,
  activationId: string = newActivationId(),
): Promise<ActivationRecord> {
  const start = Date.now();
  const acc = new Accounting();
  let response: ActivationResponse = { statusCode: StatusCode.Success, result: input };
  try {
    let next = input;
    for (const name of (seq.doc.exec as SequenceExec).components) {
      if (counter.atomic >= ctx.system.sequenceLength) {
        response = appError(M.sequenceIsTooLong);
        break;
      }
      const step = await runComponent(ctx, name, next, activationId, counter);
      acc.add(step);
      response = step.response;
      if (response.statusCode !== StatusCode.Success) break;
      next = flowable(response.result) ? response.result : {};
    }
  } catch {
    response = whiskError(M.sequenceActivationFailure);
  }
  return finishComposition(ctx, seq, { activationId, start, cause, response, acc });
}

/** One component: resolved now (so that updates between runs take effect), then run by its kind. */
async function runComponent(
  ctx: RunContext,
  name: string,
  input: unknown,
  cause: string,
  counter: SequenceCounter,
): Promise<Step> {
  const ref = refFromString(name, ctx.caller.namespace);
  let action: ResolvedAction;
  try {
    if (ref === undefined) throw new WhirlError(404, M.sequenceComponentNotFound);
    action = await resolveAction(ctx.entities, ctx.caller, ref);
  } catch (err) {
    // A component the caller may not run reports why; a missing one, OpenWhisk's message.
    const denied = err instanceof WhirlError && err.status === 403;
    return {
      completed: true,
      response: appError(denied ? err.message : M.sequenceComponentNotFound),
      duration: 0,
    };
  }
  if (isSequence(action.doc.exec)) {
    if (ctx.stopping()) return notStarted(M.stopping);
    return stepOf(await runSequence(ctx, action, input, cause, counter));
  }
  counter.atomic++;
  if (isTruthy(getAnnotation(action.doc.annotations, 'conductor'))) {
    if (ctx.stopping()) return notStarted(M.stopping);
    return stepOf(await runConductor(ctx, action, isObject(input) ? input : {}, cause));
  }
  return invokeStep(ctx, action, input, cause, M.sequenceTimeout);
}
