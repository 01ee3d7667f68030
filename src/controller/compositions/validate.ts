/**
 * Checks a sequence at creation (spec §6.1): at least one component, every component an action the
 * caller may read, no reference back to the sequence itself (directly or through nested sequences), and
 * at most `sequenceLength` atomic actions with nested sequences counted inline. Components are stored
 * fully qualified, `_` replaced by the caller's namespace.
 */
import type { SequenceExec } from '../../core/entities.js';
import { isSequence } from '../../core/entities.js';
import { WhirlError, badRequest } from '../../core/errors.js';
import { fullyQualified, qualifiedPath, type EntityRef } from '../../core/names.js';
import type { Entities } from '../entities.js';
import type { Caller } from '../identities.js';
import { refFromString } from '../references.js';
import { resolveAction } from '../resolve.js';
import { malformed } from '../validate.js';
import { CompositionMessages as M } from './steps.js';

export async function validateSequence(
  entities: Entities,
  caller: Caller,
  self: EntityRef,
  exec: SequenceExec,
  limit: number,
): Promise<SequenceExec> {
  if (exec.components.length === 0) throw badRequest(M.sequenceNoComponent);
  const refs = exec.components.map((c) => {
    const ref = refFromString(c, caller.namespace);
    if (ref === undefined) throw malformed(`sequence component '${c}' is not a valid action name`);
    return ref;
  });
  if (refs.length > limit) throw badRequest(M.sequenceIsTooLong);
  const selfPath = qualifiedPath(self);
  let atomic = 0;

  /** Counts atomic actions under `components`; `visiting` holds the sequences on the current path. */
  const walk = async (components: EntityRef[], visiting: Set<string>): Promise<void> => {
    for (const ref of components) {
      if (qualifiedPath(ref) === selfPath) throw badRequest(M.sequenceIsCyclic);
      let resolved;
      try {
        resolved = await resolveAction(entities, caller, ref);
      } catch (err) {
        if (err instanceof WhirlError && err.status === 403) throw err;
        throw badRequest(M.sequenceComponentNotFound);
      }
      const real = `${resolved.path}/${resolved.doc.name}`;
      if (real === selfPath || visiting.has(real)) throw badRequest(M.sequenceIsCyclic);
      if (isSequence(resolved.doc.exec)) {
        const inner = resolved.doc.exec.components.map((c) => refFromString(c, caller.namespace));
        if (inner.some((r) => r === undefined)) throw badRequest(M.sequenceComponentNotFound);
        await walk(inner as EntityRef[], new Set([...visiting, real]));
      } else {
        atomic++;
      }
      if (atomic > limit) throw badRequest(M.sequenceIsTooLong);
    }
  };
  await walk(refs, new Set());
  return { kind: 'sequence', components: refs.map(fullyQualified) };
}
