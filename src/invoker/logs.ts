/**
 * Log collection: turns a sandbox's raw stdout/stderr into each activation's log lines.
 *
 * With one activation per container at a time, every line belongs to the running activation, which ends
 * when the runtime has written the sentinel on both streams. With intra-container concurrency, Whirl's
 * nodejs proxy prefixes each line with `[[whirl:<activationId>]] ` (and tags its sentinels), so interleaved
 * logs are still attributed — OpenWhisk records no logs at all in that mode.
 */
import { StringDecoder } from 'node:string_decoder';
import { ActivationMessages } from '../core/activation.js';
import type { OutputStream } from '../sandbox/sandbox.js';

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const TAG = /^\[\[whirl:([0-9a-f]{32})\]\] /;
const SENTINEL_LINE = Buffer.from(`\n${SENTINEL}`);
const NEWLINE = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

/** `2024-01-01T00:00:00.000Z      stdout: line` — the timestamp padded to 30, as OpenWhisk prints it. */
export function formatLogLine(time: number, stream: OutputStream, line: string): string {
  return `${new Date(time).toISOString().padEnd(30)} ${stream}: ${line}`;
}

/** The log lines of one activation, bounded by its log limit. */
export class ActivationLogs {
  readonly lines: string[] = [];
  private bytes = 0;
  private truncated = false;
  private readonly seen = { stdout: false, stderr: false };
  private waiter: (() => void) | undefined;

  /** `limitBytes` 0 collects nothing (the `logs: 0` limit). */
  constructor(private readonly limitBytes: number) {}

  add(time: number, stream: OutputStream, line: string): void {
    if (this.truncated || this.limitBytes === 0) return;
    const size = Buffer.byteLength(line);
    if (this.bytes + size > this.limitBytes) {
      this.truncated = true;
      this.lines.push(formatLogLine(time, 'stderr', ActivationMessages.truncatedLogs(this.limitBytes)));
      return;
    }
    this.bytes += size;
    this.lines.push(formatLogLine(time, stream, line));
  }

  /** Nothing more will be kept: only the sentinels still matter. */
  get full(): boolean {
    return this.truncated || this.limitBytes === 0;
  }

  sentinel(stream: OutputStream): void {
    this.seen[stream] = true;
    if (this.complete) this.waiter?.();
  }

  get complete(): boolean {
    return this.seen.stdout && this.seen.stderr;
  }

  /** Resolves true once both sentinels arrived, false if `ms` passed first. */
  whenComplete(ms: number): Promise<boolean> {
    if (this.complete) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(false);
      }, ms);
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(true);
      };
    });
  }

  note(message: string): void {
    this.lines.push(formatLogLine(Date.now(), 'stderr', message));
  }
}

/** Splits a sandbox's output into lines and routes them to the activation(s) running in it. */
export class LogRouter {
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  /** The tail of output skipped while the activation's logs are full (see feed). */
  private readonly skipped: Record<OutputStream, Buffer> = { stdout: EMPTY, stderr: EMPTY };
  // Chunks may split a multi-byte character; a decoder per stream stitches it back.
  private readonly decoders: Record<OutputStream, StringDecoder> = {
    stdout: new StringDecoder('utf8'),
    stderr: new StringDecoder('utf8'),
  };
  /** The one activation of a non-concurrent container. */
  current: ActivationLogs | undefined;
  /** Activations of a concurrent (tagged) container, by id. */
  readonly tagged = new Map<string, ActivationLogs>();

  constructor(private readonly maxLineBytes: number) {}

  feed(stream: OutputStream, chunk: Buffer): void {
    // An activation whose logs are full (or off) may still print megabytes: only its sentinel matters, so
    // the bytes are searched for a sentinel line without being decoded and split into lines.
    const current = this.current;
    if (current?.full === true && this.tagged.size === 0) {
      let bytes = this.skipped[stream];
      // At the start of a line (nothing partial pending), a sentinel may open the very first chunk.
      if (bytes.length === 0 && this.partial[stream] === '') bytes = NEWLINE;
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.indexOf(SENTINEL_LINE) < 0) {
        // Keep enough of the end to find a sentinel line split across two chunks.
        this.skipped[stream] = Buffer.from(bytes.subarray(Math.max(0, bytes.length - SENTINEL_LINE.length)));
        return;
      }
      this.skipped[stream] = EMPTY;
      this.partial[stream] = '';
      this.decoders[stream] = new StringDecoder('utf8');
      current.sentinel(stream);
      return;
    }
    const now = Date.now();
    const all = this.partial[stream] + this.decoders[stream].write(chunk);
    let start = 0;
    for (let nl = all.indexOf('\n'); nl >= 0; nl = all.indexOf('\n', start)) {
      this.line(now, stream, all.slice(start, nl));
      start = nl + 1;
    }
    let text = all.slice(start);
    // A line without end must not grow without bound: past the limit it is cut where it stands.
    if (text.length > this.maxLineBytes) {
      this.line(now, stream, text);
      text = '';
    }
    this.partial[stream] = text;
  }

  private line(time: number, stream: OutputStream, raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const tag = TAG.exec(line);
    if (tag !== null) {
      const target = this.tagged.get(tag[1]!);
      const text = line.slice(tag[0].length);
      if (text === SENTINEL) target?.sentinel(stream);
      else target?.add(time, stream, text);
      return;
    }
    if (line === SENTINEL) this.current?.sentinel(stream);
    // Untagged output of a concurrent container (a timer firing between runs) belongs to no one.
    else this.current?.add(time, stream, line);
  }
}
