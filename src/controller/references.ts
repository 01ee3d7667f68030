/**
 * Names of entities that other entities refer to (a rule's trigger and action, a binding's package, a
 * sequence's components, a conductor's next action), parsed from the forms OpenWhisk clients send, and
 * small helpers that several routes share.
 */
import type { EntityDoc, EntityType } from '../core/entities.js';
import { DEFAULT_NAMESPACE, isValidName, parseQualifiedName, type EntityRef } from '../core/names.js';
import type { Entities } from './entities.js';
import { isObject } from './validate.js';

/**
 * `/ns/pkg/a`, `/ns/a`, `ns/pkg/a`, `pkg/a` or `a` (relative to `callerNamespace`, `_` meaning the caller's
 * namespace); undefined when the shape or a segment is not a valid name.
 */
export function refFromString(value: string, callerNamespace: string): EntityRef | undefined {
  const ref = parseQualifiedName(value, callerNamespace);
  if (ref === undefined) return undefined;
  const segments = [ref.namespace, ...(ref.pkg === undefined ? [] : [ref.pkg]), ref.name];
  return segments.every(isValidName) ? ref : undefined;
}

/** `{path: "ns" | "ns/pkg", name}` as rules and bindings carry them. */
export function refFromPath(path: unknown, name: unknown, callerNamespace: string): EntityRef | undefined {
  if (typeof path !== 'string' || typeof name !== 'string') return undefined;
  const parts = path.split('/');
  if (parts.length > 2) return undefined;
  const namespace = parts[0] === DEFAULT_NAMESPACE ? callerNamespace : parts[0]!;
  const pkg = parts[1];
  if (!isValidName(namespace) || !isValidName(name) || (pkg !== undefined && !isValidName(pkg)))
    return undefined;
  return pkg === undefined ? { namespace, name } : { namespace, pkg, name };
}

/** A reference given either as a string or as `{path, name}` (rule bodies accept both). */
export function refFromValue(value: unknown, callerNamespace: string): EntityRef | undefined {
  if (typeof value === 'string') return refFromString(value, callerNamespace);
  if (isObject(value)) return refFromPath(value.path, value.name, callerNamespace);
  return undefined;
}

/** The `{path, name}` form: path is `ns` or `ns/pkg`. */
export function pathForm(ref: EntityRef): { path: string; name: string } {
  return { path: ref.pkg === undefined ? ref.namespace : `${ref.namespace}/${ref.pkg}`, name: ref.name };
}

/** `ns/pkg/name` from the `{path, name}` form. */
export function pathFormString(p: { path: string; name: string }): string {
  return `${p.path}/${p.name}`;
}

/** Every entity of a type in a namespace (or package), newest first, paging through the store. */
export async function listAll(
  entities: Entities,
  namespace: string,
  type: EntityType,
  pkg?: string,
): Promise<EntityDoc[]> {
  const out: EntityDoc[] = [];
  const page = 200;
  for (let skip = 0; ; skip += page) {
    const docs = await entities.list(namespace, type, {
      skip,
      limit: page,
      ...(pkg === undefined ? {} : { pkg }),
    });
    out.push(...docs);
    if (docs.length < page) return out;
  }
}
