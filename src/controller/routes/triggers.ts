/**
 * Triggers: list, get, create/update, delete and fire (spec §1.3, §1.6.3, §5.1). Triggers belong to
 * their namespace only. GET shows the `rules` map (rule → action and status). Firing is triggers/fire.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyValue, TriggerDoc } from '../../core/entities.js';
import { getAnnotation } from '../../core/entities.js';
import { Messages, WhirlError, badRequest, forbidden, notFound } from '../../core/errors.js';
import { checkName } from '../../core/names.js';
import { fireTrigger, headersForActions } from '../triggers/fire.js';
import { authenticate, type ControllerDeps } from '../http.js';
import { flag, type Query } from '../params.js';
import { parseCollectionPath } from '../paths.js';
import { refFromString } from '../references.js';
import { checkSize, isObject, keyValues, malformed, objectBody } from '../validate.js';
import { ownCollection, versionAndPublish, writeEntity } from './common.js';

export const TriggerMessages = {
  feedNotValid: 'Feed name is not valid',
} as const;

function triggerSummary(doc: TriggerDoc): Record<string, unknown> {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    updated: doc.updated,
  };
}

export function triggerRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);

  const collection = ownCollection(deps, 'triggers', 'trigger', triggerSummary);
  app.get<{ Querystring: Query }>('/api/v1/namespaces/:ns/triggers', { preHandler: auth }, collection);

  const entity = (req: FastifyRequest) => {
    const path = parseCollectionPath(req.url, 'triggers', req.caller.namespace);
    if (path.rest.length !== 1) throw notFound();
    const name = checkName(path.rest[0]!);
    if (path.namespace !== req.caller.namespace) throw forbidden(`${path.namespace}/${name}`);
    return { namespace: path.namespace, name };
  };

  app.route<{ Querystring: Query; Body: unknown }>({
    method: ['GET', 'PUT', 'DELETE'],
    url: '/api/v1/namespaces/:ns/triggers/*',
    preHandler: auth,
    handler: async (req, reply) => {
      const path = parseCollectionPath(req.url, 'triggers', req.caller.namespace);
      if (path.rest.length === 0 && req.method === 'GET') return collection(req);
      const { namespace, name } = entity(req);
      if (req.method === 'GET') return getTrigger(deps, namespace, name);
      if (req.method === 'PUT') return putTrigger(deps, req, reply, namespace, name);
      return deleteTrigger(deps, namespace, name);
    },
  });

  app.post<{ Querystring: Query; Body: unknown }>(
    '/api/v1/namespaces/:ns/triggers/*',
    { preHandler: auth, bodyLimit: deps.system.payloadSize },
    async (req, reply) => {
      const { name } = entity(req);
      if (req.body !== undefined && !isObject(req.body))
        throw malformed('the fire payload must be a JSON object');
      const fired = await fireTrigger(
        {
          entities: deps.entities,
          throttles: deps.throttles,
          invocations: deps.invocations,
          compositions: deps.compositions,
          activationWriter: deps.activationWriter,
        },
        {
          caller: req.caller,
          name,
          payload: req.body ?? {},
          headers: headersForActions(req.headers),
          transactionId: req.id,
        },
      );
      if (fired === undefined) return reply.code(204).send();
      void reply.header('x-openwhisk-activation-id', fired.activationId);
      return reply.code(202).send({ activationId: fired.activationId });
    },
  );
}

async function getTrigger(deps: ControllerDeps, namespace: string, name: string): Promise<TriggerDoc> {
  const found = await deps.entities.get(namespace, name);
  if (found === undefined) throw notFound();
  if (found.type !== 'trigger') throw new WhirlError(409, Messages.wrongCollection);
  return found.doc as TriggerDoc;
}

/** A `feed` annotation must name an action (`/ns/pkg/feed`, `ns/feed`, `feed`, ...). */
function checkFeed(annotations: readonly KeyValue[], callerNamespace: string): void {
  const feed = getAnnotation(annotations, 'feed');
  if (feed === undefined) return;
  if (typeof feed !== 'string' || refFromString(feed, callerNamespace) === undefined)
    throw badRequest(TriggerMessages.feedNotValid);
}

async function putTrigger(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query; Body: unknown }>,
  reply: FastifyReply,
  namespace: string,
  name: string,
) {
  const body = objectBody(req.body);
  const existing = await deps.entities.get(namespace, name);
  if (existing !== undefined && existing.type !== 'trigger')
    throw new WhirlError(409, Messages.wrongCollection);
  if (existing !== undefined && !flag(req.query, 'overwrite'))
    throw new WhirlError(409, Messages.alreadyExists);
  const previous = existing?.doc as TriggerDoc | undefined;

  // Given parameters and annotations replace the old ones; omitted ones are kept (OpenWhisk's merge).
  const parameters =
    body.parameters === undefined ? (previous?.parameters ?? []) : keyValues(body.parameters, 'parameters');
  const annotations =
    body.annotations === undefined
      ? (previous?.annotations ?? [])
      : keyValues(body.annotations, 'annotations');
  checkFeed(annotations, req.caller.namespace);
  checkSize('parameters', parameters, deps.system.parameterSize);
  checkSize('annotations', annotations, deps.system.parameterSize);
  if (body.limits !== undefined && body.limits !== null && !isObject(body.limits))
    throw malformed('limits must be an object');

  const doc: TriggerDoc = {
    namespace,
    name,
    ...versionAndPublish(body, previous),
    annotations,
    parameters,
    limits: {},
    updated: Date.now(),
    ...(previous?.rules === undefined ? {} : { rules: previous.rules }),
  };
  await writeEntity(deps, namespace, name, 'trigger', doc, existing?.rev);
  return reply.code(200).send(doc);
}

async function deleteTrigger(deps: ControllerDeps, namespace: string, name: string): Promise<TriggerDoc> {
  const existing = await deps.entities.get(namespace, name);
  if (existing === undefined) throw notFound();
  if (existing.type !== 'trigger') throw new WhirlError(409, Messages.wrongCollection);
  if (!(await deps.entities.delete(namespace, name, existing.rev)))
    throw new WhirlError(409, Messages.conflict);
  // Rules of the trigger stay (they become inactive and can still be deleted); feeds stop firing it.
  for (const l of deps.triggerListeners ?? []) {
    // A listener's trouble is its own: the trigger is gone either way (providers also notice on their own).
    try {
      await l.triggerDeleted(namespace, name);
    } catch {
      /* ignored */
    }
  }
  return existing.doc as TriggerDoc;
}
