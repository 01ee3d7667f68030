/**
 * Wire shapes of the OpenWhisk v1 REST API as the client sees them (spec §1.6). Loose on purpose:
 * servers may add fields, and the CLI prints what it gets.
 */
export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

export interface ActionLimits {
  timeout?: number;
  memory?: number;
  logs?: number;
  concurrency?: number;
}

export interface CodeExec {
  kind: string;
  code?: string;
  binary?: boolean;
  main?: string;
  image?: string;
}

export interface SequenceExec {
  kind: 'sequence';
  components: string[];
}

export type Exec = CodeExec | SequenceExec;

/** Fields common to actions, packages, triggers and rules. */
export interface Entity {
  namespace: string;
  name: string;
  version?: string;
  publish?: boolean;
  annotations?: KeyValue[];
  updated?: number;
  [field: string]: unknown;
}

export interface Action extends Entity {
  exec: Exec | { binary?: boolean; kind?: string };
  parameters?: KeyValue[];
  limits?: ActionLimits;
}

/** PUT body of an action (`WhiskActionPut`): every field optional on update. */
export interface ActionPut {
  exec?: Exec;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  limits?: ActionLimits;
  publish?: boolean;
  version?: string;
  delAnnotations?: string[];
}

/** `{namespace, name}` of the package a binding points to. */
export interface BindingRef {
  namespace: string;
  name: string;
}

/** An action or feed as a package's GET lists it. */
export interface PackageMember {
  name: string;
  version?: string;
  annotations?: KeyValue[];
}

/** GET of a package (spec §1.6.2); lists carry `binding: false | {namespace, name}` and no members. */
export interface Package extends Entity {
  parameters?: KeyValue[];
  /** `{}` (GET) or `false` (list) for a package, the bound package for a binding. */
  binding?: BindingRef | Record<string, never> | false;
  actions?: PackageMember[];
  feeds?: PackageMember[];
}

export interface PackagePut {
  binding?: BindingRef;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  publish?: boolean;
  version?: string;
}

/** A rule as a trigger's `rules` map shows it. */
export interface TriggerRuleLink {
  action: { name: string; path: string };
  status: string;
}

export interface Trigger extends Entity {
  parameters?: KeyValue[];
  limits?: Record<string, unknown>;
  /** `ns/rule` → action and status (GET only). */
  rules?: Record<string, TriggerRuleLink>;
}

export interface TriggerPut {
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  publish?: boolean;
  version?: string;
}

/** `{path: "ns" | "ns/pkg", name}`. */
export interface PathRef {
  path: string;
  name: string;
}

export interface Rule extends Entity {
  trigger: PathRef;
  action: PathRef;
  /** `active` or `inactive` (GET and PUT answers; lists leave it out). */
  status?: string;
}

export interface RulePut {
  /** Fully qualified: `/ns/trigger`. */
  trigger: string;
  /** Fully qualified: `/ns/[pkg/]action`. */
  action: string;
  annotations?: KeyValue[];
  publish?: boolean;
  version?: string;
}

/** One route of a published API, as `GET .../apis` lists it. */
export interface ApiRouteSummary {
  /** Relative to the base path, with `{placeholders}`. */
  path: string;
  /** Upper case: GET, POST... */
  method: string;
  /** `/ns/[pkg/]action`. */
  action: string;
  responseType: string;
  /** Where the route is served (placeholders left in). */
  url: string;
}

/** A published API (Whirl's `GET /api/v1/namespaces/_/apis` items). */
export interface ApiSummary {
  namespace: string;
  name: string;
  basePath: string;
  version?: string;
  updated?: number;
  url: string;
  routes: ApiRouteSummary[];
  /** POST/PUT answers: the actions this write made web actions. */
  webExported?: string[];
  [field: string]: unknown;
}

/** `POST .../apis`: one route. */
export interface ApiRouteInput {
  basePath: string;
  path: string;
  method: string;
  /** `a`, `pkg/a` or `/ns/pkg/a`. */
  action: string;
  responseType?: string;
  name?: string;
}

export interface ActivationResponseJson {
  status: string;
  success: boolean;
  result?: unknown;
  size?: number;
  /** Present on stored records some servers return. */
  statusCode?: number;
}

/** Full record (GET /activations/{id}, blocking invoke). */
export interface Activation {
  namespace: string;
  name: string;
  version?: string;
  subject?: string;
  activationId: string;
  start: number;
  end?: number;
  duration?: number;
  cause?: string;
  response: ActivationResponseJson;
  logs: string[];
  annotations?: KeyValue[];
  [field: string]: unknown;
}

/** List entry without `docs`: no result or logs, a top-level `statusCode`. */
export interface ActivationSummary {
  namespace: string;
  name: string;
  version?: string;
  activationId: string;
  start: number;
  end?: number;
  duration?: number;
  statusCode?: number;
  annotations?: KeyValue[];
  [field: string]: unknown;
}

export type Limits = Record<string, unknown>;

/** `GET /api/v1`. */
export interface ApiInfo {
  description?: string;
  api_version?: string;
  api_version_path?: string;
  build?: string;
  buildno?: string;
  [field: string]: unknown;
}

export function annotation(entity: { annotations?: KeyValue[] | undefined }, key: string): unknown {
  return entity.annotations?.find((a) => a.key === key)?.value;
}
