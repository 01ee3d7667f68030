/**
 * Firing a trigger (spec §5.1, §1.6.6): each active rule's action is started non-blocking under the
 * firing caller's identity, entitlement and throttles, with the trigger's parameters under the fire
 * payload; the trigger activation (result = payload, one log line per rule, no end or duration) is
 * written once every rule has been handled. Without an active rule nothing runs and nothing is recorded.
 * The REST route and feed providers (alarms) both fire through here.
 */
import { StatusCode, activationRecord, newActivationId } from '../../core/activation.js';
import type { TriggerDoc } from '../../core/entities.js';
import { toObject } from '../../core/entities.js';
import { Messages, WhirlError, notFound } from '../../core/errors.js';
import type { CompositionSupport } from '../start-activation.js';
import { startActivation } from '../start-activation.js';
import type { Entities } from '../entities.js';
import type { Caller } from '../identities.js';
import type { Invocations } from '../invocations.js';
import { pathFormString, refFromPath } from '../references.js';
import { resolveAction } from '../resolve.js';
import type { Throttles } from '../throttles.js';
import type { ActivationWriter } from '../../store/activation-writer.js';
import type { RuleLink } from './links.js';

/** Told when a trigger is deleted (feed providers stop firing it). */
export interface TriggerListener {
  triggerDeleted(namespace: string, name: string): void | Promise<void>;
}

export interface FireDeps {
  entities: Entities;
  throttles: Throttles;
  invocations: Invocations;
  compositions?: CompositionSupport | undefined;
  activationWriter?: ActivationWriter | undefined;
}

export interface FireRequest {
  caller: Caller;
  /** The trigger, in the caller's namespace. */
  name: string;
  payload: Record<string, unknown>;
  /** Request headers, lower-cased, given to rule actions as `__ow_headers`. */
  headers: Record<string, string>;
  transactionId: string;
}

/** One line of a trigger activation's logs. */
export interface RuleResult {
  statusCode: number;
  success: boolean;
  activationId?: string;
  error?: string;
  rule: string;
  action: string;
}

export const inactiveRule = (rule: string, action: string): string =>
  `Rule '${rule}' is inactive, action '${action}' was not activated.`;

/** Headers a rule action never sees: the firing caller's credentials. */
const PRIVATE_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Request headers as `__ow_headers`: lower-cased names, repeated values joined, credentials left out. */
export function headersForActions(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const name = k.toLowerCase();
    if (v === undefined || PRIVATE_HEADERS.has(name)) continue;
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * Fires the trigger. Resolves with the trigger activation id, or undefined when no rule is active (204).
 * Throws the 429 of the fire throttle, 404 for a missing trigger, 409 for a name of another collection.
 */
export async function fireTrigger(
  deps: FireDeps,
  r: FireRequest,
): Promise<{ activationId: string } | undefined> {
  const { caller } = r;
  await deps.throttles.checkFire(caller);
  const found = await deps.entities.get(caller.namespace, r.name);
  if (found === undefined) throw notFound();
  if (found.type !== 'trigger') throw new WhirlError(409, Messages.wrongCollection);
  const trigger = found.doc as TriggerDoc;
  const links = Object.entries(trigger.rules ?? {});
  if (!links.some(([, link]) => link.status === 'active')) return undefined;

  const activationId = newActivationId();
  const start = Date.now();
  const args = { ...toObject(trigger.parameters), __ow_headers: r.headers, ...r.payload };
  const results = await Promise.all(links.map(([rule, link]) => activateRule(deps, r, rule, link, args)));
  const record = activationRecord({
    namespace: caller.namespace,
    subject: caller.subject,
    name: trigger.name,
    version: trigger.version,
    activationId,
    start,
    response: { statusCode: StatusCode.Success, result: r.payload },
    logs: results.map((x) => JSON.stringify(x)),
  });
  if (caller.limits.storeActivations) deps.activationWriter?.add(record);
  return { activationId };
}

async function activateRule(
  deps: FireDeps,
  r: FireRequest,
  rule: string,
  link: RuleLink,
  args: Record<string, unknown>,
): Promise<RuleResult> {
  const action = pathFormString(link.action);
  if (link.status !== 'active') {
    return {
      statusCode: StatusCode.ApplicationError,
      success: false,
      error: inactiveRule(rule, action),
      rule,
      action,
    };
  }
  try {
    const ref = refFromPath(link.action.path, link.action.name, r.caller.namespace);
    if (ref === undefined) throw notFound();
    const resolved = await resolveAction(deps.entities, r.caller, ref);
    const started = await startActivation(deps, {
      caller: r.caller,
      action: resolved,
      payload: args,
      options: { waitMs: 0, transactionId: r.transactionId },
    });
    return {
      statusCode: StatusCode.Success,
      success: true,
      activationId: started.activationId,
      rule,
      action,
    };
  } catch (err) {
    // As if the rule's action had been invoked over HTTP: server errors are whisk errors, the rest the
    // caller's (a deleted action, a throttle, a forbidden package).
    const status = err instanceof WhirlError ? err.status : 500;
    return {
      statusCode: status >= 500 ? StatusCode.WhiskError : StatusCode.ApplicationError,
      success: false,
      error: err instanceof WhirlError ? err.message : Messages.internal,
      rule,
      action,
    };
  }
}
