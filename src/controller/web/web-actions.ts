/**
 * Web action URLs (spec §4.1): `/api/v1/web/{namespace}/{package|default}/{action}[.ext][/more/path]`,
 * every method, no credentials needed. A few platform endpoints live at web action URLs too (the
 * `whisk.system/apimgmt` API management actions); they are served built in.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.js';
import { isValidName, type EntityRef } from '../../core/names.js';
import type { ControllerDeps } from '../http.js';
import { runWebAction } from './invoke.js';
import { EXTENSIONS, type Extension } from './response.js';

export const WEB_PREFIX = '/api/v1/web/';

export interface WebPath {
  namespace: string;
  action: EntityRef;
  ext: Extension;
  /** Everything after the action segment, as sent (`/a/b`, or '' when nothing follows). */
  rest: string;
}

/** A request handler that answers at a web action URL instead of an action. */
export type BuiltinWebHandler = (
  req: FastifyRequest,
  reply: FastifyReply,
  path: WebPath,
) => Promise<FastifyReply>;

/** `name.ext` → name and extension; a name without a known extension is `.http` (spec §4.1). */
export function splitExtension(segment: string): { name: string; ext: Extension } {
  for (const ext of EXTENSIONS) {
    const suffix = `.${ext}`;
    if (segment.length > suffix.length && segment.endsWith(suffix)) {
      return { name: segment.slice(0, -suffix.length), ext };
    }
  }
  return { name: segment, ext: 'http' };
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Parses a web action URL (query ignored); undefined when it names no possible action. */
export function parseWebPath(url: string): WebPath | undefined {
  const path = url.split('?', 1)[0]!;
  if (!path.startsWith(WEB_PREFIX)) return undefined;
  const segments = path.slice(WEB_PREFIX.length).split('/');
  if (segments.length < 3) return undefined;
  const [ns, pkg, last] = segments.map(decodeSegment);
  if (ns === undefined || pkg === undefined || last === undefined) return undefined;
  const { name, ext } = splitExtension(last);
  if (!isValidName(ns) || !isValidName(pkg) || !isValidName(name)) return undefined;
  const rest = segments.length > 3 ? `/${segments.slice(3).join('/')}` : '';
  return {
    namespace: ns,
    action: pkg === 'default' ? { namespace: ns, name } : { namespace: ns, pkg, name },
    ext,
    rest,
  };
}

export function webActionHandler(deps: ControllerDeps, builtins: ReadonlyMap<string, BuiltinWebHandler>) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const parsed = parseWebPath(req.url);
    if (parsed === undefined) throw notFound();
    const { namespace, action } = parsed;
    const builtin = builtins.get(`${namespace}/${action.pkg ?? 'default'}/${action.name}`);
    if (builtin !== undefined) return builtin(req, reply, parsed);
    return runWebAction(deps, req, reply, {
      namespace,
      action,
      ext: parsed.ext,
      path: parsed.rest,
    });
  };
}
