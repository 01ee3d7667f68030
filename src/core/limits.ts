/**
 * System limits (spec §2) and the per-namespace overrides that `whirl admin limits set` stores. The
 * effective value for a namespace is its override clamped into the system bounds.
 */
export const MB = 1024 * 1024;

export interface Range {
  min: number;
  max: number;
  std: number;
}

export interface SystemLimits {
  timeoutMs: Range;
  memoryMB: Range;
  logsMB: Range;
  concurrency: Range;
  /** Parameters (and, separately, annotations) of one entity, in bytes. */
  parameterSize: number;
  /** Decoded size of an action's code, in bytes. */
  codeSize: number;
  /** Invoke and fire request bodies, in bytes. */
  payloadSize: number;
  /** Results above this many bytes are replaced by a truncation error. */
  resultSize: number;
  /** Longest a blocking request waits before answering 202. */
  maxBlockingWaitMs: number;
  sequenceLength: number;
  /** The throttles every namespace gets unless an operator sets its own (or `developer` names it). */
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
  /** Namespaces whose default throttles are a developer's instead (standalone's own, when one person uses it). */
  developer?: { namespaces: readonly string[]; throttles: Throttles };
}

/** The throttles of a namespace, by OpenWhisk's names. */
export interface Throttles {
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
}

/** OpenWhisk's production defaults: right where several tenants share a Whirl. */
export const SHARED_THROTTLES: Throttles = {
  invocationsPerMinute: 60,
  concurrentInvocations: 30,
  firesPerMinute: 60,
};

/**
 * One trusted developer's standalone Whirl: a test suite or a benchmark never meets a 429 (OpenWhisk's own
 * standalone and test deployments raise the production defaults the same way, to 60000 a minute).
 */
export const DEVELOPER_THROTTLES: Throttles = {
  invocationsPerMinute: 60_000,
  concurrentInvocations: 1000,
  firesPerMinute: 60_000,
};

export const DEFAULT_SYSTEM_LIMITS: SystemLimits = {
  timeoutMs: { min: 100, max: 300_000, std: 60_000 },
  memoryMB: { min: 128, max: 512, std: 256 },
  logsMB: { min: 0, max: 10, std: 10 },
  // OpenWhisk ships max=1; Whirl lets nodejs actions serve several activations per container.
  concurrency: { min: 1, max: 500, std: 1 },
  parameterSize: 1 * MB,
  codeSize: 48 * MB,
  payloadSize: 1 * MB,
  resultSize: 1 * MB,
  maxBlockingWaitMs: 60_000,
  sequenceLength: 50,
  ...SHARED_THROTTLES,
};

/** What an operator may override per namespace (all optional). Same keys as OpenWhisk's limits document. */
export interface NamespaceLimits {
  invocationsPerMinute?: number;
  concurrentInvocations?: number;
  firesPerMinute?: number;
  allowedKinds?: string[];
  storeActivations?: boolean;
  /** False: actions of this namespace reach the Whirl API and nothing else (no outside network). */
  outboundNetwork?: boolean;
  minActionMemory?: number;
  maxActionMemory?: number;
  minActionLogs?: number;
  maxActionLogs?: number;
  minActionTimeout?: number;
  maxActionTimeout?: number;
  minActionConcurrency?: number;
  maxActionConcurrency?: number;
}

export const NAMESPACE_LIMIT_KEYS = [
  'invocationsPerMinute',
  'concurrentInvocations',
  'firesPerMinute',
  'allowedKinds',
  'storeActivations',
  'outboundNetwork',
  'minActionMemory',
  'maxActionMemory',
  'minActionLogs',
  'maxActionLogs',
  'minActionTimeout',
  'maxActionTimeout',
  'minActionConcurrency',
  'maxActionConcurrency',
] as const satisfies readonly (keyof NamespaceLimits)[];

export interface EffectiveLimits {
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
  allowedKinds?: string[];
  storeActivations: boolean;
  outboundNetwork: boolean;
  timeoutMs: Range;
  memoryMB: Range;
  logsMB: Range;
  concurrency: Range;
}

const clamp = (v: number | undefined, lo: number, hi: number, dflt: number) =>
  v === undefined ? dflt : Math.min(hi, Math.max(lo, v));

/** The default throttles of `namespace`: the developer's where the system names it, the shared ones otherwise. */
export function defaultThrottles(system: SystemLimits, namespace: string | undefined): Throttles {
  const dev = system.developer;
  return namespace !== undefined && dev?.namespaces.includes(namespace) === true ? dev.throttles : system;
}

/** The namespace's bounds: its overrides, never wider than the system's. */
export function effectiveLimits(
  system: SystemLimits,
  ns: NamespaceLimits | undefined,
  namespace?: string,
): EffectiveLimits {
  const o = ns ?? {};
  const throttles = defaultThrottles(system, namespace);
  const range = (r: Range, min: number | undefined, max: number | undefined): Range => {
    const lo = clamp(min, r.min, r.max, r.min);
    const hi = clamp(max, lo, r.max, r.max);
    return { min: lo, max: hi, std: Math.min(hi, Math.max(lo, r.std)) };
  };
  const limits: EffectiveLimits = {
    invocationsPerMinute: o.invocationsPerMinute ?? throttles.invocationsPerMinute,
    concurrentInvocations: o.concurrentInvocations ?? throttles.concurrentInvocations,
    firesPerMinute: o.firesPerMinute ?? throttles.firesPerMinute,
    storeActivations: o.storeActivations ?? true,
    outboundNetwork: o.outboundNetwork ?? true,
    timeoutMs: range(system.timeoutMs, o.minActionTimeout, o.maxActionTimeout),
    memoryMB: range(system.memoryMB, o.minActionMemory, o.maxActionMemory),
    logsMB: range(system.logsMB, o.minActionLogs, o.maxActionLogs),
    concurrency: range(system.concurrency, o.minActionConcurrency, o.maxActionConcurrency),
  };
  if (o.allowedKinds !== undefined) limits.allowedKinds = o.allowedKinds;
  return limits;
}

/** The wire form of `GET /namespaces/{ns}/limits` (spec §1.6.7). */
export function limitsToJson(system: SystemLimits, l: EffectiveLimits): Record<string, unknown> {
  const json: Record<string, unknown> = {
    invocationsPerMinute: l.invocationsPerMinute,
    concurrentInvocations: l.concurrentInvocations,
    firesPerMinute: l.firesPerMinute,
    minActionMemory: l.memoryMB.min,
    maxActionMemory: l.memoryMB.max,
    minActionLogs: l.logsMB.min,
    maxActionLogs: l.logsMB.max,
    minActionTimeout: l.timeoutMs.min,
    maxActionTimeout: l.timeoutMs.max,
    minActionConcurrency: l.concurrency.min,
    maxActionConcurrency: l.concurrency.max,
    maxParameterSize: formatSize(system.parameterSize),
    maxPayloadSize: formatSize(system.payloadSize),
    truncationSize: formatSize(system.resultSize),
    storeActivations: l.storeActivations,
    outboundNetwork: l.outboundNetwork,
  };
  if (l.allowedKinds !== undefined) json.allowedKinds = l.allowedKinds;
  return json;
}

/** `1 MB`, `48 MB`, `512 KB`: the size strings OpenWhisk prints. */
export function formatSize(bytes: number): string {
  if (bytes % MB === 0) return `${bytes / MB} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}
