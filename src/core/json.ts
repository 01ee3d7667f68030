/**
 * Guards for JSON from the outside. JSON.parse accepts any nesting, but serialising a value nested a few
 * thousand levels deep overflows the stack later (in the invoker, the store, a log line); such bodies are
 * refused at the door instead.
 */
export const MAX_JSON_DEPTH = 512;

/** True when `value` nests no deeper than `max` arrays/objects (checked without recursion). */
export function withinDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return true;
}
