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
