/**
 * Reading and writing published APIs. Each API is an entity of type `api` stored at its base path (see
 * ApiDoc), so it shares the entity cache, its cross-controller invalidation and compare-and-set writes.
 * Every route's action must exist and be readable by the API's owner; an action of the owner's that is not
 * yet a web action becomes one, and the caller is told which.
 */
import type { ActionDoc, ApiDoc, ApiRoute, ApiSecureKey } from '../../../core/entities.js';
import { bumpVersion, getAnnotation, setAnnotation } from '../../../core/entities.js';
import { Messages, WhirlError, badRequest, notFound } from '../../../core/errors.js';
import { entityPath, fullyQualified, type EntityRef } from '../../../core/names.js';
import type { StoredEntity } from '../../../store/store.js';
import { ConflictError } from '../../../store/store.js';
import type { ControllerDeps } from '../../http.js';
import type { Caller } from '../../identities.js';
import { resolveAction } from '../../resolve.js';
import { checkBasePath } from './model.js';
import type { ImportedApi } from './openapi.js';

/** Writes that lost a compare-and-set race are retried this many times. */
const WRITE_ATTEMPTS = 5;
const LIST_PAGE = 200;

export interface ApiWrite {
  api: ApiDoc;
  /** Actions (fully qualified) that were made web actions by this write. */
  webExported: string[];
}

export interface NewRoute {
  basePath: string;
  route: ApiRoute;
  /** Names the API when it is created (or renames it). */
  name?: string;
}

export const refOf = (a: ApiRoute['action']): EntityRef =>
  a.package === undefined
    ? { namespace: a.namespace, name: a.name }
    : { namespace: a.namespace, pkg: a.package, name: a.name };

export async function getApi(
  deps: ControllerDeps,
  namespace: string,
  basePath: string,
): Promise<StoredEntity<ApiDoc> | undefined> {
  const found = await deps.entities.get(namespace, basePath);
  return found?.type === 'api' ? (found as StoredEntity<ApiDoc>) : undefined;
}

/** Every API of the namespace, newest first. */
export async function listAllApis(deps: ControllerDeps, namespace: string): Promise<ApiDoc[]> {
  const out: ApiDoc[] = [];
  for (let skip = 0; ; skip += LIST_PAGE) {
    const page = (await deps.entities.list(namespace, 'api', { skip, limit: LIST_PAGE })) as ApiDoc[];
    out.push(...page);
    if (page.length < LIST_PAGE) return out;
  }
}

/** The API at a base path (`/books`) or, for anything else, the one with that name; 404 when none. */
export async function findApi(
  deps: ControllerDeps,
  namespace: string,
  basePathOrName: string,
): Promise<StoredEntity<ApiDoc>> {
  if (basePathOrName.startsWith('/')) {
    const found = await getApi(deps, namespace, checkBasePath(basePathOrName));
    if (found !== undefined) return found;
  } else {
    const named = (await listAllApis(deps, namespace)).find((a) => a.name === basePathOrName);
    const found = named && (await getApi(deps, namespace, named.basePath));
    if (found !== undefined) return found;
  }
  throw new WhirlError(404, `API '${basePathOrName}' does not exist.`);
}

interface CheckedRoutes {
  /** The routes, with secure keys filled in from the owner's own actions. */
  routes: ApiRoute[];
  /** Actions (fully qualified) made web actions. */
  exported: string[];
}

/**
 * Checks that each route's action exists for the owner, and makes the owner's own actions web actions
 * (`web-export: true`, plus `final: true` unless set — what `action update --web true` does). A route to an
 * action of the owner's secured with `require-whisk-auth` that names no key gets the action's: publishing
 * the route is the owner's decision to serve it (OpenWhisk's `wsk api create` sends the key the same way).
 */
async function ensureWebActions(
  deps: ControllerDeps,
  owner: Caller,
  routes: readonly ApiRoute[],
): Promise<CheckedRoutes> {
  const exported: string[] = [];
  /** The require-whisk-auth key of each of the owner's own actions, by fully qualified name. */
  const keys = new Map<string, ApiSecureKey | undefined>();
  const seen = new Set<string>();
  for (const route of routes) {
    const ref = refOf(route.action);
    const name = fullyQualified(ref);
    if (seen.has(name)) continue;
    seen.add(name);
    for (let attempt = 1; ; attempt++) {
      let resolved;
      try {
        resolved = await resolveAction(deps.entities, owner, ref);
      } catch (err) {
        if (err instanceof WhirlError && err.status !== 403)
          throw badRequest(`action ${name} does not exist`);
        throw err;
      }
      // Where the action really lives (through a binding, that is the bound package).
      const [home = '', pkg] = resolved.path.split('/');
      if (home === owner.namespace) {
        keys.set(name, secureKeyOf(getAnnotation(resolved.doc.annotations, 'require-whisk-auth')));
      }
      if (getAnnotation(resolved.doc.annotations, 'web-export') === true) break;
      const real = { namespace: home, ...(pkg === undefined ? {} : { pkg }), name: resolved.doc.name };
      if (home !== owner.namespace) {
        throw badRequest(
          `action ${fullyQualified(real)} is not a web action, and only its owner can make it one.`,
        );
      }
      let annotations = setAnnotation(resolved.doc.annotations, 'web-export', true);
      if (getAnnotation(annotations, 'final') === undefined)
        annotations = setAnnotation(annotations, 'final', true);
      const doc: ActionDoc = {
        ...resolved.doc,
        annotations,
        version: bumpVersion(resolved.doc.version),
        updated: Date.now(),
      };
      try {
        await deps.entities.put(home, entityPath(real), 'action', doc, resolved.rev);
        exported.push(fullyQualified(real));
        break;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw conflictOr(err);
      }
    }
  }
  const keyed = routes.map((route) => {
    const key = route.secureKey ?? keys.get(fullyQualified(refOf(route.action)));
    return key === undefined ? route : { ...route, secureKey: key };
  });
  return { routes: keyed, exported };
}

/** The `require-whisk-auth` values a route can present: secrets and `true` (`false` or none is open). */
function secureKeyOf(annotation: unknown): ApiSecureKey | undefined {
  if (annotation === true || typeof annotation === 'string') return annotation;
  return typeof annotation === 'number' ? annotation : undefined;
}

function conflictOr(err: unknown): unknown {
  return err instanceof ConflictError ? new WhirlError(409, Messages.conflict) : err;
}

function checkApiSize(deps: ControllerDeps, doc: ApiDoc): void {
  const size = Buffer.byteLength(JSON.stringify(doc));
  const max = deps.system.parameterSize;
  if (size > max) throw new WhirlError(413, Messages.entityTooLarge('api', size, max));
}

/** Read-modify-write of the API at `basePath` with compare-and-set, retried on races. */
async function updateApi(
  deps: ControllerDeps,
  namespace: string,
  basePath: string,
  change: (existing: ApiDoc | undefined) => ApiDoc | undefined,
): Promise<ApiDoc | undefined> {
  for (let attempt = 1; ; attempt++) {
    const existing = await getApi(deps, namespace, basePath);
    const next = change(existing?.doc);
    try {
      if (next === undefined) {
        if (existing !== undefined && !(await deps.entities.delete(namespace, basePath, existing.rev))) {
          throw new ConflictError(existing);
        }
      } else {
        checkApiSize(deps, next);
        await deps.entities.put(namespace, basePath, 'api', next, existing?.rev ?? null);
      }
      return next;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw conflictOr(err);
    }
  }
}

function newApiDoc(
  namespace: string,
  basePath: string,
  name: string,
  routes: ApiRoute[],
  prev?: ApiDoc,
): ApiDoc {
  return {
    namespace,
    name,
    version: prev === undefined ? '0.0.1' : bumpVersion(prev.version),
    publish: false,
    annotations: prev?.annotations ?? [],
    updated: Date.now(),
    basePath,
    routes,
    ...(prev?.spec === undefined ? {} : { spec: prev.spec }),
  };
}

/** Adds one route (replacing the same method on the same path), creating the API if needed. */
export async function addRoute(deps: ControllerDeps, owner: Caller, input: NewRoute): Promise<ApiWrite> {
  const checked = await ensureWebActions(deps, owner, [input.route]);
  const route = checked.routes[0]!;
  const api = await updateApi(deps, owner.namespace, input.basePath, (prev) => {
    const others = (prev?.routes ?? []).filter((r) => !(r.path === route.path && r.method === route.method));
    const name = input.name ?? prev?.name ?? input.basePath;
    return newApiDoc(owner.namespace, input.basePath, name, [...others, route], prev);
  });
  return { api: api!, webExported: checked.exported };
}

/** Creates an API from an imported document; an existing one at the base path is replaced only with `overwrite`. */
export async function putApi(
  deps: ControllerDeps,
  owner: Caller,
  imported: ImportedApi,
  overwrite: boolean,
): Promise<ApiWrite> {
  const existing = await getApi(deps, owner.namespace, imported.basePath);
  if (existing !== undefined && !overwrite) throw new WhirlError(409, Messages.alreadyExists);
  const checked = await ensureWebActions(deps, owner, imported.routes);
  const api = await updateApi(deps, owner.namespace, imported.basePath, (prev) => {
    if (prev !== undefined && !overwrite) throw new WhirlError(409, Messages.alreadyExists);
    const doc = newApiDoc(owner.namespace, imported.basePath, imported.name, checked.routes, prev);
    return { ...doc, spec: imported.spec };
  });
  return { api: api!, webExported: checked.exported };
}

/**
 * Deletes an API, or only its routes on `path` (and `method`); an API left without routes is deleted.
 * Returns what was removed, as an API document.
 */
export async function deleteApi(
  deps: ControllerDeps,
  namespace: string,
  basePathOrName: string,
  path?: string,
  method?: string,
): Promise<ApiDoc> {
  const found = await findApi(deps, namespace, basePathOrName);
  let removed: ApiDoc | undefined;
  await updateApi(deps, namespace, found.doc.basePath, (prev) => {
    if (prev === undefined) throw notFound();
    if (path === undefined) {
      removed = prev;
      return undefined;
    }
    const hit = (r: ApiRoute) => r.path === path && (method === undefined || r.method === method);
    const gone = prev.routes.filter(hit);
    if (gone.length === 0) {
      throw new WhirlError(
        404,
        `The path '${path}'${method === undefined ? '' : ` with operation '${method.toLowerCase()}'`} does not exist in API '${basePathOrName}'.`,
      );
    }
    removed = { ...prev, routes: gone };
    const kept = prev.routes.filter((r) => !hit(r));
    return kept.length === 0 ? undefined : newApiDoc(namespace, prev.basePath, prev.name, kept, prev);
  });
  return removed!;
}
