/**
 * Entity paths from the raw request URL. Segments are split before they are decoded, so an encoded slash
 * (`%2F`) stays inside its segment and is then rejected as an illegal character rather than silently
 * becoming a package separator.
 */
import { badRequest, Messages, notFound } from '../core/errors.js';
import { checkName, DEFAULT_NAMESPACE, type EntityRef } from '../core/names.js';

export interface ParsedPath {
  namespace: string;
  /** Decoded segments after the collection (`actions`, ...): [] for the collection itself. */
  rest: string[];
  /** True when the URL ended with a slash after a package name (`actions/pkg/`). */
  trailingSlash: boolean;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(Messages.illegalName);
  }
}

/** Splits `/api/v1/namespaces/{ns}/{collection}/{...}` (query removed). */
export function parseCollectionPath(rawUrl: string, collection: string, callerNamespace: string): ParsedPath {
  const path = rawUrl.split('?', 1)[0]!;
  const segments = path.split('/');
  // ['', 'api', 'v1', 'namespaces', ns, collection, ...rest]
  if (segments[5] !== collection) throw notFound();
  const ns = decode(segments[4] ?? '');
  const namespace = ns === DEFAULT_NAMESPACE ? callerNamespace : checkName(ns);
  let rest = segments.slice(6);
  const trailingSlash = rest.length > 0 && rest[rest.length - 1] === '';
  if (trailingSlash) rest = rest.slice(0, -1);
  return { namespace, rest: rest.map(decode), trailingSlash };
}

/** `[name]` or `[pkg, name]` as an EntityRef, with names checked. */
export function entityRef(namespace: string, rest: string[], allowPackage: boolean): EntityRef {
  if (rest.length === 1) return { namespace, name: checkName(rest[0]!) };
  if (rest.length === 2 && allowPackage)
    return { namespace, pkg: checkName(rest[0]!), name: checkName(rest[1]!) };
  throw notFound();
}
