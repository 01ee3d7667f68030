/**
 * Running a conductor action (spec §6.2): the conductor's result says what to run next (`action`), with
 * what (`params`), and what to remember (`state`, merged into its next input). After each component the
 * conductor runs again on the component's result; a result without `action` ends the composition with
 * its `params` (or the whole result). Problems with the next action are reported back to the conductor
 * as `{error}` so that it can decide. Limits: n components and 2n+1 conductor runs (n = sequence length),
 * counted across nested compositions.
 */
import type { ActivationRecord, ActivationResponse } from '../../core/activation.js';
import { StatusCode, newActivationId } from '../../core/activation.js';
import { getAnnotation, isSequence, isTruthy } from '../../core/entities.js';
import { WhirlError } from '../../core/errors.js';
import { qualifiedPath } from '../../core/names.js';
import { refFromString } from '../references.js';
import { resolveAction, type ResolvedAction } from '../resolve.js';
import { isObject } from '../validate.js';
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

/** Invocations so far under the topmost composition (shared with nested compositions). */
export interface CompositionCounter {
  components: number;
  conductors: number;
}

/** Non-objects are boxed: `params: 5` → `{value: 5}`, `state: 5` → `{state: 5}`. */
const box = (v: unknown, key: string): Record<string, unknown> => (isObject(v) ? v : { [key]: v });

export async function runConductor(
  ctx: RunContext,
  conductor: ResolvedAction,
  payload: Record<string, unknown>,
  cause: string | undefined,
  counter: CompositionCounter = { components: 0, conductors: 0 },
  activationId: string = newActivationId(),
): Promise<ActivationRecord> {
  const start = Date.now();
  const acc = new Accounting();
  acc.maxMemory = conductor.doc.limits.memory;
  const limit = ctx.system.sequenceLength;
  let state: Record<string, unknown> | undefined;
  let input: Record<string, unknown> | undefined = payload;
  let response: ActivationResponse;
  try {
    for (;;) {
      if (counter.conductors > 2 * limit) {
        response = appError(M.compositionIsTooLong);
        break;
      }
      counter.conductors++;
      const args = state === undefined ? (input ?? {}) : { ...(input ?? {}), ...state };
      const step = await invokeStep(ctx, conductor, args, activationId, M.compositionTimeout);
      acc.add(step);
      if (!step.completed) {
        response = step.response;
        break;
      }
      const result = isObject(step.response.result) ? step.response.result : {};
      const params = 'params' in result ? box(result.params, 'value') : undefined;
      if ('state' in result) state = box(result.state, 'state');
      else state = undefined;
      if (!('action' in result) || step.response.statusCode === StatusCode.WhiskError) {
        // A new response, as OpenWhisk makes one: the status and the result, no size (the conductor's
        // `size` measured its own output, not the composition's result).
        response = { statusCode: step.response.statusCode, result: params ?? step.response.result };
        break;
      }
      const next = result.action;
      const ref = typeof next === 'string' ? refFromString(next, ctx.caller.namespace) : undefined;
      if (ref === undefined) {
        input = { error: M.compositionComponentInvalid(JSON.stringify(next)) };
        continue;
      }
      if (counter.components >= limit) {
        input = { error: M.compositionIsTooLong };
        continue;
      }
      let component: ResolvedAction;
      try {
        component = await resolveAction(ctx.entities, ctx.caller, ref);
      } catch (err) {
        const denied = err instanceof WhirlError && err.status === 403;
        const name = qualifiedPath(ref);
        input = {
          error: denied ? M.compositionComponentNotAccessible(name) : M.compositionComponentNotFound(name),
        };
        continue;
      }
      const done = await runComponent(ctx, component, params, activationId, counter);
      acc.add(done);
      if (!done.completed) {
        // The component did not end in time, or could not start: the composition ends here.
        response = done.response;
        break;
      }
      input = isObject(done.response.result) ? done.response.result : {};
    }
  } catch {
    response = whiskError(M.compositionActivationFailure);
  }
  return finishComposition(ctx, conductor, { activationId, start, cause, response, acc }, [
    { key: 'conductor', value: true },
  ]);
}

/** A component of the composition: a nested conductor, a sequence, or a primitive action. */
async function runComponent(
  ctx: RunContext,
  action: ResolvedAction,
  params: Record<string, unknown> | undefined,
  cause: string,
  counter: CompositionCounter,
): Promise<Step> {
  if (ctx.stopping()) return notStarted(M.stopping);
  if (isSequence(action.doc.exec)) {
    counter.components++;
    return stepOf(await ctx.runSequence(ctx, action, params ?? {}, cause));
  }
  if (isTruthy(getAnnotation(action.doc.annotations, 'conductor'))) {
    // The nested composition counts its own invocations on the shared counter.
    return stepOf(await runConductor(ctx, action, params ?? {}, cause, counter));
  }
  counter.components++;
  return invokeStep(ctx, action, params ?? {}, cause, M.compositionTimeout);
}
