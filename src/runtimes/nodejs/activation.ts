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

export function newActivation(id: string, env: Record<string, string>): Activation {
  return { id, env, tag: tagging ? logTag(id) : '', atLineStart: [true, true] };
}

/**
 * Replaces process.env with a view that answers __OW_* keys from the current activation, falling
 * back to the real environment (writes always go to the real one).
 */
export function installActivationEnv(): void {
  const real = process.env;
  const own = (key: string | symbol): string | undefined => {
    if (typeof key !== 'string' || !key.startsWith('__OW_')) return undefined;
    return activations.getStore()?.env[key];
  };
  process.env = new Proxy(real, {
    get: (target, key) => own(key) ?? (Reflect.get(target, key) as unknown),
    // Without this trap a write would be redirected through the proxy's descriptors, which
    // process.env rejects; writes go straight to the real environment.
    set: (target, key, value) => Reflect.set(target, key, value),
    has: (target, key) => own(key) !== undefined || Reflect.has(target, key),
    ownKeys: (target) => {
      const keys = new Set(Reflect.ownKeys(target));
      for (const key of Object.keys(activations.getStore()?.env ?? {})) keys.add(key);
      return [...keys];
    },
    getOwnPropertyDescriptor: (target, key) => {
      const value = own(key);
      if (value === undefined) return Reflect.getOwnPropertyDescriptor(target, key);
      return { value, writable: true, enumerable: true, configurable: true };
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
