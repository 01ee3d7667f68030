/**
 * Placement as a pure function (OpenWhisk's sharding balancer, spec §7.1): an action's home invoker comes
 * from a hash of namespace and action, so its warm containers are found again; from home the search steps
 * through the invokers with a step size coprime to their number (every invoker is visited once) and takes
 * the first usable one with memory free. When none has room, a random usable invoker is overloaded (its
 * own pool queues the work). When none is usable: undefined (the controller answers 503).
 */

export interface Slot {
  /** Only usable (healthy) invokers get work. */
  usable: boolean;
  /** Memory this controller may still place there, MB. */
  freeMB: number;
}

export interface Placement {
  index: number;
  /** True when no invoker had room and this one is overloaded. */
  forced: boolean;
}

/** FNV-1a, 32 bit: stable across processes and releases (never change it: homes would move). */
export function homeHash(namespace: string, action: string): number {
  let h = 0x811c9dc5;
  const s = `${namespace}\u0000${action}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Numbers up to n that are coprime to n and to each other: the step sizes of the search. */
export function stepSizes(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) {
    if (gcd(i, n) === 1 && out.every((s) => gcd(s, i) === 1)) out.push(i);
  }
  return out.length > 0 ? out : [1];
}

const cachedSteps = new Map<number, number[]>();

export function schedule(
  slots: readonly Slot[],
  hash: number,
  memoryMB: number,
  random: () => number = Math.random,
): Placement | undefined {
  const n = slots.length;
  if (n === 0) return undefined;
  let steps = cachedSteps.get(n);
  if (steps === undefined) cachedSteps.set(n, (steps = stepSizes(n)));
  const home = hash % n;
  const step = steps[hash % steps.length]!;
  for (let i = 0, index = home; i < n; i++, index = (index + step) % n) {
    const s = slots[index]!;
    if (s.usable && s.freeMB >= memoryMB) return { index, forced: false };
  }
  const usable: number[] = [];
  slots.forEach((s, i) => {
    if (s.usable) usable.push(i);
  });
  if (usable.length === 0) return undefined;
  return { index: usable[Math.floor(random() * usable.length)]!, forced: true };
}
