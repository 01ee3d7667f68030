/**
 * Actions: list, get, create/update, delete and invoke (spec §1.1, §1.3, §1.4, §1.6.1).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActivationRecord } from '../../core/activation.js';
import { StatusCode, toExtendedJson } from '../../core/activation.js';
import type { ActionDoc, Exec, KeyValue, PackageDoc } from '../../core/entities.js';
import { getAnnotation, isSequence, setAnnotation } from '../../core/entities.js';
import { Messages, WhirlError, badRequest, forbidden, notFound } from '../../core/errors.js';
import { entityPath, qualifiedPath, type EntityRef } from '../../core/names.js';
import { resolveKind } from '../../core/runtimes.js';
import { authenticate, type ControllerDeps } from '../http.js';
import { flag, listParams, stringParam, type Query } from '../params.js';
import { entityRef, parseCollectionPath } from '../paths.js';
import { resolveAction, resolvePackage } from '../resolve.js';
import { startActivation } from '../start-activation.js';
import {
  actionLimits,
  checkKindAllowed,
  checkSize,
  isObject,
  keyValues,
  malformed,
  objectBody,
  readExec,
} from '../validate.js';
import { ownCollection, versionAndPublish, writeEntity } from './common.js';

/** List summaries: no code, no parameters (spec §1.6.1). */
export function actionSummary(doc: ActionDoc): Record<string, unknown> {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    updated: doc.updated,
    limits: doc.limits,
    exec: { binary: 'binary' in doc.exec ? doc.exec.binary : false },
  };
}

function withoutCode(doc: ActionDoc): ActionDoc {
  if (!('code' in doc.exec)) return doc;
  const { code: _code, ...exec } = doc.exec;
  return { ...doc, exec: exec as Exec };
}

/** HTTP status of a completed blocking invoke: 502 for application and developer errors (OpenWhisk's choice). */
export function statusOf(record: ActivationRecord): number {
  switch (record.response.statusCode) {
    case StatusCode.Success:
      return 200;
    case StatusCode.WhiskError:
      return 500;
    default:
      return 502;
  }
}

export function actionRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);
  const collection = ownCollection(deps, 'actions', 'action', actionSummary);
  app.get<{ Querystring: Query }>('/api/v1/namespaces/:ns/actions', { preHandler: auth }, collection);

  app.route<{ Querystring: Query; Body: unknown }>({
    method: ['GET', 'PUT', 'DELETE'],
    url: '/api/v1/namespaces/:ns/actions/*',
    preHandler: auth,
    handler: async (req, reply) => {
      const path = parseCollectionPath(req.url, 'actions', req.caller.namespace);
      if (path.rest.length === 0) return collection(req);
      if (req.method === 'GET' && path.trailingSlash && path.rest.length === 1) {
        return listPackageActions(deps, req, path.namespace, path.rest[0]!);
      }
      const ref = entityRef(path.namespace, path.rest, true);
      if (req.method === 'GET') return getAction(deps, req, ref);
      if (req.method === 'PUT') return putAction(deps, req, reply, ref);
      return deleteAction(deps, req, ref);
    },
  });

  app.post<{ Querystring: Query; Body: unknown }>(
    '/api/v1/namespaces/:ns/actions/*',
    { preHandler: auth, bodyLimit: deps.system.payloadSize },
    async (req, reply) => {
      const path = parseCollectionPath(req.url, 'actions', req.caller.namespace);
      const ref = entityRef(path.namespace, path.rest, true);
      return invokeAction(deps, req, reply, ref);
    },
  );
}

async function listPackageActions(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query }>,
  namespace: string,
  pkgName: string,
): Promise<unknown> {
  const pkg = await resolvePackage(deps.entities, req.caller, namespace, pkgName);
  const { limit, skip, count } = listParams(req.query, 'actions');
  const { namespace: ns, name } = pkg.target;
  if (count) return { actions: await deps.entities.count(ns, 'action', name) };
  const docs = (await deps.entities.list(ns, 'action', { limit, skip, pkg: name })) as ActionDoc[];
  return docs.map(actionSummary);
}

async function getAction(deps: ControllerDeps, req: FastifyRequest<{ Querystring: Query }>, ref: EntityRef) {
  const resolved = await resolveAction(deps.entities, req.caller, ref);
  // Reached through a package or binding, the action shows the parameters it would run with.
  const doc: ActionDoc = { ...resolved.doc, parameters: resolved.params };
  return flag(req.query, 'code', true) ? doc : withoutCode(doc);
}

/** The package an action is written into must be the caller's own, existing, and not a binding. */
async function checkWritablePackage(
  deps: ControllerDeps,
  req: FastifyRequest,
  ref: EntityRef,
): Promise<void> {
  if (ref.namespace !== req.caller.namespace) throw forbidden(qualifiedPath(ref));
  if (ref.pkg === undefined) return;
  const pkg = await deps.entities.get(ref.namespace, ref.pkg);
  if (pkg === undefined) throw new WhirlError(404, Messages.notFoundNamed(`${ref.namespace}/${ref.pkg}`));
  if (pkg.type !== 'package') throw new WhirlError(409, Messages.wrongCollection);
  if ('namespace' in (pkg.doc as PackageDoc).binding)
    throw badRequest('Operation not permitted on package binding.');
}

async function putAction(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query; Body: unknown }>,
  reply: FastifyReply,
  ref: EntityRef,
) {
  await checkWritablePackage(deps, req, ref);
  const body = objectBody(req.body);
  const path = entityPath(ref);
  const existing = await deps.entities.get(ref.namespace, path);
  if (existing !== undefined && existing.type !== 'action')
    throw new WhirlError(409, Messages.wrongCollection);
  const overwrite = flag(req.query, 'overwrite');
  if (existing !== undefined && !overwrite) throw new WhirlError(409, Messages.alreadyExists);
  const previous = existing?.doc as ActionDoc | undefined;
  if (previous === undefined && body.exec === undefined) throw badRequest(Messages.execUndefined);

  const limits = req.caller.limits;
  let exec = body.exec === undefined ? previous!.exec : readExec(body.exec, deps.system);
  checkKindAllowed(exec.kind, limits);
  if (isSequence(exec)) {
    if (deps.compositions === undefined) throw badRequest('Sequences are not supported by this controller.');
    exec = await deps.compositions.validate(req.caller, ref, exec);
  }
  const actionLimitsValue = actionLimits(body.limits, previous?.limits, limits);
  const runtime = resolveKind(exec.kind);
  if (actionLimitsValue.concurrency > 1 && (runtime === undefined || !runtime.concurrent)) {
    throw badRequest(
      Messages.malformed(
        `requirement failed: the '${exec.kind}' runtime serves one activation at a time (concurrency 1)`,
      ),
    );
  }

  let parameters = updatedParameters(body, previous);
  let annotations = updatedAnnotations(body, previous);
  annotations = setAnnotation(annotations, 'exec', exec.kind);
  if (isSequence(exec)) parameters = [{ key: '_actions', value: exec.components }];
  checkSize('parameters', parameters, deps.system.parameterSize);
  checkSize('annotations', annotations, deps.system.parameterSize);

  const doc: ActionDoc = {
    namespace: ref.pkg === undefined ? ref.namespace : `${ref.namespace}/${ref.pkg}`,
    name: ref.name,
    ...versionAndPublish(body, previous),
    exec,
    parameters,
    limits: actionLimitsValue,
    annotations,
    updated: Date.now(),
  };
  await writeEntity(deps, ref.namespace, path, 'action', doc, existing?.rev);
  return reply.code(200).send(doc);
}

/**
 * The parameters of a PUT, as OpenWhisk computes them: given ones replace the old ones; omitted ones are
 * kept, except that a sequence's `_actions` never leaks into the plain action it is turned into (and a
 * sequence updated without a new exec keeps its components, whatever parameters the request carries).
 */
function updatedParameters(body: Record<string, unknown>, previous: ActionDoc | undefined): KeyValue[] {
  const wasSequence = previous !== undefined && isSequence(previous.exec);
  if (body.exec === undefined && wasSequence) return previous.parameters;
  if (body.parameters !== undefined) return keyValues(body.parameters, 'parameters');
  return wasSequence ? [] : (previous?.parameters ?? []);
}

/**
 * The annotations of a PUT. A request that carries annotations replaces the whole array, as OpenWhisk does
 * (`content.annotations getOrElse action.annotations`): redeploy tools send the complete set, and only
 * replacing lets them take `web-export` or `require-whisk-auth` off again. `delAnnotations` removes keys.
 * New actions get `provide-api-key: false`; a replacement that omits it keeps the old value rather than
 * silently handing the namespace's key to the action (OpenWhisk drops it; see docs/differences.md).
 */
function updatedAnnotations(body: Record<string, unknown>, previous: ActionDoc | undefined): KeyValue[] {
  let annotations =
    body.annotations === undefined
      ? (previous?.annotations ?? [])
      : keyValues(body.annotations, 'annotations');
  if (body.delAnnotations !== undefined) {
    if (!Array.isArray(body.delAnnotations) || body.delAnnotations.some((k) => typeof k !== 'string')) {
      throw malformed('delAnnotations must be an array of annotation keys');
    }
    const drop = new Set(body.delAnnotations as string[]);
    annotations = annotations.filter((a) => !drop.has(a.key));
  }
  if (getAnnotation(annotations, 'provide-api-key') === undefined) {
    const kept = previous === undefined ? false : getAnnotation(previous.annotations, 'provide-api-key');
    if (kept !== undefined) annotations = setAnnotation(annotations, 'provide-api-key', kept);
  }
  return annotations;
}

async function deleteAction(deps: ControllerDeps, req: FastifyRequest, ref: EntityRef) {
  await checkWritablePackage(deps, req, ref);
  const path = entityPath(ref);
  const existing = await deps.entities.get(ref.namespace, path);
  if (existing === undefined) throw notFound();
  if (existing.type !== 'action') throw new WhirlError(409, Messages.wrongCollection);
  if (!(await deps.entities.delete(ref.namespace, path, existing.rev)))
    throw new WhirlError(409, Messages.conflict);
  return existing.doc;
}

async function invokeAction(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query; Body: unknown }>,
  reply: FastifyReply,
  ref: EntityRef,
) {
  const blocking = flag(req.query, 'blocking');
  const resultOnly = flag(req.query, 'result');
  const max = deps.system.maxBlockingWaitMs;
  let waitMs = max;
  const rawTimeout = stringParam(req.query, 'timeout');
  if (rawTimeout !== undefined) {
    const t = Number(rawTimeout);
    if (!/^\d+$/.test(rawTimeout) || t < 1 || t > max) throw badRequest(Messages.badTimeout(max));
    waitMs = t;
  }
  if (req.body !== undefined && !isObject(req.body))
    throw malformed('the invoke payload must be a JSON object');
  const payload = req.body ?? {};
  const action = await resolveAction(deps.entities, req.caller, ref);
  const started = await startActivation(deps, {
    caller: req.caller,
    action,
    payload,
    options: {
      waitMs: blocking || resultOnly ? waitMs : 0,
      transactionId: req.id,
      receivedAt: req.receivedAt,
    },
  });
  return sendStarted(reply, started.activationId, started.record, resultOnly);
}

/** 202 with the id when there is no record (yet); else the record or its result, status by outcome. */
export function sendStarted(
  reply: FastifyReply,
  activationId: string,
  record: ActivationRecord | undefined,
  resultOnly: boolean,
  extraAnnotations: KeyValue[] = [],
): FastifyReply {
  void reply.header('x-openwhisk-activation-id', activationId);
  if (record === undefined) return reply.code(202).send({ activationId });
  const result = record.response.result;
  if (resultOnly || Array.isArray(result)) return reply.code(statusOf(record)).send(result ?? {});
  const json = toExtendedJson(record);
  if (extraAnnotations.length > 0) json.annotations = [...record.annotations, ...extraAnnotations];
  return reply.code(statusOf(record)).send(json);
}
