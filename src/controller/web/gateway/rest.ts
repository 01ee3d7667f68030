/**
 * Whirl's REST resource for published APIs, next to the other collections of a namespace:
 *
 *   GET    /api/v1/namespaces/{ns}/apis                       list (limit, skip, count)
 *   POST   /api/v1/namespaces/{ns}/apis                       add one route {basePath, path, method, action, responseType?, name?}
 *   PUT    /api/v1/namespaces/{ns}/apis[?overwrite=true]      create (or replace) an API from an OpenAPI document, JSON or YAML
 *   GET    /api/v1/namespaces/{ns}/apis/{basePath|name}       the API as OpenAPI (`?format=yaml` for YAML)
 *   DELETE /api/v1/namespaces/{ns}/apis/{basePath|name}       the API, or `?path=/rel[&method=get]` some of its routes
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDoc, ApiRoute } from '../../../core/entities.js';
import { forbidden } from '../../../core/errors.js';
import { checkName, fullyQualified, NO_PACKAGE, parseQualifiedName } from '../../../core/names.js';
import { authenticate, type ControllerDeps } from '../../http.js';
import { flag, listParams, stringParam, type Query } from '../../params.js';
import { parseCollectionPath } from '../../paths.js';
import { isObject, malformed } from '../../validate.js';
import { BASE_SEGMENT, checkBasePath, checkMethod, checkResponseType, checkRoutePath } from './model.js';
import { exportOpenApi, importOpenApi, parseDocument, toYaml } from './openapi.js';
import { gatewayUrl } from './serve.js';
import { addRoute, deleteApi, findApi, getApi, putApi, refOf } from './service.js';

export const originOf = (req: FastifyRequest): string => `${req.protocol}://${req.host}`;

/** An API as listed: where it is served and what each route runs. */
export function apiSummary(api: ApiDoc, origin: string): Record<string, unknown> {
  const base = `${gatewayUrl(origin, api.namespace)}${api.basePath === '/' ? '' : api.basePath}`;
  return {
    namespace: api.namespace,
    name: api.name,
    basePath: api.basePath,
    version: api.version,
    updated: api.updated,
    url: base,
    routes: api.routes.map((r) => ({
      path: r.path,
      method: r.method,
      action: fullyQualified(refOf(r.action)),
      responseType: r.responseType,
      url: `${base}${r.path === '/' ? '' : r.path}`,
    })),
  };
}

/** The body as text; the routes of this module see raw bytes (YAML is not JSON). */
const bodyText = (req: FastifyRequest): string =>
  Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';

/** An action named as a string (`a`, `pkg/a`, `/ns/pkg/a`) or as `{namespace, package, name}`. */
export function routeAction(input: unknown, namespace: string): ApiRoute['action'] {
  let ref;
  if (typeof input === 'string') ref = parseQualifiedName(input, namespace);
  else if (isObject(input) && typeof input.name === 'string') {
    const ns = typeof input.namespace === 'string' && input.namespace !== '_' ? input.namespace : namespace;
    const pkg = typeof input.package === 'string' && input.package !== '' ? input.package : undefined;
    ref = { namespace: ns, ...(pkg === undefined ? {} : { pkg }), name: input.name };
  }
  if (ref === undefined)
    throw malformed('action must name an action: "name", "pkg/name" or "/namespace/pkg/name"');
  checkName(ref.namespace);
  checkName(ref.name);
  if (ref.pkg !== undefined) checkName(ref.pkg);
  // `default/a` is how web action URLs (and OpenWhisk's tools) say "a, in no package".
  return ref.pkg === undefined || ref.pkg === NO_PACKAGE
    ? { namespace: ref.namespace, name: ref.name }
    : { namespace: ref.namespace, package: ref.pkg, name: ref.name };
}

export function apiRestRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);
  const COLLECTION = '/api/v1/namespaces/:ns/apis';
  // An API is at most parameterSize as JSON; its YAML or pretty-printed source may be larger.
  const bodyLimit = 4 * deps.system.parameterSize;
  const ownNamespace = (req: FastifyRequest) => {
    const { namespace, rest } = parseCollectionPath(req.url, 'apis', req.caller.namespace);
    if (namespace !== req.caller.namespace) throw forbidden();
    return { namespace, rest };
  };

  app.get<{ Querystring: Query }>(COLLECTION, { preHandler: auth }, async (req, reply) => {
    const { namespace } = ownNamespace(req);
    const { limit, skip, count } = listParams(req.query, 'apis');
    if (count) return { apis: await deps.entities.count(namespace, 'api') };
    const docs = (await deps.entities.list(namespace, 'api', { limit, skip })) as ApiDoc[];
    return reply.send(docs.map((d) => apiSummary(d, originOf(req))));
  });

  app.post(COLLECTION, { preHandler: auth, bodyLimit }, async (req, reply) => {
    ownNamespace(req);
    const body = parseDocument(bodyText(req) || '{}');
    if (!isObject(body)) throw malformed('the body must be a JSON object');
    const route: ApiRoute = {
      path: checkRoutePath(body.path),
      method: checkMethod(body.method),
      action: routeAction(body.action, req.caller.namespace),
      responseType: checkResponseType(body.responseType),
    };
    if (body.name !== undefined && (typeof body.name !== 'string' || body.name === '')) {
      throw malformed('name must be a non-empty string');
    }
    const written = await addRoute(deps, req.caller, {
      basePath: checkBasePath(body.basePath ?? '/'),
      route,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
    });
    return reply.send({ ...apiSummary(written.api, originOf(req)), webExported: written.webExported });
  });

  app.put<{ Querystring: Query }>(COLLECTION, { preHandler: auth, bodyLimit }, async (req, reply) => {
    ownNamespace(req);
    const imported = importOpenApi(parseDocument(bodyText(req)), req.caller.namespace);
    const written = await putApi(deps, req.caller, imported, flag(req.query, 'overwrite'));
    return reply.send({ ...apiSummary(written.api, originOf(req)), webExported: written.webExported });
  });

  const oneApi = async (deps: ControllerDeps, namespace: string, rest: string[]) => {
    // `apis/` (or `apis/%2F`) is the API at the root base path `/`.
    if (rest.join('/').replace(/^\/+/, '') === '') return findApi(deps, namespace, '/');
    // A base path first (`apis/v1/books` is `/v1/books`), else an API name (`apis/Book%20Club`).
    if (rest.every((s) => BASE_SEGMENT.test(s))) {
      const found = await getApi(deps, namespace, checkBasePath(`/${rest.join('/')}`));
      if (found !== undefined) return found;
    }
    return findApi(deps, namespace, rest.join('/').replace(/^\/+/, ''));
  };

  app.get<{ Querystring: Query }>(`${COLLECTION}/*`, { preHandler: auth }, async (req, reply) => {
    const { namespace, rest } = ownNamespace(req);
    const api = await oneApi(deps, namespace, rest);
    const origin = originOf(req);
    const doc = exportOpenApi(api.doc, origin, gatewayUrl(origin, namespace));
    return sendDocument(req, reply, doc);
  });

  app.delete<{ Querystring: Query }>(`${COLLECTION}/*`, { preHandler: auth }, async (req, reply) => {
    const { namespace, rest } = ownNamespace(req);
    const api = await oneApi(deps, namespace, rest);
    const path = stringParam(req.query, 'path');
    const method = stringParam(req.query, 'method');
    if (method !== undefined && path === undefined) throw malformed("'method' needs 'path'");
    const removed = await deleteApi(
      deps,
      namespace,
      api.doc.basePath,
      path === undefined ? undefined : checkRoutePath(path),
      method === undefined ? undefined : checkMethod(method),
    );
    return reply.send(apiSummary(removed, originOf(req)));
  });
}

/** JSON, or YAML when asked (`?format=yaml` or an `Accept` that prefers YAML). */
export function sendDocument(
  req: FastifyRequest<{ Querystring: Query }>,
  reply: FastifyReply,
  doc: unknown,
): FastifyReply {
  const format = stringParam(req.query, 'format')?.toLowerCase();
  const accept = req.headers.accept ?? '';
  if (format === 'yaml' || (format === undefined && /(application|text)\/(x-)?yaml/.test(accept))) {
    return reply.header('content-type', 'application/yaml; charset=utf-8').send(toYaml(doc));
  }
  if (format !== undefined && format !== 'json') throw malformed("format must be 'json' or 'yaml'");
  return reply.header('content-type', 'application/json').send(JSON.stringify(doc));
}
