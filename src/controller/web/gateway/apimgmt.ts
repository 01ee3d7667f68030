/**
 * OpenWhisk's API management actions, built in: `whisk.system/apimgmt/{createApi,getApi,deleteApi}` at their
 * web action URLs, with the request and response shapes that the `openwhisk` npm client (`ow.routes`) and
 * `wsk api` send and read. They need valid credentials and act on the caller's namespace; no catalog has to
 * be installed. Failures use Whirl's status codes and error envelope (OpenWhisk's actions answer 502).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDoc, ApiRoute } from '../../../core/entities.js';
import { Messages, WhirlError, badRequest } from '../../../core/errors.js';
import { DEFAULT_NAMESPACE } from '../../../core/names.js';
import type { ControllerDeps } from '../../http.js';
import type { Caller } from '../../identities.js';
import { listParams, stringParam, type Query } from '../../params.js';
import { isObject } from '../../validate.js';
import { corsHeaders } from '../cors.js';
import { optionalCaller } from '../invoke.js';
import type { BuiltinWebHandler } from '../web-actions.js';
import { checkBasePath, checkMethod, checkResponseType, checkRoutePath, checkSecureKey } from './model.js';
import { exportOpenApi, importOpenApi } from './openapi.js';
import { routeAction, originOf } from './rest.js';
import { gatewayUrl } from './serve.js';
import { addRoute, deleteApi, findApi, listAllApis, putApi } from './service.js';

/** The API as the CLI and the npm client expect it (`value.gwApiUrl`, `value.apidoc`). */
function cliApi(api: ApiDoc, origin: string): Record<string, unknown> {
  const gw = gatewayUrl(origin, api.namespace);
  return {
    id: `API:${api.namespace}:${api.basePath}`,
    key: `${api.namespace}:${api.basePath}`,
    value: {
      namespace: api.namespace,
      gwApiActivated: true,
      tenantId: api.namespace,
      // As OpenWhisk's: the API's own base URL, so that gwApiUrl + a route's path is the route's URL
      // (what wsk, the npm client's users and `aio runtime api list` print).
      gwApiUrl: api.basePath === '/' ? gw : `${gw}${api.basePath}`,
      apidoc: exportOpenApi(api, origin, gw),
    },
  };
}

function json(v: unknown, field: string): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw badRequest(`The ${field} field is not valid JSON.`);
  }
}

async function requireCaller(deps: ControllerDeps, req: FastifyRequest): Promise<Caller> {
  const caller = await optionalCaller(deps, req);
  if (caller !== undefined) return caller;
  throw new WhirlError(
    401,
    req.headers.authorization === undefined ? Messages.credentialsMissing : Messages.unauthenticated,
  );
}

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return {};
  const parsed = json(req.body.toString('utf8'), 'request body');
  if (!isObject(parsed)) throw badRequest(Messages.malformed('the body must be a JSON object'));
  return parsed;
}

async function createApi(deps: ControllerDeps, req: FastifyRequest, reply: FastifyReply) {
  const caller = await requireCaller(deps, req);
  const apidoc = json(bodyObject(req).apidoc, 'apidoc');
  if (!isObject(apidoc)) throw badRequest('apidoc is required.');
  const origin = originOf(req);
  if (apidoc.swagger !== undefined) {
    // A whole document replaces the API at its base path, as `wsk api create --config-file` does.
    const imported = importOpenApi(json(apidoc.swagger, 'swagger'), caller.namespace);
    const written = await putApi(deps, caller, imported, true);
    return reply.send({ ...cliApi(written.api, origin), webExported: written.webExported });
  }
  const action = apidoc.action;
  if (!isObject(action) || typeof action.name !== 'string')
    throw badRequest('apidoc.action.name is required.');
  // The caller's own namespace arrives as `_` (or as the apidoc's namespace); another one names a shared action.
  const given = typeof action.namespace === 'string' ? action.namespace : DEFAULT_NAMESPACE;
  const actionNs = given === DEFAULT_NAMESPACE || given === apidoc.namespace ? caller.namespace : given;
  const route: ApiRoute = {
    path: checkRoutePath(apidoc.gatewayPath),
    method: checkMethod(apidoc.gatewayMethod),
    action: routeAction(
      action.name.startsWith('/') ? action.name : `/${actionNs}/${action.name}`,
      caller.namespace,
    ),
    responseType: checkResponseType(stringParam(req.query as Query, 'responsetype')),
  };
  // `wsk api create` and `ow.routes.create({secure_key})` send the action's require-whisk-auth value.
  const secureKey = checkSecureKey(action.secureKey);
  if (secureKey !== undefined) route.secureKey = secureKey;
  const written = await addRoute(deps, caller, {
    basePath: checkBasePath(apidoc.gatewayBasePath ?? '/'),
    route,
    ...(typeof apidoc.apiName === 'string' && apidoc.apiName !== '' ? { name: apidoc.apiName } : {}),
  });
  return reply.send({ ...cliApi(written.api, origin), webExported: written.webExported });
}

/** Keeps only the routes on `relpath` (and `operation`); undefined when none are left. */
function filtered(api: ApiDoc, relpath?: string, operation?: string): ApiDoc | undefined {
  if (relpath === undefined) return api;
  const routes = api.routes.filter(
    (r) => r.path === relpath && (operation === undefined || r.method === operation),
  );
  return routes.length === 0 ? undefined : { ...api, routes };
}

/** A listing filter: empty is absent. */
function filterParam(q: Query, name: string): string | undefined {
  const v = stringParam(q, name);
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The listing's query without the literal `undefined`: the `openwhisk` client sends it for every option
 * given as undefined (`aio runtime api list` gives basepath, relpath, operation, limit and skip so), and
 * it means "not given" — no API is named or based at `undefined`, and no count is.
 */
function givenOnly(q: Query): Query {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== 'undefined'));
}

async function getApis(deps: ControllerDeps, req: FastifyRequest, reply: FastifyReply) {
  const caller = await requireCaller(deps, req);
  const q = givenOnly(req.query as Query);
  const basepath = stringParam(q, 'basepath');
  const relpath = filterParam(q, 'relpath');
  const operation = filterParam(q, 'operation');
  const rel = relpath === undefined ? undefined : checkRoutePath(relpath);
  const op = operation === undefined ? undefined : checkMethod(operation);
  let apis: ApiDoc[];
  if (basepath === undefined || basepath === '') {
    const { limit, skip } = listParams(q, 'apis');
    apis = (await listAllApis(deps, caller.namespace)).slice(skip, skip + limit);
  } else {
    const found = await findApi(deps, caller.namespace, basepath).catch((err: unknown) => {
      if (err instanceof WhirlError && err.status === 404) return undefined;
      throw err;
    });
    apis = found === undefined ? [] : [found.doc];
  }
  const origin = originOf(req);
  const out = apis.flatMap((a) => {
    const f = filtered(a, rel, op);
    return f === undefined ? [] : [cliApi(f, origin)];
  });
  return reply.header('content-type', 'application/json').send(JSON.stringify({ apis: out }));
}

async function removeApi(deps: ControllerDeps, req: FastifyRequest, reply: FastifyReply) {
  const caller = await requireCaller(deps, req);
  const q = req.query as Query;
  const basepath = stringParam(q, 'basepath');
  if (basepath === undefined || basepath === '') throw badRequest('basepath is required.');
  const relpath = stringParam(q, 'relpath');
  const operation = stringParam(q, 'operation');
  if ((relpath === undefined || relpath === '') && operation !== undefined && operation !== '') {
    throw badRequest('When specifying an operation, the path is required.');
  }
  await deleteApi(
    deps,
    caller.namespace,
    basepath,
    relpath === undefined || relpath === '' ? undefined : checkRoutePath(relpath),
    operation === undefined || operation === '' ? undefined : checkMethod(operation),
  );
  return reply.header('content-type', 'application/json').send('{}');
}

type Handler = (deps: ControllerDeps, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** The built-in web handlers, keyed `namespace/package/action` as web action URLs name them. */
export function apiManagementHandlers(deps: ControllerDeps): Map<string, BuiltinWebHandler> {
  const wrap =
    (handler: Handler): BuiltinWebHandler =>
    async (req, reply) => {
      void reply.headers(corsHeaders(req.headers));
      if (req.method === 'OPTIONS') return reply.code(200).send();
      return handler(deps, req, reply);
    };
  return new Map([
    ['whisk.system/apimgmt/createApi', wrap(createApi)],
    ['whisk.system/apimgmt/getApi', wrap(getApis)],
    ['whisk.system/apimgmt/deleteApi', wrap(removeApi)],
  ]);
}
