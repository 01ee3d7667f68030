/**
 * Packages and bindings: list, get, create/update, delete (spec §1.3, §1.6.2, §1.8, §6.3). A binding is a
 * package whose `binding` names another (non-binding) package; its parameters sit above the bound
 * package's. Public (`publish: true`) packages are readable by everyone; bindings and private packages
 * only by their owner. Packages answer GET, PUT and DELETE; any other method is 405.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActionDoc, KeyValue, PackageDoc } from '../../core/entities.js';
import { getAnnotation, isTruthy } from '../../core/entities.js';
import { Messages, WhirlError, badRequest, forbidden, notFound } from '../../core/errors.js';
import { checkName } from '../../core/names.js';
import type { StoredEntity } from '../../store/store.js';
import { authenticate, type ControllerDeps } from '../http.js';
import type { Caller } from '../identities.js';
import { flag, listParams, type Query } from '../params.js';
import { parseCollectionPath } from '../paths.js';
import { listAll } from '../references.js';
import { resolvePackage } from '../resolve.js';
import { checkSize, isObject, keyValues, malformed, objectBody } from '../validate.js';
import { versionAndPublish, writeEntity } from './common.js';

export const PackageMessages = {
  reservedName: (name: string) => `Package name '${name}' is reserved.`,
  bindingDoesNotExist: 'Binding references a package that does not exist.',
  packageCannotBecomeBinding: 'Resource is a package and cannot be converted into a binding.',
  bindingCannotReferenceBinding: 'Cannot bind to another package binding.',
  bindingNotAPackage: 'Cannot bind to a resource that is not a package.',
  notEmpty: (n: number) =>
    `Package not empty (contains ${n} ${n === 1 ? 'entity' : 'entities'}). Set force param or delete package contents.`,
} as const;

const RESERVED_NAMES = new Set(['default']);
const SUPPORTED_METHODS = 'GET, PUT, DELETE';

type Binding = { namespace: string; name: string };

const isBinding = (doc: PackageDoc): doc is PackageDoc & { binding: Binding } => 'namespace' in doc.binding;

/** List summaries: no parameters; `binding` is false or the bound package (spec §1.6.2). */
function packageSummary(doc: PackageDoc): Record<string, unknown> {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    binding: isBinding(doc) ? doc.binding : false,
    updated: doc.updated,
  };
}

export function packageRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);

  const collection = async (req: FastifyRequest<{ Querystring: Query }>) => {
    const { namespace } = parseCollectionPath(req.url, 'packages', req.caller.namespace);
    const { limit, skip, count } = listParams(req.query, 'packages');
    if (namespace === req.caller.namespace) {
      if (count) return { packages: await deps.entities.count(namespace, 'package') };
      const docs = (await deps.entities.list(namespace, 'package', { limit, skip })) as PackageDoc[];
      return docs.map(packageSummary);
    }
    // Another namespace: only its public packages, never its bindings (spec §1.8).
    const visible = ((await listAll(deps.entities, namespace, 'package')) as PackageDoc[]).filter(
      (p) => p.publish && !isBinding(p),
    );
    if (count) return { packages: visible.length };
    return visible.slice(skip, skip + limit).map(packageSummary);
  };
  app.get<{ Querystring: Query }>('/api/v1/namespaces/:ns/packages', { preHandler: auth }, collection);

  app.route<{ Querystring: Query; Body: unknown }>({
    method: ['GET', 'PUT', 'DELETE', 'POST', 'PATCH'],
    url: '/api/v1/namespaces/:ns/packages/*',
    preHandler: auth,
    handler: async (req, reply) => {
      const path = parseCollectionPath(req.url, 'packages', req.caller.namespace);
      if (path.rest.length === 0) {
        if (req.method === 'GET') return collection(req);
        throw methodNotAllowed();
      }
      if (path.rest.length !== 1) throw notFound();
      const name = checkName(path.rest[0]!);
      switch (req.method) {
        case 'GET':
          return getPackage(deps, req.caller, path.namespace, name);
        case 'PUT':
          return putPackage(deps, req, reply, path.namespace, name);
        case 'DELETE':
          return deletePackage(deps, req, path.namespace, name);
        default:
          throw methodNotAllowed();
      }
    },
  });
}

const methodNotAllowed = () => new WhirlError(405, `${Messages.methodNotAllowed}${SUPPORTED_METHODS}`);

/** The package as GET shows it: with its actions and feeds; a binding shows the bound package's. */
async function getPackage(deps: ControllerDeps, caller: Caller, namespace: string, name: string) {
  const pkg = await resolvePackage(deps.entities, caller, namespace, name);
  const members = (await listAll(
    deps.entities,
    pkg.target.namespace,
    'action',
    pkg.target.name,
  )) as ActionDoc[];
  const brief = (a: ActionDoc) => ({ name: a.name, version: a.version, annotations: a.annotations });
  const isFeed = (a: ActionDoc) => isTruthy(getAnnotation(a.annotations, 'feed'));
  return {
    ...pkg.entity.doc,
    parameters: pkg.params,
    actions: members.filter((a) => !isFeed(a)).map(brief),
    feeds: members.filter(isFeed).map(brief),
  };
}

/** The binding a PUT names, checked: an existing, readable, non-binding package. */
async function checkBindingTarget(deps: ControllerDeps, caller: Caller, value: unknown): Promise<Binding> {
  if (!isObject(value) || typeof value.namespace !== 'string' || typeof value.name !== 'string') {
    throw malformed('binding must be an object with "namespace" and "name"');
  }
  const namespace = value.namespace === '_' ? caller.namespace : checkName(value.namespace);
  const name = checkName(value.name);
  const found = await deps.entities.get(namespace, name);
  const owner = namespace === caller.namespace;
  const what = `${namespace}/${name}`;
  // Another namespace's package: private, missing and binding all look the same (no existence leak).
  if (!owner && (found?.type !== 'package' || !(found.doc as PackageDoc).publish)) throw forbidden(what);
  if (found === undefined) throw badRequest(PackageMessages.bindingDoesNotExist);
  if (found.type !== 'package') throw new WhirlError(409, PackageMessages.bindingNotAPackage);
  if (isBinding(found.doc as PackageDoc)) {
    if (!owner) throw forbidden(what);
    throw badRequest(PackageMessages.bindingCannotReferenceBinding);
  }
  return { namespace, name };
}

async function putPackage(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query; Body: unknown }>,
  reply: FastifyReply,
  namespace: string,
  name: string,
) {
  if (namespace !== req.caller.namespace) throw forbidden(`${namespace}/${name}`);
  if (RESERVED_NAMES.has(name)) throw badRequest(PackageMessages.reservedName(name));
  const body = objectBody(req.body);
  const existing = await deps.entities.get(namespace, name);
  if (existing !== undefined && existing.type !== 'package')
    throw new WhirlError(409, Messages.wrongCollection);
  if (existing !== undefined && !flag(req.query, 'overwrite'))
    throw new WhirlError(409, Messages.alreadyExists);
  const previous = (existing as StoredEntity<PackageDoc> | undefined)?.doc;

  // `binding: {}` (what some clients send for a plain package) means no binding.
  const wantsBinding =
    body.binding !== undefined &&
    body.binding !== null &&
    !(isObject(body.binding) && Object.keys(body.binding).length === 0);
  if (wantsBinding && previous !== undefined && !isBinding(previous))
    throw new WhirlError(409, PackageMessages.packageCannotBecomeBinding);
  let binding: Binding | undefined;
  if (wantsBinding) binding = await checkBindingTarget(deps, req.caller, body.binding);
  else if (previous !== undefined && isBinding(previous)) binding = previous.binding;

  const parameters =
    body.parameters === undefined ? (previous?.parameters ?? []) : keyValues(body.parameters, 'parameters');
  // Annotations are replaced on update (packages, unlike actions); the `binding` annotation is always the
  // controller's own, for clients that see bindings only through list summaries.
  let annotations: KeyValue[] =
    body.annotations === undefined
      ? (previous?.annotations ?? [])
      : keyValues(body.annotations, 'annotations');
  annotations = annotations.filter((a) => a.key !== 'binding');
  if (binding !== undefined) annotations.push({ key: 'binding', value: binding });
  checkSize('parameters', parameters, deps.system.parameterSize);
  checkSize('annotations', annotations, deps.system.parameterSize);

  const doc: PackageDoc = {
    namespace,
    name,
    ...versionAndPublish(body, previous),
    annotations,
    parameters,
    binding: binding ?? {},
    updated: Date.now(),
  };
  await writeEntity(deps, namespace, name, 'package', doc, existing?.rev);
  return reply.code(200).send(doc);
}

async function deletePackage(
  deps: ControllerDeps,
  req: FastifyRequest<{ Querystring: Query }>,
  namespace: string,
  name: string,
) {
  if (namespace !== req.caller.namespace) throw forbidden(`${namespace}/${name}`);
  const existing = await deps.entities.get(namespace, name);
  if (existing === undefined) throw notFound();
  if (existing.type !== 'package') throw new WhirlError(409, Messages.wrongCollection);
  const doc = existing.doc as PackageDoc;
  if (!isBinding(doc)) {
    const members = await deps.entities.count(namespace, 'action', name);
    if (members > 0) {
      if (!flag(req.query, 'force')) throw new WhirlError(409, PackageMessages.notEmpty(members));
      for (const a of await listAll(deps.entities, namespace, 'action', name))
        await deps.entities.delete(namespace, `${name}/${a.name}`);
    }
  }
  if (!(await deps.entities.delete(namespace, name, existing.rev)))
    throw new WhirlError(409, Messages.conflict);
  return doc;
}
