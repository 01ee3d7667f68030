/**
 * The runtimes manifest: which action kinds Whirl runs and which runtime proxy serves each. The proxies
 * themselves live in src/runtimes/; sandbox backends map a `family` to a command or an image.
 */
export type RuntimeFamily = 'nodejs' | 'python' | 'native';

export interface RuntimeSpec {
  kind: string;
  family: RuntimeFamily;
  default: boolean;
  deprecated: boolean;
  /** Whether one container may serve several activations at once (limits.concurrency > 1). */
  concurrent: boolean;
  /** Image the docker backend uses; informative for the process backend. */
  image: string;
}

/** The image `wsk action create --native` asks for; Whirl serves it with its native proxy. */
export const SKELETON_IMAGE = 'openwhisk/dockerskeleton';

export const RUNTIMES: readonly RuntimeSpec[] = [
  {
    kind: 'nodejs:20',
    family: 'nodejs',
    default: true,
    deprecated: false,
    concurrent: true,
    image: 'whirl/nodejs20',
  },
  {
    kind: 'python:3',
    family: 'python',
    default: true,
    deprecated: false,
    concurrent: false,
    image: 'whirl/python3',
  },
  {
    kind: 'native',
    family: 'native',
    default: true,
    deprecated: false,
    concurrent: false,
    image: 'whirl/native',
  },
];

const byKind = new Map(RUNTIMES.map((r) => [r.kind, r]));

/** `nodejs:default` → `nodejs:20`; unknown kinds give undefined. */
export function resolveKind(kind: string): RuntimeSpec | undefined {
  const k = kind.toLowerCase();
  if (k.endsWith(':default')) {
    const family = k.slice(0, -':default'.length);
    return RUNTIMES.find((r) => r.family === family && r.default);
  }
  return byKind.get(k);
}

export function validKindsList(): string {
  return [...RUNTIMES.map((r) => r.kind), 'blackbox', 'sequence'].map((k) => `'${k}'`).join(', ');
}

/**
 * The `runtimes` object of `GET /` and `GET /api/v1`: OpenWhisk's manifest summary exactly (family →
 * versions with kind, image, deprecated, default, attached, requireMain). Tools such as wskdebug read every
 * entry as a runtime, so nothing else goes in here (OpenWhisk lists no blackboxes either).
 */
export function manifestJson(): Record<string, unknown[]> {
  const families: Record<string, unknown[]> = {};
  for (const r of RUNTIMES) {
    (families[r.family] ??= []).push({
      kind: r.kind,
      image: r.image,
      deprecated: r.deprecated,
      default: r.default,
      attached: false,
      requireMain: false,
    });
  }
  return families;
}
