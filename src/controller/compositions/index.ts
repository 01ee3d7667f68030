/**
 * Compositions: sequences (`exec.kind: sequence`) and conductor actions (`conductor` annotation). The
 * controller drives them — each component is an ordinary blocking activation on an invoker — and writes
 * the composition's own record. Activations reach them through `startActivation` (../start-activation.ts),
 * and their steps go back through it.
 */
import { newActivationId, type ActivationRecord } from '../../core/activation.js';
import type { ActionDoc, SequenceExec } from '../../core/entities.js';
import { getAnnotation, isSequence, isTruthy } from '../../core/entities.js';
import type { SystemLimits } from '../../core/limits.js';
import type { EntityRef } from '../../core/names.js';
import type { ActivationWriter } from '../../store/activation-writer.js';
import type { Entities } from '../entities.js';
import type { Caller } from '../identities.js';
import { Invocations, type InvokeOptions, type Started } from '../invocations.js';
import type { Throttles } from '../throttles.js';
import type { ResolvedAction } from '../resolve.js';
import type { CompositionSupport } from '../start-activation.js';
import { runConductor } from './conductor.js';
import { runSequence } from './sequence.js';
import type { RunContext } from './steps.js';
import { validateSequence } from './validate.js';

export { CompositionMessages } from './steps.js';

export interface CompositionDeps {
  entities: Entities;
  invocations: Invocations;
  /** Steps are not throttled, but the front door they go through takes the throttles. */
  throttles: Throttles;
  system: SystemLimits;
  /** Where composition records go (the invoker's batching writer). */
  writer: ActivationWriter | undefined;
}

export const isConductor = (doc: ActionDoc): boolean =>
  !isSequence(doc.exec) && isTruthy(getAnnotation(doc.annotations, 'conductor'));

export class Compositions implements CompositionSupport {
  private stopping = false;
  private readonly running = new Set<Promise<ActivationRecord>>();

  constructor(private readonly deps: CompositionDeps) {}

  validate(caller: Caller, ref: EntityRef, exec: SequenceExec): Promise<SequenceExec> {
    return validateSequence(this.deps.entities, caller, ref, exec, this.deps.system.sequenceLength);
  }

  handles(doc: ActionDoc): boolean {
    return isSequence(doc.exec) || isConductor(doc);
  }

  async start(
    caller: Caller,
    action: ResolvedAction,
    payload: Record<string, unknown>,
    o: InvokeOptions,
  ): Promise<Started> {
    const ctx: RunContext = {
      caller,
      transactionId: o.transactionId,
      entities: this.deps.entities,
      invocations: this.deps.invocations,
      throttles: this.deps.throttles,
      system: this.deps.system,
      writer: this.deps.writer,
      runSequence: (c, seq, input, cause) => runSequence(c, seq, input, cause, { atomic: 0 }),
      stopping: () => this.stopping,
    };
    const activationId = newActivationId();
    const cause = o.cause;
    const run = isSequence(action.doc.exec)
      ? // A sequence's own parameters hold its components; its input is the payload alone.
        runSequence(ctx, action, payload, cause, { atomic: 0 }, activationId)
      : runConductor(ctx, action, checkedPayload(action, payload), cause, undefined, activationId);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    if (o.waitMs <= 0) return { activationId };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), o.waitMs);
    });
    const record = await Promise.race([run, timeout]);
    clearTimeout(timer);
    return record === undefined ? { activationId } : { activationId, record };
  }

  async stop(graceMs = 70_000): Promise<void> {
    this.stopping = true;
    const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.running]), deadline]);
  }
}

/** The conductor's first input: its payload, refused when it overrides `final` parameters. */
function checkedPayload(action: ResolvedAction, payload: Record<string, unknown>): Record<string, unknown> {
  Invocations.arguments(action, payload);
  return payload;
}
