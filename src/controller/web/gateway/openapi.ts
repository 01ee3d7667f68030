/**
 * APIs as OpenAPI documents, in both directions. Import takes Swagger 2.0 (what `wsk api` exports) or
 * OpenAPI 3.x, as JSON or YAML; each operation names its action in an `x-openwhisk` extension
 * (`{namespace, package, action, url}`; the web action URL's extension is the response type). Export
 * writes the same flavour that was imported (Swagger 2.0 for APIs built route by route), keeping the
 * fields Whirl does not interpret (descriptions, schemas, ...). Secured actions' secrets travel in
 * OpenWhisk's gateway extension (`x-ibm-configuration`), read on import and written on export.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { ApiDoc, ApiResponseType, ApiRoute, ApiSecureKey } from '../../../core/entities.js';
import { badRequest, Messages } from '../../../core/errors.js';
import { MAX_JSON_DEPTH, withinDepth } from '../../../core/json.js';
import { checkName, parseQualifiedName, DEFAULT_NAMESPACE, NO_PACKAGE } from '../../../core/names.js';
import {
  API_METHODS,
  checkBasePath,
  checkMethod,
  checkResponseType,
  checkRoutePath,
  checkSecureKey,
  DEFAULT_RESPONSE_TYPE,
  placeholders,
} from './model.js';

export interface ImportedApi {
  basePath: string;
  name: string;
  routes: ApiRoute[];
  spec: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** JSON, else YAML (a JSON document is YAML too, but JSON.parse is stricter and faster). */
export function parseDocument(text: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      // Aliases are capped by the parser, so a small document cannot expand into a huge one.
      doc = parseYaml(text, { maxAliasCount: 100 }) as unknown;
    } catch (err) {
      throw badRequest(Messages.malformed(`not a JSON or YAML document: ${(err as Error).message}`));
    }
  }
  if (!withinDepth(doc)) throw badRequest(Messages.malformed(`nested deeper than ${MAX_JSON_DEPTH} levels`));
  return doc;
}

export function toYaml(doc: unknown): string {
  return stringifyYaml(doc, { aliasDuplicateObjects: false });
}

/** The route's action from an operation's `x-openwhisk` extension; `_` is the importing namespace. */
function actionOf(ext: unknown, where: string, namespace: string): ApiRoute['action'] {
  if (!isObject(ext) || typeof ext.action !== 'string' || ext.action === '') {
    throw badRequest(`${where} needs an 'x-openwhisk' extension naming its action.`);
  }
  const ns = typeof ext.namespace === 'string' && ext.namespace !== '' ? ext.namespace : DEFAULT_NAMESPACE;
  // `default` is how OpenWhisk's documents (and the Serverless Framework's) say "no package".
  const pkg =
    typeof ext.package === 'string' && ext.package !== '' && ext.package !== NO_PACKAGE
      ? ext.package
      : undefined;
  const ref = parseQualifiedName(
    ext.action.includes('/') || pkg === undefined ? ext.action : `${pkg}/${ext.action}`,
    ns === DEFAULT_NAMESPACE ? namespace : ns,
  );
  if (ref === undefined) throw badRequest(`${where} names an invalid action '${ext.action}'.`);
  const resolvedNs = ref.namespace === DEFAULT_NAMESPACE ? namespace : ref.namespace;
  checkName(resolvedNs);
  checkName(ref.name);
  if (ref.pkg !== undefined) checkName(ref.pkg);
  return ref.pkg === undefined || ref.pkg === NO_PACKAGE
    ? { namespace: resolvedNs, name: ref.name }
    : { namespace: resolvedNs, package: ref.pkg, name: ref.name };
}

/** The response type encoded in a web action URL's extension (`.../hello.json`), if any. */
function responseTypeOf(ext: unknown): ApiResponseType {
  if (!isObject(ext)) return DEFAULT_RESPONSE_TYPE;
  if (ext.responseType !== undefined) return checkResponseType(ext.responseType);
  if (typeof ext.url === 'string') {
    const m = /\.(http|json|html|text|svg)(?:[?#].*)?$/.exec(ext.url);
    if (m) return m[1] as ApiResponseType;
  }
  return DEFAULT_RESPONSE_TYPE;
}

/** The base path of an OpenAPI 3 document: the path of its first server URL (a gateway URL's prefix dropped). */
function oas3BasePath(servers: unknown): string {
  const first = Array.isArray(servers) && isObject(servers[0]) ? servers[0].url : undefined;
  if (typeof first !== 'string') return '/';
  let path: string;
  try {
    path = new URL(first, 'http://base.invalid').pathname;
  } catch {
    throw badRequest(`The server URL '${first}' is not valid.`);
  }
  return path.replace(/^\/api\/gw\/[^/]+(?=\/|$)/, '') || '/';
}

/** OpenWhisk's API gateway configuration extension: how its gateway calls each operation's backend. */
const GATEWAY_CONFIG = 'x-ibm-configuration';
/** The `set-variable` target with which OpenWhisk's gateway sends a web action's `require-whisk-auth` secret. */
const SECRET_HEADER_VARIABLE = 'message.headers.X-Require-Whisk-Auth';

const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The secret each operation (by operationId) sends as `X-Require-Whisk-Auth`, from the gateway assembly that
 * OpenWhisk's API management (and the Serverless Framework) write:
 * `assembly.execute[].operation-switch.case[] = {operations: [id], execute: [{set-variable: {actions:
 * [{set: 'message.headers.X-Require-Whisk-Auth', value}]}}, {invoke: ...}]}`.
 */
function gatewaySecrets(config: unknown): Map<string, unknown> {
  const secrets = new Map<string, unknown>();
  if (!isObject(config) || !isObject(config.assembly)) return secrets;
  for (const step of arrayOf(config.assembly.execute)) {
    const cases = isObject(step) && isObject(step['operation-switch']) ? step['operation-switch'].case : [];
    for (const c of arrayOf(cases)) {
      if (!isObject(c)) continue;
      for (const exec of arrayOf(c.execute)) {
        const setVariable = isObject(exec) ? exec['set-variable'] : undefined;
        for (const action of arrayOf(isObject(setVariable) ? setVariable.actions : [])) {
          if (!isObject(action) || typeof action.set !== 'string') continue;
          if (action.set.toLowerCase() !== SECRET_HEADER_VARIABLE.toLowerCase()) continue;
          for (const id of arrayOf(c.operations)) if (typeof id === 'string') secrets.set(id, action.value);
        }
      }
    }
  }
  return secrets;
}

/** Reads an OpenAPI document into an API of `namespace` (whose name `_` in the document stands for). */
export function importOpenApi(input: unknown, namespace: string): ImportedApi {
  if (!isObject(input)) throw badRequest(Messages.malformed('the OpenAPI document must be an object'));
  const oas3 = typeof input.openapi === 'string' && input.openapi.startsWith('3.');
  if (!oas3 && input.swagger !== '2.0') {
    throw badRequest(
      Messages.malformed("the document must be Swagger 2.0 ('swagger') or OpenAPI 3 ('openapi')"),
    );
  }
  const basePath = checkBasePath(oas3 ? oas3BasePath(input.servers) : (input.basePath ?? '/'));
  if (!isObject(input.paths)) throw badRequest(Messages.malformed("the document has no 'paths'"));
  const secrets = gatewaySecrets(input[GATEWAY_CONFIG]);
  const routes: ApiRoute[] = [];
  for (const [rawPath, item] of Object.entries(input.paths)) {
    const path = checkRoutePath(rawPath);
    if (!isObject(item)) continue;
    for (const [key, op] of Object.entries(item)) {
      if (!(API_METHODS as readonly string[]).includes(key.toUpperCase()) || !isObject(op)) continue;
      const method = checkMethod(key);
      const where = `The operation ${method} ${path}`;
      const { 'x-openwhisk': ext, ...rest } = op;
      const route: ApiRoute = {
        path,
        method,
        action: actionOf(ext, where, namespace),
        responseType: responseTypeOf(ext),
      };
      const secureKey = checkSecureKey(
        typeof op.operationId === 'string' ? secrets.get(op.operationId) : undefined,
      );
      if (secureKey !== undefined) route.secureKey = secureKey;
      if (Object.keys(rest).length > 0) route.operation = rest;
      if (routes.some((r) => r.path === path && r.method === method)) {
        throw badRequest(`${where} is defined twice.`);
      }
      routes.push(route);
    }
  }
  if (routes.length === 0) throw badRequest(Messages.malformed('the document defines no operations'));
  const { swagger: _s, paths: _p, basePath: _b, servers: _v, host: _h, schemes: _c, ...spec } = input;
  // The gateway assembly is rebuilt from the routes on export (it would go stale as routes change).
  if (isObject(spec[GATEWAY_CONFIG])) {
    const { assembly: _a, ...config } = spec[GATEWAY_CONFIG];
    if (Object.keys(config).length > 0) spec[GATEWAY_CONFIG] = config;
    else delete spec[GATEWAY_CONFIG];
  }
  const info = isObject(input.info) ? input.info : {};
  const name = typeof info.title === 'string' && info.title !== '' ? info.title : basePath;
  return { basePath, name, routes, spec };
}

/** The web action URL an operation maps to, with the route's response type as extension. */
export function webActionUrl(origin: string, route: ApiRoute): string {
  const a = route.action;
  const parts = [a.namespace, a.package ?? 'default', `${a.name}.${route.responseType}`];
  return `${origin}/api/v1/web/${parts.map(encodeURIComponent).join('/')}`;
}

/** The API as an OpenAPI document: Swagger 2.0, or OpenAPI 3 when it was imported as such. */
export function exportOpenApi(api: ApiDoc, origin: string, gatewayUrl: string): Json {
  const spec = api.spec ?? {};
  const oas3 = typeof spec.openapi === 'string';
  const paths: Record<string, Json> = {};
  const cases: Json[] = [];
  const sorted = [...api.routes].sort(
    (a, b) =>
      a.path.localeCompare(b.path) ||
      API_METHODS.indexOf(a.method as (typeof API_METHODS)[number]) -
        API_METHODS.indexOf(b.method as (typeof API_METHODS)[number]),
  );
  for (const route of sorted) {
    const op: Json = {
      operationId: `${route.method.toLowerCase()}_${route.path}`,
      ...(route.operation ?? {}),
      'x-openwhisk': {
        namespace: route.action.namespace,
        ...(route.action.package === undefined ? {} : { package: route.action.package }),
        action: route.action.name,
        url: webActionUrl(origin, route),
      },
    };
    op.responses ??= { default: { description: 'Default response' } };
    const declared = Array.isArray(op.parameters) ? (op.parameters as unknown[]) : [];
    const missing = placeholders(route.path).filter(
      (name) => !declared.some((p) => isObject(p) && p.in === 'path' && p.name === name),
    );
    if (missing.length > 0) {
      op.parameters = [
        ...declared,
        ...missing.map((name) =>
          oas3
            ? { name, in: 'path', required: true, schema: { type: 'string' } }
            : { name, in: 'path', required: true, type: 'string' },
        ),
      ];
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = op;
    if (route.secureKey !== undefined) cases.push(secretCase(String(op.operationId), route, origin));
  }
  const config = gatewayConfig(spec[GATEWAY_CONFIG], cases);
  const info = { version: '1.0.0', ...(isObject(spec.info) ? spec.info : {}), title: api.name };
  if (oas3) {
    return {
      ...spec,
      ...config,
      info,
      servers: [{ url: `${gatewayUrl}${api.basePath === '/' ? '' : api.basePath}` }],
      paths,
    };
  }
  return { swagger: '2.0', ...spec, ...config, info, basePath: api.basePath, paths };
}

/** The gateway assembly step that sends a route's secret, as OpenWhisk's API management writes it. */
function secretCase(operationId: string, route: ApiRoute, origin: string): Json {
  const value: ApiSecureKey = route.secureKey!;
  return {
    operations: [operationId],
    execute: [
      { 'set-variable': { actions: [{ set: SECRET_HEADER_VARIABLE, value }] } },
      { invoke: { 'target-url': webActionUrl(origin, route), verb: 'keep' } },
    ],
  };
}

/** The kept gateway configuration, with an assembly for the routes that send secrets (if any). */
function gatewayConfig(kept: unknown, cases: Json[]): Json {
  const config: Json = isObject(kept) ? { ...kept } : {};
  if (cases.length > 0) config.assembly = { execute: [{ 'operation-switch': { case: cases } }] };
  return Object.keys(config).length === 0 ? {} : { [GATEWAY_CONFIG]: config };
}
