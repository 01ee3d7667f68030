/**
 * `whirl api create|get|delete|list`: publish REST APIs whose routes run actions, with `wsk api`'s
 * arguments and output, against Whirl's `/api/v1/namespaces/_/apis` (docs/api-gateway.md). APIs are served
 * at `APIHOST/api/gw/NAMESPACE/BASE_PATH/PATH`; the route's action runs as a web action.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError, type FlagDef } from '../args.js';
import { normalizeBasePath, WhirlApiError } from '../client.js';
import { runNoun, type Context, type Noun } from '../command.js';
import { AttemptError } from '../errors.js';
import { parseEntityName, qualifiedName } from '../names.js';
import type { ApiRouteInput, ApiSummary } from '../types.js';

export const API_VERBS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;
export const RESPONSE_TYPES = ['http', 'json', 'html', 'text', 'svg'] as const;

export function checkVerb(verb: string): string {
  const v = verb.toUpperCase();
  if (!(API_VERBS as readonly string[]).includes(v)) {
    throw new UsageError(
      `'${verb}' is not a valid API verb: use one of ${API_VERBS.map((x) => x.toLowerCase()).join(', ')}`,
    );
  }
  return v;
}

function checkPath(path: string, what: string): string {
  if (!path.startsWith('/')) throw new UsageError(`the ${what} '${path}' must begin with '/'`);
  return path;
}

/**
 * `[BASE_PATH] REL_PATH VERB ACTION`: with three arguments the base path is `/`; a first argument without
 * a leading `/` is the API's name (its base path is `/NAME`, as with `wsk`).
 */
export function parseCreateArgs(
  args: readonly string[],
  o: { apiname?: string | undefined; responseType?: string | undefined; namespace?: string } = {},
): ApiRouteInput {
  if (args.length < 3 || args.length > 4) {
    throw new UsageError(
      'give [BASE_PATH] REL_PATH VERB ACTION, or --config-file FILE (an OpenAPI document)',
    );
  }
  const [first, ...rest] = args.length === 4 ? args : ['/', ...args];
  const [path, verb, action] = rest as [string, string, string];
  let basePath = first!;
  let name = o.apiname;
  if (!basePath.startsWith('/')) {
    if (name !== undefined) throw new UsageError('give the API name once: as BASE_PATH or with --apiname');
    name = basePath;
    basePath = `/${basePath}`;
  }
  if (/[{}]/.test(basePath)) {
    throw new UsageError(`the base path '${basePath}' cannot have {parameters}: only REL_PATH can`);
  }
  const route: ApiRouteInput = {
    basePath: normalizeBasePath(basePath),
    path: checkPath(path, 'relative path'),
    method: checkVerb(verb),
    action: qualifiedName(parseEntityName(action, o.namespace ?? '_')),
  };
  const type = o.responseType?.toLowerCase();
  if (type !== undefined) {
    if (!(RESPONSE_TYPES as readonly string[]).includes(type)) {
      throw new UsageError(`--response-type is one of ${RESPONSE_TYPES.join(', ')}, not '${o.responseType}'`);
    }
    route.responseType = type;
  }
  if (name !== undefined) route.name = name;
  return route;
}

/** `/library` + `/books/{id}` → `/library/books/{id}`; a root API shows the route path alone. */
export function fullPath(basePath: string, path: string): string {
  if (basePath === '/') return path;
  return path === '/' ? basePath : `${basePath}${path}`;
}

export interface ApiRow {
  action: string;
  verb: string;
  apiName: string;
  basePath: string;
  path: string;
  url: string;
}

/** One row per route, optionally only those of one API (base path or name), path and verb. */
export function apiRows(
  apis: readonly ApiSummary[],
  filter: { api?: string | undefined; path?: string | undefined; verb?: string | undefined } = {},
): ApiRow[] {
  const base = filter.api?.startsWith('/') === true ? normalizeBasePath(filter.api) : undefined;
  const rows: ApiRow[] = [];
  for (const api of apis) {
    if (filter.api !== undefined && api.basePath !== base && api.name !== filter.api) continue;
    for (const r of api.routes) {
      if (filter.path !== undefined && r.path !== filter.path.replace(/(.)\/$/, '$1')) continue;
      if (filter.verb !== undefined && r.method !== filter.verb.toUpperCase()) continue;
      rows.push({
        action: r.action,
        verb: r.method.toLowerCase(),
        apiName: api.name,
        basePath: api.basePath,
        path: r.path,
        url: r.url,
      });
    }
  }
  return rows;
}

export function sortRows(rows: readonly ApiRow[]): ApiRow[] {
  const key = (r: ApiRow) => [r.basePath, r.path, r.verb];
  return [...rows].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i++) {
      const d = x[i]!.localeCompare(y[i]!);
      if (d !== 0) return d;
    }
    return 0;
  });
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

/** `wsk api list`'s table: action (up to 40 wide), verb, API name (up to 30), URL. */
export function apiTable(rows: readonly ApiRow[]): string[] {
  const aw = Math.min(40, Math.max('Action'.length, ...rows.map((r) => r.action.length)));
  const nw = Math.min(30, Math.max('API Name'.length, ...rows.map((r) => r.apiName.length)));
  const line = (a: string, v: string, n: string, u: string) =>
    `${clip(a, aw).padEnd(aw)} ${v.padStart(7)} ${clip(n, nw).padStart(nw + 1)}  ${u}`;
  return [
    line('Action', 'Verb', 'API Name', 'URL'),
    ...rows.map((r) => line(r.action, r.verb, r.apiName, r.url)),
  ];
}

/** `--full`: every field of each route on its own line. */
export function apiFullList(rows: readonly ApiRow[]): string[] {
  return rows.flatMap((r) => [
    `Action: ${r.action}`,
    `  API Name: ${r.apiName}`,
    `  Base path: ${r.basePath}`,
    `  Path: ${r.path}`,
    `  Verb: ${r.verb}`,
    `  URL: ${r.url}`,
  ]);
}

function printWebExported(ctx: Context, api: ApiSummary): void {
  for (const a of api.webExported ?? []) {
    ctx.ok(`made ${a} a web action (web-export: true) so that the API can run it`);
  }
}

function printRoute(ctx: Context, api: ApiSummary, route: ApiSummary['routes'][number]): void {
  ctx.ok(`created API ${fullPath(api.basePath, route.path)} ${route.method} for action ${route.action}`);
  ctx.line(route.url);
}

async function createFromFile(ctx: Context, file: string): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config-file: cannot read '${file}' (${(err as Error).message})`);
  }
  let json = true;
  try {
    JSON.parse(text);
  } catch {
    json = false;
  }
  const yaml = !json || ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  const client = ctx.client();
  let api: ApiSummary;
  let replaced = false;
  try {
    api = await ctx.attempt('create API', () => client.apis.importDocument(text, { yaml }));
  } catch (err) {
    const cause = err instanceof AttemptError ? err.cause : undefined;
    if (
      !(cause instanceof WhirlApiError) ||
      cause.status !== 409 ||
      cause.error !== 'resource already exists'
    )
      throw err;
    // As with `wsk`, a document replaces the API at its base path; unlike `wsk`, we say so.
    api = await ctx.attempt('replace API', () => client.apis.importDocument(text, { yaml, overwrite: true }));
    replaced = true;
  }
  printWebExported(ctx, api);
  if (replaced) ctx.ok(`replaced the API that was at ${api.basePath} ('${api.name}')`);
  for (const r of api.routes) printRoute(ctx, api, r);
}

async function createApi(ctx: Context): Promise<void> {
  const file = ctx.args.string('config-file');
  const args = ctx.args.positionals;
  if (file !== undefined) {
    if (args.length > 0) throw new UsageError('--config-file takes no other arguments');
    if (ctx.args.has('apiname') || ctx.args.has('response-type'))
      throw new UsageError(
        '--apiname and --response-type do not apply with --config-file (the document says)',
      );
    return createFromFile(ctx, file);
  }
  const input = parseCreateArgs(args, {
    apiname: ctx.args.string('apiname'),
    responseType: ctx.args.string('response-type'),
    namespace: ctx.namespace,
  });
  const client = ctx.client();
  const api = await ctx.attempt('create API', () => client.apis.addRoute(input));
  printWebExported(ctx, api);
  const wanted = input.path.replace(/(.)\/$/, '$1');
  const route = api.routes.find((r) => r.path === wanted && r.method === input.method) ?? api.routes.at(-1);
  if (route !== undefined) printRoute(ctx, api, route);
}

async function getApi(ctx: Context): Promise<void> {
  const which = ctx.args.positionals[0]!;
  const client = ctx.client();
  if (ctx.args.bool('full')) {
    const api = await ctx.attempt(`get API '${which}'`, () => client.apis.get(which));
    ctx.json(api);
    return;
  }
  const format = (ctx.args.string('format') ?? 'json').toLowerCase();
  if (format !== 'json' && format !== 'yaml')
    throw new UsageError(`--format is json or yaml, not '${format}'`);
  const text = await ctx.attempt(`get API '${which}'`, () => client.apis.exportDocument(which, format));
  // No `ok:` line: the output is the document, ready to edit and give back to --config-file.
  if (format === 'yaml') ctx.io.out(text.endsWith('\n') ? text : `${text}\n`);
  else ctx.json(JSON.parse(text) as unknown);
}

async function deleteApi(ctx: Context): Promise<void> {
  const [which, path, verb] = ctx.args.positionals as [string, string | undefined, string | undefined];
  if (path !== undefined) checkPath(path, 'relative path');
  const method = verb === undefined ? undefined : checkVerb(verb);
  const client = ctx.client();
  await ctx.attempt(`delete API '${which}'`, () => client.apis.remove(which, path, method));
  if (path === undefined) ctx.ok(`deleted API ${which}`);
  else if (method === undefined) ctx.ok(`deleted ${path} from ${which}`);
  else ctx.ok(`deleted ${path} ${method} from ${which}`);
}

async function listApis(ctx: Context): Promise<void> {
  const [api, path, verb] = ctx.args.positionals as [
    string | undefined,
    string | undefined,
    string | undefined,
  ];
  if (path !== undefined) checkPath(path, 'relative path');
  if (verb !== undefined) checkVerb(verb);
  const client = ctx.client();
  const limit = ctx.args.number('limit');
  const skip = ctx.args.number('skip');
  const apis = await ctx.attempt('list APIs', () =>
    api === undefined && (limit !== undefined || skip !== undefined)
      ? client.apis.list({ limit, skip })
      : client.apis.listAll(),
  );
  let rows = apiRows(apis, { api, path, verb });
  if (ctx.args.bool('name-sort')) rows = sortRows(rows);
  ctx.ok('APIs');
  for (const l of ctx.args.bool('full') ? apiFullList(rows) : apiTable(rows)) ctx.line(l);
}

const CREATE_FLAGS: FlagDef[] = [
  {
    long: 'apiname',
    short: 'n',
    kind: 'string',
    arg: 'NAME',
    help: 'name of the API (default: its base path)',
  },
  {
    long: 'config-file',
    short: 'c',
    kind: 'string',
    arg: 'FILE',
    help: 'create the API an OpenAPI document describes (JSON or YAML; replaces one at its base path)',
  },
  {
    long: 'response-type',
    kind: 'string',
    arg: 'TYPE',
    help: 'how the result becomes the answer: json (default), http, html, text or svg',
  },
];

const LIST_FLAGS: FlagDef[] = [
  { long: 'skip', short: 's', kind: 'number', arg: 'N', help: 'skip this many APIs from the start' },
  { long: 'limit', short: 'l', kind: 'number', arg: 'N', help: 'list at most N APIs' },
  { long: 'name-sort', short: 'n', kind: 'boolean', help: 'sort by base path, path, then verb' },
  { long: 'full', short: 'f', kind: 'boolean', help: 'print every field of each route' },
];

export const apiNoun: Noun = {
  name: 'api',
  summary: 'Work with APIs: REST routes that run actions.',
  verbs: [
    {
      name: 'create',
      args: '([BASE_PATH] REL_PATH VERB ACTION | --config-file FILE)',
      summary: 'create an API route (an action that is not yet a web action becomes one)',
      flags: CREATE_FLAGS,
      max: 4,
      details: `Examples:
  whirl api create /library /books/{id} get getBook --apiname Library
  whirl api create /hello get hello --response-type http
  whirl api create --config-file library.yaml
Routes are served at APIHOST/api/gw/NAMESPACE/BASE_PATH/REL_PATH; {parameters} reach the action.`,
      run: createApi,
    },
    {
      name: 'get',
      args: 'BASE_PATH | NAME',
      summary: 'export an API as an OpenAPI document',
      flags: [
        { long: 'format', kind: 'string', arg: 'json|yaml', help: 'document format (default json)' },
        { long: 'full', short: 'f', kind: 'boolean', help: "show the API's routes and URLs instead" },
      ],
      min: 1,
      max: 1,
      run: getApi,
    },
    {
      name: 'delete',
      args: 'BASE_PATH | NAME [REL_PATH [VERB]]',
      summary: 'delete an API, or the routes of one path (and verb)',
      min: 1,
      max: 3,
      run: deleteApi,
    },
    {
      name: 'list',
      args: '[BASE_PATH | NAME [REL_PATH [VERB]]]',
      summary: 'list API routes with their URLs',
      flags: LIST_FLAGS,
      max: 3,
      run: listApis,
    },
  ],
};

export const apiCommand = (argv: string[]): Promise<number> => runNoun(apiNoun, argv);
