/**
 * A small typed client for Whirl's (OpenWhisk v1) REST API, used by the CLI and by end-to-end tests.
 * Node's http/https with keep-alive, Basic auth, optional acceptance of self-signed certificates, an
 * overall timeout per request, and a hook that sees every exchange (with the key masked) for `--verbose`.
 *
 * Non-2xx answers throw `WhirlApiError {status, error, code}`; failures to talk to the server at all
 * throw `WhirlConnectionError`. Entity collections share `EntityCollection`: actions, packages, triggers,
 * rules and published APIs each subclass it with their own verbs (invoke, fire, enable, route...).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { UsageError } from './args.js';
import { parseEntityName, type EntityName } from './names.js';
import type {
  Action,
  ActionPut,
  Activation,
  ActivationResponseJson,
  ActivationSummary,
  ApiInfo,
  ApiRouteInput,
  ApiSummary,
  BindingRef,
  Entity,
  KeyValue,
  Limits,
  Package,
  PackagePut,
  Rule,
  RulePut,
  Trigger,
  TriggerPut,
} from './types.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface ClientOptions {
  /** `http(s)://host[:port]` (no `/api`), e.g. `http://127.0.0.1:3233`. */
  apihost: string;
  /** `uuid:key`; requests that need it fail with 401 without it. */
  auth?: string | undefined;
  apiversion?: string | undefined;
  /** Namespace used for names without one (default `_`, the key's own). */
  namespace?: string | undefined;
  /** Accept self-signed / invalid TLS certificates. */
  insecure?: boolean | undefined;
  /** Overall time limit of one request (default 120 s). */
  timeoutMs?: number | undefined;
  userAgent?: string | undefined;
  /** Sees each exchange after it ends (authorization already masked). */
  onExchange?: ((e: Exchange) => void) | undefined;
}

export interface RequestOptions {
  query?: Query | undefined;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is with this content type (instead of `body`), e.g. a YAML document. */
  rawBody?: { text: string; contentType: string } | undefined;
  /** Return the answer's text without parsing it (e.g. YAML). */
  rawResponse?: boolean | undefined;
  headers?: Record<string, string> | undefined;
  timeoutMs?: number | undefined;
  /** Send the Authorization header (default true). */
  auth?: boolean | undefined;
  /** Statuses outside 2xx that are answers, not errors (the body is returned). */
  accept?: ((status: number, headers: IncomingHttpHeaders) => boolean) | undefined;
}

export interface ApiResponse<T> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
}

export interface Exchange {
  method: string;
  url: string;
  /** Request headers; the authorization value is masked. */
  requestHeaders: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseHeaders?: IncomingHttpHeaders;
  responseBody?: string;
  durationMs: number;
  error?: Error;
}

export const MASKED = '[masked]';

/** The server said no: HTTP status, the envelope's `error` and `code` (the request id). */
export class WhirlApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: string | undefined,
    readonly body: unknown,
    readonly method = '',
    readonly url = '',
  ) {
    super(`${error}${code === undefined ? '' : ` (code ${code})`}`);
    this.name = 'WhirlApiError';
  }
}

/** No answer at all: refused, unknown host, TLS failure, timeout... `code` is Node's (ECONNREFUSED...). */
export class WhirlConnectionError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly url: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'WhirlConnectionError';
  }
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** Server-side default and maximum wait of a blocking invoke (spec §1.4). */
export const BLOCKING_WAIT_MS = 60_000;

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; errors?: { code?: unknown }[] };
  if (typeof e.code === 'string') return e.code;
  const inner = e.errors?.find((x) => typeof x.code === 'string')?.code;
  return typeof inner === 'string' ? inner : 'EUNKNOWN';
}

function parseBody(text: string, headers: IncomingHttpHeaders): unknown {
  if (text === '') return undefined;
  const type = headers['content-type'] ?? '';
  if (type.includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export class WhirlClient {
  readonly apihost: string;
  readonly apiversion: string;
  readonly namespace: string;
  readonly actions: ActionsApi;
  readonly packages: PackagesApi;
  readonly triggers: TriggersApi;
  readonly rules: RulesApi;
  readonly apis: ApisApi;
  readonly activations: ActivationsApi;
  readonly namespaces: NamespacesApi;
  private readonly agent: http.Agent;
  private readonly authHeader: string | undefined;

  constructor(private readonly o: ClientOptions) {
    this.apihost = o.apihost.replace(/\/+$/, '');
    this.apiversion = o.apiversion ?? 'v1';
    this.namespace = o.namespace ?? '_';
    const secure = this.apihost.startsWith('https:');
    this.agent = secure
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: o.insecure !== true })
      : new http.Agent({ keepAlive: true });
    this.authHeader = o.auth === undefined ? undefined : `Basic ${Buffer.from(o.auth).toString('base64')}`;
    this.actions = new ActionsApi(this, 'actions');
    this.packages = new PackagesApi(this, 'packages', false);
    this.triggers = new TriggersApi(this, 'triggers', false);
    this.rules = new RulesApi(this, 'rules', false);
    this.apis = new ApisApi(this);
    this.activations = new ActivationsApi(this);
    this.namespaces = new NamespacesApi(this);
  }

  /** `<apihost>/api/<version>` */
  get baseUrl(): string {
    return `${this.apihost}/api/${this.apiversion}`;
  }

  /** Path under the base URL for the given segments, each URL-encoded. */
  path(...segments: string[]): string {
    return `/${segments.map(encodeURIComponent).join('/')}`;
  }

  /** Parses a user-typed entity name against this client's default namespace. */
  name(name: string | EntityName): EntityName {
    return typeof name === 'string' ? parseEntityName(name, this.namespace) : name;
  }

  /** `GET /api/v1`: API version and build (no authentication). */
  async info(): Promise<ApiInfo> {
    return (await this.request<ApiInfo>('GET', '', { auth: false })).body;
  }

  /**
   * One request: `path` is relative to `<apihost>/api/<version>` unless it starts with `/api/`.
   * Resolves for 2xx (and statuses `accept` admits), throws WhirlApiError / WhirlConnectionError otherwise.
   */
  request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<ApiResponse<T>> {
    const base = path.startsWith('/api/') ? this.apihost : this.baseUrl;
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const body = o.rawBody?.text ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const contentType = o.rawBody?.contentType ?? 'application/json';
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.o.userAgent ?? 'whirl-cli',
      ...(body === undefined
        ? {}
        : { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) }),
      ...o.headers,
    };
    if (o.auth !== false && this.authHeader !== undefined) headers.authorization = this.authHeader;
    const shown = {
      ...headers,
      ...(headers.authorization === undefined ? {} : { authorization: `Basic ${MASKED}` }),
    };
    const started = Date.now();
    const exchange: Exchange = { method, url: url.toString(), requestHeaders: shown, durationMs: 0 };
    if (body !== undefined) exchange.requestBody = body;
    const report = () => {
      exchange.durationMs = Date.now() - started;
      this.o.onExchange?.(exchange);
    };

    return new Promise<ApiResponse<T>>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const timeoutMs = o.timeoutMs ?? this.o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let timedOut = false;
      const req = transport.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(err));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          exchange.status = status;
          exchange.responseHeaders = res.headers;
          exchange.responseBody = text;
          report();
          const ok = (status >= 200 && status < 300) || o.accept?.(status, res.headers) === true;
          if (ok && o.rawResponse === true) {
            resolve({ status, headers: res.headers, body: text as T });
            return;
          }
          const parsed = parseBody(text, res.headers);
          if (ok) {
            resolve({ status, headers: res.headers, body: parsed as T });
            return;
          }
          const envelope = (parsed ?? {}) as { error?: unknown; code?: unknown };
          const message =
            typeof envelope.error === 'string'
              ? envelope.error
              : typeof parsed === 'string' && parsed.trim() !== ''
                ? parsed.trim().slice(0, 500)
                : `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
          const rid = typeof envelope.code === 'string' ? envelope.code : res.headers['x-request-id'];
          reject(
            new WhirlApiError(
              status,
              message,
              typeof rid === 'string' ? rid : undefined,
              parsed,
              method,
              url.toString(),
            ),
          );
        });
      });
      const fail = (err: unknown) => {
        clearTimeout(timer);
        const error = err instanceof Error ? err : new Error(String(err));
        exchange.error = error;
        report();
        if (timedOut) {
          reject(
            new WhirlConnectionError(
              `no answer within ${Math.round(timeoutMs / 1000)} s`,
              'ETIMEDOUT',
              url.toString(),
              err,
            ),
          );
        } else {
          const code = errorCode(err);
          reject(new WhirlConnectionError(error.message || code, code, url.toString(), err));
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error('timeout'));
      }, timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Closes idle keep-alive connections (lets a short-lived process exit promptly). */
  close(): void {
    this.agent.destroy();
  }
}

export interface ListOptions {
  /** Namespace to list (default: the client's). */
  namespace?: string | undefined;
  limit?: number | undefined;
  skip?: number | undefined;
}

/** list / get / put / delete over one entity collection (`actions`, `packages`, `triggers`, `rules`). */
export class EntityCollection<E extends Entity, P> {
  constructor(
    protected readonly client: WhirlClient,
    readonly collection: string,
    /** Whether names may carry a package (`pkg/name`). */
    protected readonly inPackages = true,
  ) {}

  protected entityPath(name: string | EntityName): string {
    const e = this.client.name(name);
    if (e.pkg !== undefined && !this.inPackages) {
      throw new UsageError(`${this.collection} cannot live in packages: '${e.pkg}/${e.name}'`);
    }
    const rest = e.pkg === undefined ? [e.name] : [e.pkg, e.name];
    return this.client.path('namespaces', e.namespace, this.collection, ...rest);
  }

  async list(o: ListOptions & { pkg?: string | undefined } = {}): Promise<E[]> {
    const ns = o.namespace ?? this.client.namespace;
    const base = this.client.path('namespaces', ns, this.collection);
    const path = o.pkg === undefined ? base : `${base}/${encodeURIComponent(o.pkg)}/`;
    return (await this.client.request<E[]>('GET', path, { query: { limit: o.limit, skip: o.skip } })).body;
  }

  async count(o: { namespace?: string | undefined } = {}): Promise<number> {
    const path = this.client.path('namespaces', o.namespace ?? this.client.namespace, this.collection);
    const body = (await this.client.request<Record<string, number>>('GET', path, { query: { count: true } }))
      .body;
    return body[this.collection] ?? 0;
  }

  async get(name: string | EntityName, query?: Query): Promise<E> {
    return (await this.client.request<E>('GET', this.entityPath(name), { query })).body;
  }

  async put(name: string | EntityName, body: P, o: { overwrite?: boolean } = {}): Promise<E> {
    const query = { overwrite: o.overwrite === true ? true : undefined };
    return (await this.client.request<E>('PUT', this.entityPath(name), { body, query })).body;
  }

  async delete(name: string | EntityName, query?: Query): Promise<E> {
    return (await this.client.request<E>('DELETE', this.entityPath(name), { query })).body;
  }
}

export interface InvokeOptions {
  /** Wait for the result (up to the server's limit, 60 s). */
  blocking?: boolean;
  /** Only the result (implies blocking). */
  result?: boolean;
  /** Blocking wait in ms (1..60000). */
  timeout?: number;
}

export interface InvokeOutcome {
  /** 200 success, 202 not finished (or non-blocking), 502 action failed, 500 whisk error. */
  status: number;
  activationId: string | undefined;
  /** The activation, the result (`result`), or `{activationId}` (202). */
  body: unknown;
  /** True on 202: the activation was started but has no result (yet). */
  pending: boolean;
}

export class ActionsApi extends EntityCollection<Action, ActionPut> {
  /**
   * Invokes the action. Failed activations (502/500 carrying an activation id) are outcomes, not
   * exceptions: the caller looks at `status` and the body.
   */
  async invoke(
    name: string | EntityName,
    params: Record<string, unknown> = {},
    o: InvokeOptions = {},
  ): Promise<InvokeOutcome> {
    const blocking = o.blocking === true || o.result === true;
    const wait = o.timeout ?? BLOCKING_WAIT_MS;
    const res = await this.client.request<unknown>('POST', this.entityPath(name), {
      body: params,
      query: {
        blocking: blocking ? true : undefined,
        result: o.result === true ? true : undefined,
        timeout: o.timeout,
      },
      // The server answers when the wait ends; leave room for the answer to travel.
      timeoutMs: blocking ? wait + 30_000 : undefined,
      accept: (status, headers) =>
        (status === 502 || status === 500) && headers['x-openwhisk-activation-id'] !== undefined,
    });
    const header = res.headers['x-openwhisk-activation-id'];
    const fromBody = (res.body as { activationId?: unknown } | undefined)?.activationId;
    const activationId =
      typeof header === 'string' ? header : typeof fromBody === 'string' ? fromBody : undefined;
    return { status: res.status, activationId, body: res.body, pending: res.status === 202 };
  }
}

export class PackagesApi extends EntityCollection<Package, PackagePut> {
  /** Creates (or with `overwrite`, updates) `binding` as a binding of the package `target`. */
  async bind(
    binding: string | EntityName,
    target: BindingRef,
    o: { parameters?: KeyValue[]; annotations?: KeyValue[]; overwrite?: boolean } = {},
  ): Promise<Package> {
    const body: PackagePut = { binding: { namespace: target.namespace, name: target.name } };
    if (o.parameters !== undefined) body.parameters = o.parameters;
    if (o.annotations !== undefined) body.annotations = o.annotations;
    return this.put(binding, body, { overwrite: o.overwrite });
  }

  /** Deletes the package; `force` deletes the actions inside it too. */
  async remove(name: string | EntityName, o: { force?: boolean } = {}): Promise<Package> {
    return this.delete(name, { force: o.force === true ? true : undefined });
  }
}

export interface FireOutcome {
  /** 202: rules ran (see the trigger activation); 204: no active rule, nothing ran, no record. */
  status: number;
  activationId: string | undefined;
}

export class TriggersApi extends EntityCollection<Trigger, TriggerPut> {
  /** Fires the trigger with `payload` (merged over the trigger's parameters). */
  async fire(name: string | EntityName, payload: Record<string, unknown> = {}): Promise<FireOutcome> {
    const res = await this.client.request<{ activationId?: unknown } | undefined>(
      'POST',
      this.entityPath(name),
      { body: payload },
    );
    const id = res.body?.activationId;
    return { status: res.status, activationId: typeof id === 'string' ? id : undefined };
  }
}

export type RuleStatus = 'active' | 'inactive';

export class RulesApi extends EntityCollection<Rule, RulePut> {
  /** Enables (`active`) or disables (`inactive`) the rule; the same state again is a no-op. */
  async setStatus(name: string | EntityName, status: RuleStatus): Promise<Rule> {
    return (await this.client.request<Rule>('POST', this.entityPath(name), { body: { status } })).body;
  }
}

/**
 * Published APIs (Whirl's `/namespaces/{ns}/apis`, docs/api-gateway.md). An API is addressed by its base
 * path (`/library`) or its name; `POST` adds a route, `PUT` imports an OpenAPI document, `GET` of one API
 * exports it as OpenAPI, `DELETE` removes the API or some of its routes.
 */
export class ApisApi extends EntityCollection<ApiSummary, never> {
  constructor(client: WhirlClient) {
    super(client, 'apis', false);
  }

  /** `/library` → `apis/library`, `/` → `apis/`, a name → `apis/<name>`. */
  protected override entityPath(basePathOrName: string | EntityName): string {
    if (typeof basePathOrName !== 'string') throw new UsageError('an API is named by its base path or name');
    const base = this.client.path('namespaces', this.client.namespace, 'apis');
    if (!basePathOrName.startsWith('/')) return `${base}/${encodeURIComponent(basePathOrName)}`;
    const segments = basePathOrName.split('/').filter((s) => s !== '');
    return `${base}/${segments.map(encodeURIComponent).join('/')}`;
  }

  private get collectionPath(): string {
    return this.client.path('namespaces', this.client.namespace, 'apis');
  }

  /** Every API of the namespace (paging through the list). */
  async listAll(): Promise<ApiSummary[]> {
    const out: ApiSummary[] = [];
    const page = 200;
    for (let skip = 0; ; skip += page) {
      const items = await this.list({ limit: page, skip });
      out.push(...items);
      if (items.length < page) return out;
    }
  }

  /** The API with this base path or name (from the list); a 404 WhirlApiError when there is none. */
  override async get(basePathOrName: string | EntityName): Promise<ApiSummary> {
    if (typeof basePathOrName !== 'string') throw new UsageError('an API is named by its base path or name');
    const wanted = basePathOrName.startsWith('/') ? normalizeBasePath(basePathOrName) : undefined;
    const all = await this.listAll();
    const found =
      all.find((a) => wanted !== undefined && a.basePath === wanted) ??
      all.find((a) => a.name === basePathOrName);
    if (found === undefined) {
      throw new WhirlApiError(404, `API '${basePathOrName}' does not exist.`, undefined, undefined, 'GET');
    }
    return found;
  }

  /** Adds one route (replacing the same method on the same path), creating the API if needed. */
  async addRoute(route: ApiRouteInput): Promise<ApiSummary> {
    return (await this.client.request<ApiSummary>('POST', this.collectionPath, { body: route })).body;
  }

  /** Creates the API an OpenAPI document (JSON or YAML text) describes; `overwrite` replaces one. */
  async importDocument(text: string, o: { yaml?: boolean; overwrite?: boolean } = {}): Promise<ApiSummary> {
    const contentType = o.yaml === true ? 'application/yaml' : 'application/json';
    const res = await this.client.request<ApiSummary>('PUT', this.collectionPath, {
      rawBody: { text, contentType },
      query: { overwrite: o.overwrite === true ? true : undefined },
    });
    return res.body;
  }

  /** The API as an OpenAPI document: JSON text, or YAML text. */
  async exportDocument(basePathOrName: string, format: 'json' | 'yaml' = 'json'): Promise<string> {
    const res = await this.client.request<string>('GET', this.entityPath(basePathOrName), {
      query: { format },
      rawResponse: true,
    });
    return res.body;
  }

  /** Deletes the API, or its routes on `path` (and `method`); answers with what was removed. */
  async remove(basePathOrName: string, path?: string, method?: string): Promise<ApiSummary> {
    return this.delete(basePathOrName, { path, method: method?.toLowerCase() });
  }
}

/** `/library/` → `/library`; `/` stays. */
export function normalizeBasePath(path: string): string {
  const segments = path.split('/').filter((s) => s !== '');
  return `/${segments.join('/')}`;
}

export interface ActivationListOptions extends ListOptions {
  /** `action` or `package/action`. */
  name?: string | undefined;
  /** Epoch ms: only activations that started at or after. */
  since?: number | undefined;
  /** Epoch ms: only activations that started at or before. */
  upto?: number | undefined;
}

export class ActivationsApi {
  constructor(private readonly client: WhirlClient) {}

  private base(namespace?: string): string {
    return this.client.path('namespaces', namespace ?? this.client.namespace, 'activations');
  }

  private query(o: ActivationListOptions): Query {
    return { limit: o.limit, skip: o.skip, name: o.name, since: o.since, upto: o.upto };
  }

  /** Summaries, newest first. */
  async list(o: ActivationListOptions = {}): Promise<ActivationSummary[]> {
    return (
      await this.client.request<ActivationSummary[]>('GET', this.base(o.namespace), { query: this.query(o) })
    ).body;
  }

  /** Full records (`docs=true`), newest first. */
  async listFull(o: ActivationListOptions = {}): Promise<Activation[]> {
    const query = { ...this.query(o), docs: true };
    return (await this.client.request<Activation[]>('GET', this.base(o.namespace), { query })).body;
  }

  async count(o: Omit<ActivationListOptions, 'limit' | 'skip'> = {}): Promise<number> {
    const query = { ...this.query(o), count: true };
    const body = (
      await this.client.request<{ activations?: number }>('GET', this.base(o.namespace), { query })
    ).body;
    return body.activations ?? 0;
  }

  async get(id: string, namespace?: string): Promise<Activation> {
    return (await this.client.request<Activation>('GET', `${this.base(namespace)}/${encodeURIComponent(id)}`))
      .body;
  }

  async logs(id: string, namespace?: string): Promise<string[]> {
    const path = `${this.base(namespace)}/${encodeURIComponent(id)}/logs`;
    return (await this.client.request<{ logs?: string[] }>('GET', path)).body.logs ?? [];
  }

  async result(id: string, namespace?: string): Promise<ActivationResponseJson> {
    const path = `${this.base(namespace)}/${encodeURIComponent(id)}/result`;
    return (await this.client.request<ActivationResponseJson>('GET', path)).body;
  }
}

export class NamespacesApi {
  constructor(private readonly client: WhirlClient) {}

  /** The namespaces the key may use (Whirl: the key's own). */
  async list(): Promise<string[]> {
    return (await this.client.request<string[]>('GET', '/namespaces')).body;
  }

  async limits(namespace?: string): Promise<Limits> {
    const path = this.client.path('namespaces', namespace ?? this.client.namespace, 'limits');
    return (await this.client.request<Limits>('GET', path)).body;
  }
}
