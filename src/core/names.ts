/**
 * Entity names and paths, as OpenWhisk defines them (spec §1.7): a name is 1..256 characters, starts with a
 * word character, continues with word characters, `@`, `.`, `&`, `-` or spaces, and does not end in a space.
 * Paths are `/namespace[/package]/name`; `_` stands for the caller's namespace.
 */
import { Messages, WhirlError } from './errors.js';

export const MAX_NAME_LENGTH = 256;
export const DEFAULT_NAMESPACE = '_';

// `\w` in Java's regex is ASCII-only, as it is in JavaScript without the `u` flag's \p classes.
const NAME = /^(?:\w|\w[\w@ .&-]{0,254}[\w@.&-])$/;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

/** Throws the spec's 400 for a bad path segment. */
export function checkName(name: string): string {
  if (name.length > MAX_NAME_LENGTH)
    throw new WhirlError(400, Messages.nameTooLong(name.length, MAX_NAME_LENGTH));
  if (!NAME.test(name)) throw new WhirlError(400, Messages.illegalName);
  return name;
}

/** A namespace-relative entity path: `name` in the default package, or `pkg/name`. */
export interface EntityRef {
  namespace: string;
  /** Package name when the entity lives inside a package. */
  pkg?: string;
  name: string;
}

/** `pkg/name` or `name`: the key of an entity inside its namespace. */
export function entityPath(ref: { pkg?: string | undefined; name: string }): string {
  return ref.pkg === undefined ? ref.name : `${ref.pkg}/${ref.name}`;
}

/** `ns/pkg/name` without the leading slash, as used in annotations and activation records. */
export function qualifiedPath(ref: EntityRef): string {
  return `${ref.namespace}/${entityPath(ref)}`;
}

/** `/ns/pkg/name`, as used in sequence components, rule targets and `__OW_ACTION_NAME`. */
export function fullyQualified(ref: EntityRef): string {
  return `/${qualifiedPath(ref)}`;
}

/**
 * The package name that means "no package" in web action URLs (`/api/v1/web/ns/default/a`) and in API
 * documents (`x-openwhisk.package`); no package can have it.
 */
export const NO_PACKAGE = 'default';

/**
 * Resolves a user-supplied name the way OpenWhisk clients do: `/ns/pkg/a`, `/ns/a`, `ns/pkg/a` (three parts
 * may omit the slash), `pkg/a` and `a` are relative to `defaultNamespace`. Returns undefined when the shape is
 * impossible; segments are validated by the caller with checkName.
 */
export function parseQualifiedName(input: string, defaultNamespace: string): EntityRef | undefined {
  const absolute = input.startsWith('/');
  const parts = (absolute ? input.slice(1) : input).split('/');
  if (parts.some((p) => p.length === 0)) return undefined;
  const resolveNs = (ns: string) => (ns === DEFAULT_NAMESPACE ? defaultNamespace : ns);
  if (absolute) {
    if (parts.length === 2) return { namespace: resolveNs(parts[0]!), name: parts[1]! };
    if (parts.length === 3) return { namespace: resolveNs(parts[0]!), pkg: parts[1]!, name: parts[2]! };
    return undefined;
  }
  if (parts.length === 1) return { namespace: defaultNamespace, name: parts[0]! };
  if (parts.length === 2) return { namespace: defaultNamespace, pkg: parts[0]!, name: parts[1]! };
  if (parts.length === 3) return { namespace: resolveNs(parts[0]!), pkg: parts[1]!, name: parts[2]! };
  return undefined;
}
