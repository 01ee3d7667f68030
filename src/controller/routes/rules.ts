/**
 * Rules: list, get, create/update, enable/disable (POST status) and delete (spec §1.3, §1.6.4, §5.2).
 * A rule links a trigger of the caller's namespace to an action the caller may read. Its status is not
 * stored on the rule but on the trigger (triggers/links.ts); GET computes it, lists leave it out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RuleDoc } from '../../core/entities.js';
import { Messages, WhirlError, badRequest, forbidden, notFound } from '../../core/errors.js';
import { checkName, fullyQualified, type EntityRef } from '../../core/names.js';
import {
  deleteRule,
  getTrigger,
  ruleKey,
  statusOn,
  updateLinks,
  type RuleStatus,
} from '../triggers/links.js';
import { authenticate, type ControllerDeps } from '../http.js';
import type { Caller } from '../identities.js';
import { flag, type Query } from '../params.js';
import { parseCollectionPath } from '../paths.js';
import { pathForm, refFromValue } from '../references.js';
import { resolveAction } from '../resolve.js';
import { checkSize, keyValues, malformed, objectBody } from '../validate.js';
import { ownCollection, versionAndPublish, writeEntity } from './common.js';

export const RuleMessages = {
  requiresTriggerAndAction: 'rule requires a valid trigger and a valid action',
  triggerDoesNotExist: (fqn: string) => `trigger ${fqn} does not exist`,
  actionDoesNotExist: (fqn: string) => `action ${fqn} does not exist`,
  onlyWithTriggers: 'Only rules with existing triggers can be activated',
  badState: (s: string) => `'${s}' is not a recognized rule state, must be one of ['active', 'inactive']`,
} as const;

const withStatus = (rule: RuleDoc, status: RuleStatus) => ({ ...rule, status });

export function ruleRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);

  // Lists carry no status (computing it would read every trigger), as in OpenWhisk.
  const collection = ownCollection(deps, 'rules', 'rule', (doc) => doc);
  app.get<{ Querystring: Query }>('/api/v1/namespaces/:ns/rules', { preHandler: auth }, collection);

  app.route<{ Querystring: Query; Body: unknown }>({
    method: ['GET', 'PUT', 'DELETE', 'POST'],
    url: '/api/v1/namespaces/:ns/rules/*',
    preHandler: auth,
    handler: async (req, reply) => {
      const path = parseCollectionPath(req.url, 'rules', req.caller.namespace);
      if (path.rest.length === 0 && req.method === 'GET') return collection(req);
      if (path.rest.length !== 1) throw notFound();
      const name = checkName(path.rest[0]!);
      if (path.namespace !== req.caller.namespace) throw forbidden(`${path.namespace}/${name}`);
      switch (req.method) {
        case 'GET':
          return getRule(deps, path.namespace, name);
        case 'PUT':
          return putRule(deps, req, reply, path.namespace, name);
        case 'POST':
          return setStatus(deps, req, path.namespace, name);
        default:
          return removeRule(deps, path.namespace, name);
      }
    },
  });
}

async function readRule(deps: ControllerDeps, namespace: string, name: string): Promise<RuleDoc> {
  const found = await deps.entities.get(namespace, name);
  if (found === undefined) throw notFound();
  if (found.type !== 'rule') throw new WhirlError(409, Messages.wrongCollection);
  return found.doc as RuleDoc;
}

async function getRule(deps: ControllerDeps, namespace: string, name: string) {
  const rule = await readRule(deps, namespace, name);
  const trigger = await getTrigger(deps.entities, rule.trigger.path, rule.trigger.name);
  return withStatus(rule, statusOn(trigger?.doc, ruleKey(namespace, name)));
}

/**
 * The trigger and action a rule names must exist; the caller must own the trigger and may read the action
 * (a 403 says so before existence is checked, so that nothing leaks about other namespaces).
 */
async function checkReferences(deps: ControllerDeps, caller: Caller, trigger: EntityRef, action: EntityRef) {
  if (trigger.namespace !== caller.namespace) throw forbidden(`${trigger.namespace}/${trigger.name}`);
  let actionMissing = false;
  try {
    await resolveAction(deps.entities, caller, action);
  } catch (err) {
    if (err instanceof WhirlError && err.status === 403) throw err;
    actionMissing = true;
  }
  const t =
    trigger.pkg === undefined ? await getTrigger(deps.entities, trigger.namespace, trigger.name) : undefined;
  if (t === undefined) throw badRequest(RuleMessages.triggerDoesNotExist(fullyQualified(trigger)));
  if (actionMissing) throw badRequest(RuleMessages.actionDoesNotExist(fullyQualified(action)));
}

function readRef(value: unknown, caller: Caller, what: string): EntityRef | undefined {
  if (value === undefined || value === null) return undefined;
  const ref = refFromValue(value, caller.namespace);
  if (ref === undefined) throw malformed(`${what} must be a fully qualified name such as "/_/name"`);
  return ref;
}

async function putRule(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query; Body: unknown }>,
  reply: FastifyReply,
  namespace: string,
  name: string,
) {
  const body = objectBody(req.body);
  const existing = await deps.entities.get(namespace, name);
  if (existing !== undefined && existing.type !== 'rule') throw new WhirlError(409, Messages.wrongCollection);
  if (existing !== undefined && !flag(req.query, 'overwrite'))
    throw new WhirlError(409, Messages.alreadyExists);
  const previous = existing?.doc as RuleDoc | undefined;

  const toRef = (p: { path: string; name: string }): EntityRef =>
    readRef(p, req.caller, 'the reference') ?? { namespace, name: p.name };
  const trigger = readRef(body.trigger, req.caller, 'trigger') ?? (previous && toRef(previous.trigger));
  const action = readRef(body.action, req.caller, 'action') ?? (previous && toRef(previous.action));
  if (trigger === undefined || action === undefined) throw badRequest(RuleMessages.requiresTriggerAndAction);
  await checkReferences(deps, req.caller, trigger, action);

  const annotations =
    body.annotations === undefined
      ? (previous?.annotations ?? [])
      : keyValues(body.annotations, 'annotations');
  checkSize('annotations', annotations, deps.system.parameterSize);

  const key = ruleKey(namespace, name);
  const doc: RuleDoc = {
    namespace,
    name,
    ...versionAndPublish(body, previous),
    annotations,
    updated: Date.now(),
    trigger: pathForm(trigger),
    action: pathForm(action),
  };

  // An update keeps the rule's status, wherever its trigger moves; a new rule starts active.
  let status: RuleStatus = 'active';
  if (previous !== undefined) {
    const old = await getTrigger(deps.entities, previous.trigger.path, previous.trigger.name);
    status = statusOn(old?.doc, key);
    const moved = previous.trigger.path !== doc.trigger.path || previous.trigger.name !== doc.trigger.name;
    if (moved) {
      await updateLinks(deps.entities, previous.trigger.path, previous.trigger.name, (rules) => {
        delete rules[key];
      });
    }
  }
  const link = { action: { name: doc.action.name, path: doc.action.path }, status };
  const linked = await updateLinks(deps.entities, doc.trigger.path, doc.trigger.name, (rules) => {
    rules[key] = link;
  });
  if (!linked) throw badRequest(RuleMessages.triggerDoesNotExist(fullyQualified(trigger)));
  try {
    await writeEntity(deps, namespace, name, 'rule', doc, existing?.rev);
  } catch (err) {
    if (previous === undefined) {
      // The rule was not written: take its link back off the trigger.
      await updateLinks(deps.entities, doc.trigger.path, doc.trigger.name, (rules) => {
        delete rules[key];
      });
    }
    throw err;
  }
  return reply.code(200).send(withStatus(doc, status));
}

/** `POST {status: active|inactive}`: a change of the link on the trigger; the same state is a no-op. */
async function setStatus(
  deps: ControllerDeps,
  req: FastifyRequest<{ Body: unknown }>,
  namespace: string,
  name: string,
) {
  const body = objectBody(req.body);
  const requested = body.status;
  if (requested !== 'active' && requested !== 'inactive') {
    throw malformed(
      typeof requested === 'string'
        ? RuleMessages.badState(requested)
        : 'the body must be {"status": "active"} or {"status": "inactive"}',
    );
  }
  const rule = await readRule(deps, namespace, name);
  const key = ruleKey(namespace, name);
  const trigger = await getTrigger(deps.entities, rule.trigger.path, rule.trigger.name);
  if (statusOn(trigger?.doc, key) === requested) return withStatus(rule, requested);
  const status: RuleStatus = requested;
  const link = { action: { name: rule.action.name, path: rule.action.path }, status };
  const changed = await updateLinks(deps.entities, rule.trigger.path, rule.trigger.name, (rules) => {
    rules[key] = link;
  });
  if (!changed) throw new WhirlError(404, RuleMessages.onlyWithTriggers);
  return withStatus(rule, requested);
}

/** Deletes the rule whatever became of its trigger or action; the answer shows it inactive. */
async function removeRule(deps: ControllerDeps, namespace: string, name: string) {
  const rule = await readRule(deps, namespace, name);
  if (!(await deleteRule(deps.entities, namespace, name))) throw notFound();
  return withStatus(rule, 'inactive');
}
