// Per-activation state for concurrent runs (__OW_ALLOW_CONCURRENT=true), where several activations
// share one process: an AsyncLocalStorage follows each activation through its awaits and callbacks so
// that (a) process.env.__OW_* reads give that activation's values, not the latest run's, and
// (b) with __WHIRL_LOG_TAGS=1 every line it writes is prefixed with its activation id, letting the
// invoker split interleaved logs. Without concurrency none of this is installed.
import { AsyncLocalStorage } from 'node:async_hooks';
import { logTag, useRawWriters, writeSentinels } from '../common/sentinel.js';

export interface Activation {
  id: string;
  /** The __OW_* variables of this run. */
  env: Record<string, string>;
  /** Prefix for tagged log lines ("" when tagging is off). */
  tag: string;
  /** Whether the last thing written on stdout / stderr ended a line. */
  atLineStart: [boolean, boolean];
}

export const activations = new AsyncLocalStorage<Activation>();

let tagging = false;
/** The untouched stream writers, once log tagging has patched the streams. */
const raw: [(text: string) => void, (text: string) => void] = [
  (text) => void process.stdout.write(text),
  (text) => void process.stderr.write(text),
];

/** Every __OW_* key some /run body has carried: per-activation, never read from the shared env. */
const runScoped = new Set<string>();

export function newActivation(id: string, env: Record<string, string>): Activation {
  for (const key of Object.keys(env)) runScoped.add(key);
  return { id, env, tag: tagging ? logTag(id) : '', atLineStart: [true, true] };
}

/**
 * Replaces process.env with a view in which, inside an activation, the run-scoped __OW_* keys are
 * that activation's own (absent if its /run body did not carry them); everything else is the real
 * environment, which also receives every write.
 */
export function installActivationEnv(): void {
  const real = process.env;
  /** The activation whose view applies to `key`, or undefined when the real env answers. */
  const scope = (key: string | symbol): Activation | undefined =>
    typeof key === 'string' && runScoped.has(key) ? activations.getStore() : undefined;
  process.env = new Proxy(real, {
    get: (target, key) => {
      const activation = scope(key);
      return activation ? activation.env[key as string] : (Reflect.get(target, key) as unknown);
    },
    // Without this trap a write would be redirected through the proxy's descriptors, which
    // process.env rejects; writes go straight to the real environment.
    set: (target, key, value) => Reflect.set(target, key, value),
    has: (target, key) => {
      const activation = scope(key);
      return activation ? key in activation.env : Reflect.has(target, key);
    },
    ownKeys: (target) => {
      const activation = activations.getStore();
      if (!activation) return Reflect.ownKeys(target);
      const keys = Reflect.ownKeys(target).filter((key) => typeof key !== 'string' || !runScoped.has(key));
      return [...keys, ...Object.keys(activation.env)];
    },
    getOwnPropertyDescriptor: (target, key) => {
      const activation = scope(key);
      if (!activation) return Reflect.getOwnPropertyDescriptor(target, key);
      const value = activation.env[key as string];
      return value === undefined
        ? undefined
        : { value, writable: true, enumerable: true, configurable: true };
    },
  });
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;

/** Adds the activation's tag at the start of every line of text written within it. */
function tagLines(activation: Activation, stream: 0 | 1, text: string): string {
  const lines = text.split('\n');
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const last = i === lines.length - 1;
    if (last && line === '') break; // the text ended with a newline
    if (activation.atLineStart[stream]) out += activation.tag;
    out += last ? line : `${line}\n`;
    activation.atLineStart[stream] = !last;
  }
  return out;
}

function toText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === 'string') {
    return typeof encoding === 'string' && !/^utf-?8$/i.test(encoding)
      ? Buffer.from(chunk, encoding as BufferEncoding).toString('utf8')
      : chunk;
  }
  return Buffer.from(chunk as Uint8Array).toString('utf8');
}

function patch(stream: NodeJS.WriteStream, index: 0 | 1): (text: string) => void {
  const original = stream.write.bind(stream) as Write;
  const patched: Write = (chunk, encoding, callback) => {
    const activation = activations.getStore();
    if (!activation?.tag) return original(chunk, encoding, callback);
    const text = tagLines(activation, index, toText(chunk, encoding));
    return typeof encoding === 'function' ? original(text, encoding) : original(text, 'utf8', callback);
  };
  // console.log and friends call stream.write, so patching the streams covers them as well.
  stream.write = patched;
  return (text) => void original(text);
}

/** Turns on log tagging (__WHIRL_LOG_TAGS=1): must run before any action code is loaded. */
export function installLogTags(): void {
  tagging = true;
  raw[0] = patch(process.stdout, 0);
  raw[1] = patch(process.stderr, 1);
  useRawWriters(raw[0], raw[1]);
}

/** The end-of-activation markers, tagged when tagging is on; closes a dangling partial line first. */
export function endActivation(activation: Activation | undefined): void {
  if (!activation?.tag) {
    writeSentinels();
    return;
  }
  // A partial line must not swallow the marker, so end it (the invoker drops empty lines anyway).
  if (!activation.atLineStart[0]) raw[0]('\n');
  if (!activation.atLineStart[1]) raw[1]('\n');
  writeSentinels(activation.tag);
}
