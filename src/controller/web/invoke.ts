/**
 * One web request, start to finish, shared by web action URLs and API gateway routes: run as the owning
 * namespace (its throttles, its activation), find an exported action, apply CORS and `require-whisk-auth`,
 * build the arguments, invoke, wait up to the blocking limit and render the result.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getAnnotation, isTruthy, type ApiSecureKey } from '../../core/entities.js';
import { Messages, WhirlError, notFound } from '../../core/errors.js';
import type { EntityRef } from '../../core/names.js';
import type { ControllerDeps } from '../http.js';
import { startActivation } from '../start-activation.js';
import type { Caller } from '../identities.js';
import { resolveAction, type ResolvedAction } from '../resolve.js';
import { corsHeaders } from './cors.js';
import { isAcceptable, mediaTypeOf } from './media.js';
import { webPayload } from './request.js';
import { responseFor, WebMessages, type Extension, type WebResponse } from './response.js';

export interface WebTarget {
  /** The namespace the request runs as: the one in a web action URL, or the API's owner. */
  namespace: string;
  action: EntityRef;
  ext: Extension;
  /** `__ow_path`. */
  path: string;
  /** Values of an API route's `{placeholders}`. */
  pathParams?: Record<string, string>;
  /**
   * What an API route presents to `require-whisk-auth` in place of the request's own: a secret (as the
   * `X-Require-Whisk-Auth` header) or `true`, the owner's credentials — as OpenWhisk's gateway does.
   */
  secureKey?: ApiSecureKey;
}

const REQUIRE_AUTH_HEADER = 'x-require-whisk-auth';

/** The caller behind valid credentials, if the request carries any; web requests never fail on bad ones. */
export async function optionalCaller(deps: ControllerDeps, req: FastifyRequest): Promise<Caller | undefined> {
  const header = req.headers.authorization;
  return header === undefined ? undefined : deps.identities.authenticate(header);
}

/** An exported action of `target.namespace` (directly, or through its package or binding); 404 otherwise. */
export async function exportedAction(
  deps: ControllerDeps,
  owner: Caller,
  ref: EntityRef,
): Promise<ResolvedAction> {
  let action: ResolvedAction;
  try {
    action = await resolveAction(deps.entities, owner, ref);
  } catch (err) {
    // Missing, foreign or in the wrong collection: a web URL says nothing more than "not here".
    if (err instanceof WhirlError) throw notFound();
    throw err;
  }
  // Only the boolean counts: the string "true" does not export an action (spec §4.1).
  if (getAnnotation(action.doc.annotations, 'web-export') !== true) throw notFound();
  return action;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `require-whisk-auth` (spec §4.3): true needs valid credentials, a string or number the matching header. */
export function authorized(
  annotation: unknown,
  headers: FastifyRequest['headers'],
  caller?: Caller,
): boolean {
  if (annotation === undefined || annotation === false) return true;
  if (annotation === true) return caller !== undefined;
  if (typeof annotation === 'string' || typeof annotation === 'number') {
    const given = headers[REQUIRE_AUTH_HEADER];
    return sameSecret(Array.isArray(given) ? given[0] : given, String(annotation));
  }
  return false;
}

export async function runWebAction(
  deps: ControllerDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  target: WebTarget,
): Promise<FastifyReply> {
  const cors = corsHeaders(req.headers);
  // Until the action says otherwise, even a 404 carries CORS headers, so that browsers can read it.
  void reply.headers(cors);
  const owner = await deps.identities.ownerOf(target.namespace);
  if (owner === undefined) throw notFound();
  const action = await exportedAction(deps, owner, target.action);
  const annotations = action.doc.annotations;
  const customOptions = getAnnotation(annotations, 'web-custom-options') === true;
  if (customOptions) {
    for (const name of Object.keys(cors)) void reply.removeHeader(name);
  } else if (req.method === 'OPTIONS') {
    return reply.code(200).send();
  }

  const key = target.secureKey;
  const caller = key === true ? owner : await optionalCaller(deps, req);
  const presented =
    key === undefined || key === true ? req.headers : { ...req.headers, [REQUIRE_AUTH_HEADER]: String(key) };
  // A custom OPTIONS handler answers preflights, which never carry credentials.
  if (
    req.method !== 'OPTIONS' &&
    !authorized(getAnnotation(annotations, 'require-whisk-auth'), presented, caller)
  ) {
    throw new WhirlError(401, Messages.unauthenticated);
  }
  // The owner's own key may go to the action (provide-api-key); nobody else's ever does.
  const runAs = caller !== undefined && caller.namespace === owner.namespace ? caller : owner;
  const url = req.url;
  const q = url.indexOf('?');
  const payload = webPayload(
    {
      method: req.method,
      headers: req.headers,
      query: q < 0 ? '' : url.slice(q + 1),
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      path: target.path,
      ...(caller === undefined ? {} : { user: caller.namespace, omitHeaders: ['authorization'] }),
    },
    {
      raw: getAnnotation(annotations, 'raw-http') === true,
      params: action.params,
      final: isTruthy(getAnnotation(annotations, 'final')),
      ...(target.pathParams === undefined ? {} : { pathParams: target.pathParams }),
    },
  );
  // runAs is of the owner's namespace, so the owner's limits apply.
  const started = await startActivation(deps, {
    caller: runAs,
    action,
    payload,
    options: { waitMs: deps.system.maxBlockingWaitMs, transactionId: req.id, receivedAt: req.receivedAt },
  });
  const activationId = started.activationId;
  void reply.header('x-openwhisk-activation-id', activationId);
  if (started.record === undefined) {
    return reply
      .code(202)
      .header('content-type', 'application/json')
      .send({ error: WebMessages.notReady, code: req.id });
  }
  return sendWebResponse(req, reply, responseFor(started.record, target.ext), activationId);
}

/** Writes a rendered response; 406 when the client does not accept its type. */
export function sendWebResponse(
  req: FastifyRequest,
  reply: FastifyReply,
  res: WebResponse,
  activationId: string,
): FastifyReply {
  if (res.contentType !== undefined && !isAcceptable(req.headers.accept, mediaTypeOf(res.contentType))) {
    throw new WhirlError(406, WebMessages.notAcceptable(res.contentType));
  }
  // The action's headers win over the defaults (a specific CORS origin, say).
  for (const [name, values] of res.headers) void reply.header(name, values.length === 1 ? values[0] : values);
  // ... but not over the platform's own.
  void reply.header('x-openwhisk-activation-id', activationId).header('x-request-id', req.id);
  void reply.code(res.status);
  return res.body === undefined ? reply.send() : reply.send(res.body);
}
