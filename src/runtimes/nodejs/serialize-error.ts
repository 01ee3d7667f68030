// Turns whatever an action rejected with into plain JSON, so that {"error": ...} carries something
// useful: Error objects keep their name, message and stack (which JSON.stringify would drop, being
// non-enumerable), circular references become "[Circular]" and functions become a short label.

export function serializeError(value: unknown): unknown {
  return convert(value, new Set());
}

function convert(value: unknown, seen: Set<object>): unknown {
  if (typeof value === 'function') return `[Function: ${(value as { name?: string }).name || 'anonymous'}]`;
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => convert(item, seen));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && !(value instanceof Error))
      return (toJSON as () => unknown).call(value);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = convert(item, seen);
    }
    // The informative properties of an Error are own but not enumerable.
    for (const key of ['name', 'message', 'stack', 'code'] as const) {
      const item = (value as Record<string, unknown>)[key];
      if (!(key in out) && typeof item === 'string') out[key] = item;
    }
    const cause = (value as { cause?: unknown }).cause;
    if (value instanceof Error && cause !== undefined && !('cause' in out)) out.cause = convert(cause, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}
