/**
 * Entity names as users type them (spec §1.7): `name`, `pkg/name`, `/ns/name`, `/ns/pkg/name`, or
 * `ns/pkg/name` (a three-part name may omit the leading slash). `_` is the caller's namespace.
 */
import { UsageError } from './args.js';

export interface EntityName {
  namespace: string;
  pkg?: string;
  name: string;
}

export function parseEntityName(text: string, defaultNamespace = '_'): EntityName {
  const qualified = text.startsWith('/');
  const parts = (qualified ? text.slice(1) : text).split('/');
  if (text === '' || parts.some((p) => p === ''))
    throw new UsageError(`'${text}' is not a valid entity name`);
  if (qualified) {
    if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
    if (parts.length === 3) return { namespace: parts[0]!, pkg: parts[1]!, name: parts[2]! };
    throw new UsageError(
      `'${text}' is not a valid entity name: use /NAMESPACE/NAME or /NAMESPACE/PACKAGE/NAME`,
    );
  }
  if (parts.length === 1) return { namespace: defaultNamespace, name: parts[0]! };
  if (parts.length === 2) return { namespace: defaultNamespace, pkg: parts[0]!, name: parts[1]! };
  if (parts.length === 3) return { namespace: parts[0]!, pkg: parts[1]!, name: parts[2]! };
  throw new UsageError(`'${text}' is not a valid entity name: packages do not nest`);
}

/** `/ns/[pkg/]name`. */
export function qualifiedName(e: EntityName): string {
  return `/${e.namespace}/${e.pkg === undefined ? '' : `${e.pkg}/`}${e.name}`;
}

/** A sequence component, fully qualified: `a` → `/_/a`, `pkg/a` → `/_/pkg/a`. */
export function qualifyComponent(text: string, defaultNamespace = '_'): string {
  return qualifiedName(parseEntityName(text.trim(), defaultNamespace));
}

/** `/ns` or `ns` (a namespace given where a list command expects one). */
export function isNamespaceOnly(text: string): boolean {
  return /^\/[^/]+\/?$/.test(text);
}

/** `[/NAMESPACE | /NAMESPACE/PACKAGE | PACKAGE]` of list commands. */
export function listScope(text: string | undefined, dflt: string): { namespace: string; pkg?: string } {
  if (text === undefined) return { namespace: dflt };
  if (isNamespaceOnly(text)) return { namespace: text.replace(/\//g, '') };
  if (text.startsWith('/')) {
    const parts = text
      .slice(1)
      .split('/')
      .filter((p) => p !== '');
    if (parts.length !== 2) throw new UsageError(`'${text}' is neither /NAMESPACE nor /NAMESPACE/PACKAGE`);
    return { namespace: parts[0]!, pkg: parts[1]! };
  }
  if (text.includes('/')) throw new UsageError(`'${text}' is neither a package name nor /NAMESPACE`);
  return { namespace: dflt, pkg: text };
}

/** `[/NAMESPACE | NAME]` of activation list/poll: the namespace and the `name` filter (`pkg/action`). */
export function activationScope(
  text: string | undefined,
  dflt: string,
): { namespace: string; name?: string } {
  if (text === undefined) return { namespace: dflt };
  if (isNamespaceOnly(text)) return { namespace: text.replace(/\//g, '') };
  const e = parseEntityName(text, dflt);
  return { namespace: e.namespace, name: e.pkg === undefined ? e.name : `${e.pkg}/${e.name}` };
}
