/**
 * Activation records: list with filters, get, logs and result (spec §1.1, §1.5, §1.6.5).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ActivationRecord } from '../../core/activation.js';
import { ACTIVATION_ID, extendedResponse, toExtendedJson, toSummaryJson } from '../../core/activation.js';
import { badRequest, forbidden, notFound } from '../../core/errors.js';
import { DEFAULT_NAMESPACE, isValidName } from '../../core/names.js';
import type { ActivationQuery } from '../../store/store.js';
import { authenticate, type ControllerDeps } from '../http.js';
import { flag, listParams, stringParam, type Query } from '../params.js';

type Route = { Params: { ns: string; id?: string }; Querystring: Query };
type Req = FastifyRequest<Route>;

function ownNamespace(req: Req): string {
  const ns = req.params.ns === DEFAULT_NAMESPACE ? req.caller.namespace : req.params.ns;
  if (ns !== req.caller.namespace) throw forbidden();
  return ns;
}

function epoch(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`Parameter is not a valid value for epoch seconds: ${raw}`);
  return Number(raw);
}

function filters(q: Query): Omit<ActivationQuery, 'skip' | 'limit'> {
  const out: Omit<ActivationQuery, 'skip' | 'limit'> = {};
  const name = stringParam(q, 'name');
  if (name !== undefined) {
    const parts = name.split('/');
    if (parts.length > 2 || !parts.every(isValidName)) {
      throw badRequest(`Parameter may be a 'simple' name or 'package-name/simple' name: ${name}`);
    }
    out.name = name;
  }
  const since = epoch(stringParam(q, 'since'));
  const upto = epoch(stringParam(q, 'upto'));
  if (since !== undefined) out.since = since;
  if (upto !== undefined) out.upto = upto;
  return out;
}

export function activationRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);

  app.get<Route>('/api/v1/namespaces/:ns/activations', { preHandler: auth }, async (req: Req) => {
    const ns = ownNamespace(req);
    const { limit, skip, count } = listParams(req.query, 'activations');
    const docs = flag(req.query, 'docs');
    if (count && docs) throw badRequest("The parameter 'docs' is not permitted with 'count'.");
    const f = filters(req.query);
    if (count) return { activations: await deps.activations.count(ns, f) };
    const records = await deps.activations.list(ns, { ...f, limit, skip });
    return records.map(docs ? toExtendedJson : toSummaryJson);
  });

  const fetch = async (req: Req): Promise<ActivationRecord> => {
    const ns = ownNamespace(req);
    const id = req.params.id ?? '';
    if (!ACTIVATION_ID.test(id)) throw badRequest('The activation id is not valid.');
    const record = await deps.activations.get(ns, id);
    if (record === undefined) throw notFound();
    return record;
  };

  app.get<Route>('/api/v1/namespaces/:ns/activations/:id', { preHandler: auth }, async (req: Req) =>
    toExtendedJson(await fetch(req)),
  );
  app.get<Route>('/api/v1/namespaces/:ns/activations/:id/logs', { preHandler: auth }, async (req: Req) => ({
    logs: (await fetch(req)).logs,
  }));
  app.get<Route>('/api/v1/namespaces/:ns/activations/:id/result', { preHandler: auth }, async (req: Req) =>
    extendedResponse((await fetch(req)).response),
  );
}
