/**
 * The one front door of every activation. REST invokes, web actions, trigger fires and each action a
 * sequence or conductor runs all resolve their action (which entitles the caller) and then come through
 * here, so the namespace's limits hold whichever way an action is reached: `allowedKinds` for every
 * action that runs, the throttles once per request, and compositions routed to the controller while
 * everything else goes to an invoker.
 */
import { isSequence, toObject } from '../core/entities.js';
import { badRequest } from '../core/errors.js';
import type { SequenceExec, ActionDoc } from '../core/entities.js';
import type { EntityRef } from '../core/names.js';
import type { Caller } from './identities.js';
import { Invocations, type InvokeOptions, type Started } from './invocations.js';
import type { ResolvedAction } from './resolve.js';
import type { Throttles } from './throttles.js';
import { checkKindAllowed, isObject } from './validate.js';

/** Sequences and conductor actions, which the controller runs itself (compositions/). */
export interface CompositionSupport {
  /** Checks a sequence being created or updated; returns it with fully qualified components. */
  validate(caller: Caller, ref: EntityRef, exec: SequenceExec): Promise<SequenceExec>;
  /** True for actions that run as compositions. */
  handles(doc: ActionDoc): boolean;
  /**
   * Starts the composition with the request payload (the composition applies parameters itself) and
   * waits up to `o.waitMs` for its record; it keeps running in the background after that.
   */
  start(
    caller: Caller,
    action: ResolvedAction,
    payload: Record<string, unknown>,
    o: InvokeOptions,
  ): Promise<Started>;
  /** Starts no further components and waits (bounded) for running compositions to write their records. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartDeps {
  invocations: Invocations;
  throttles: Throttles;
  compositions?: CompositionSupport | undefined;
}

export type ActivationRequest =
  | {
      /** Who runs it: whose namespace limits, throttles and key apply. */
      caller: Caller;
      action: ResolvedAction;
      /** The request's payload: the action's parameters go under it (and `final` ones may not be overridden). */
      payload: Record<string, unknown>;
      options: InvokeOptions;
      component?: false;
    }
  | {
      caller: Caller;
      /** A primitive action (a conductor's own action included); nested compositions run inline. */
      action: ResolvedAction;
      /** The previous step's output: parameters go under an object, an array passes through unmerged. */
      payload: unknown;
      options: InvokeOptions;
      /**
       * A step of a running composition. The composition was throttled when it started, so its steps are
       * not counted again (OpenWhisk checks components with `noThrottle`); every other check applies.
       */
      component: true;
    };

/** Starts the activation, or throws the request's 4xx (403 for a kind the namespace may not use, 429). */
export async function startActivation(deps: StartDeps, r: ActivationRequest): Promise<Started> {
  const { caller, action, options } = r;
  checkKindAllowed(action.doc.exec.kind, caller.limits);
  if (r.component === true) {
    const args = Array.isArray(r.payload)
      ? r.payload
      : { ...toObject(action.params), ...(isObject(r.payload) ? r.payload : {}) };
    return deps.invocations.invoke(caller, action, args, options);
  }
  await deps.throttles.checkInvoke(caller);
  if (deps.compositions?.handles(action.doc) === true)
    return deps.compositions.start(caller, action, r.payload, options);
  if (isSequence(action.doc.exec)) throw badRequest('Sequences are not supported by this controller.');
  return deps.invocations.invoke(caller, action, Invocations.arguments(action, r.payload), options);
}
