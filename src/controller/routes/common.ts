/**
 * What the entity routes (actions, packages, triggers, rules) share: the owner-only collection listing,
 * the version and publish fields of a PUT, and the compare-and-set write with OpenWhisk's 409s.
 */
import type { FastifyRequest } from 'fastify';
import type { EntityDoc, EntityType } from '../../core/entities.js';
import { bumpVersion } from '../../core/entities.js';
import { Messages, WhirlError, forbidden } from '../../core/errors.js';
import { ConflictError } from '../../store/store.js';
import type { ControllerDeps } from '../http.js';
import { listParams, type Query } from '../params.js';
import { parseCollectionPath } from '../paths.js';
import { malformed } from '../validate.js';

/** `GET /namespaces/{ns}/{collection}`: the caller's own entities, newest first, or their count. */
export function ownCollection<D extends EntityDoc>(
  deps: ControllerDeps,
  collection: 'actions' | 'triggers' | 'rules',
  type: EntityType,
  summary: (doc: D) => unknown,
) {
  return async (req: FastifyRequest<{ Querystring: Query }>): Promise<unknown> => {
    const { namespace } = parseCollectionPath(req.url, collection, req.caller.namespace);
    if (namespace !== req.caller.namespace) throw forbidden();
    const { limit, skip, count } = listParams(req.query, collection);
    if (count) return { [collection]: await deps.entities.count(namespace, type) };
    const docs = (await deps.entities.list(namespace, type, { limit, skip })) as D[];
    return docs.map(summary);
  };
}

/**
 * A PUT's `version` (as given; otherwise 0.0.1 on create, and the old one with its patch level bumped on
 * update, as OpenWhisk's `content.version getOrElse version.upPatch`) and `publish` (kept unless given).
 */
export function versionAndPublish(
  body: Record<string, unknown>,
  previous: { version: string; publish: boolean } | undefined,
): { version: string; publish: boolean } {
  if (body.publish !== undefined && typeof body.publish !== 'boolean')
    throw malformed('publish must be a boolean');
  const given = body.version === undefined ? undefined : semanticVersion(body.version);
  return {
    version: given ?? (previous === undefined ? '0.0.1' : bumpVersion(previous.version)),
    publish: body.publish ?? previous?.publish ?? false,
  };
}

/** OpenWhisk's SemVer: one to three non-negative integers, missing ones 0 ("1.2" is 1.2.0). */
function semanticVersion(value: unknown): string {
  const parts = typeof value === 'string' ? value.split('.') : [];
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => !/^\d{1,9}$/.test(p)))
    throw malformed('bad semantic version');
  const [major, minor = '0', patch = '0'] = parts.map((p) => String(Number(p)));
  return `${major}.${minor}.${patch}`;
}

/**
 * Creates (no `existingRev`) or updates exactly the revision read. Losing the race answers 409: "resource
 * already exists" when someone created it first, "Concurrent modification" when someone updated it.
 */
export async function writeEntity(
  deps: ControllerDeps,
  namespace: string,
  path: string,
  type: EntityType,
  doc: EntityDoc,
  existingRev: number | undefined,
): Promise<void> {
  try {
    await deps.entities.put(namespace, path, type, doc, existingRev ?? null);
  } catch (err) {
    if (err instanceof ConflictError) {
      throw new WhirlError(409, existingRev === undefined ? Messages.alreadyExists : Messages.conflict);
    }
    throw err;
  }
}
