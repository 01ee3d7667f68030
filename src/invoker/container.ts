/**
 * A container: one sandbox plus the invoker's conversation with the runtime proxy in it — `/init` once,
 * `/run` per activation over keep-alive HTTP, log collection, limits, and the classification of what came
 * back into OpenWhisk's four status codes (spec §3.2). Backend-independent: it only needs a Sandbox.
 */
import http from 'node:http';
import type { ActivationResponse } from '../core/activation.js';
import { ActivationMessages, StatusCode } from '../core/activation.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { ActivationLogs, LogRouter } from './logs.js';

export interface InitPayload {
  name: string;
  main: string;
  code?: string;
  binary: boolean;
  env: Record<string, string>;
}

export interface RunPayload {
  value: unknown;
  namespace: string;
  action_name: string;
  action_version: string;
  activation_id: string;
  transaction_id: string;
  deadline: string;
  api_key?: string;
}

export interface Outcome {
  response: ActivationResponse;
  /** The container must not serve again (developer or whisk error, or it died). */
  discard: boolean;
  timedOut: boolean;
}

interface HttpResult {
  status: number;
  text: string;
  /** Full body length in bytes, even when only a prefix was kept. */
  length: number;
  truncated: boolean;
}

type Failure = { failure: 'timeout' | 'connection'; detail: string };

/** How long the runtime may take to write its sentinels after answering. */
const SENTINEL_WAIT_MS = 2000;

export class Container {
  /** `namespace|action` + revision this container was initialised for; undefined while a stem cell. */
  key: string | undefined;
  /** Activations holding this container (maintained by the pool's leases). */
  active = 0;
  lastUsed = Date.now();
  initialized = false;
  dead = false;
  paused = false;
  /** Pending kill of leftover processes once the container is idle (see ContainerPool). */
  reapTimer: NodeJS.Timeout | undefined;
  private readonly agent: http.Agent;
  private readonly router: LogRouter;

  constructor(
    readonly sandbox: Sandbox,
    readonly family: string,
    readonly memoryMB: number,
    readonly maxConcurrency: number,
  ) {
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: maxConcurrency,
      maxFreeSockets: maxConcurrency,
    });
    this.router = new LogRouter(16 * 1024 * 1024);
    sandbox.onOutput((stream, chunk) => this.router.feed(stream, chunk));
    void sandbox.exited.then(() => {
      this.dead = true;
    });
  }

  get id(): string {
    return this.sandbox.id;
  }

  /** Sends /init. Output printed while loading the code belongs to the first activation's logs. */
  async init(payload: InitPayload, timeoutMs: number, logs: ActivationLogs): Promise<Outcome | undefined> {
    this.router.current = logs;
    try {
      const r = await this.post('/init', JSON.stringify({ value: payload }), timeoutMs, 64 * 1024);
      if ('failure' in r) {
        const message =
          r.failure === 'timeout'
            ? ActivationMessages.timedOut(timeoutMs, true)
            : (await this.oomKilled())
              ? ActivationMessages.memoryExhausted
              : ActivationMessages.abnormalInitialization;
        logs.note(ActivationMessages.logWarningDeveloperError);
        return { response: devError(message), discard: true, timedOut: r.failure === 'timeout' };
      }
      if (r.status === 200) {
        this.initialized = true;
        return undefined;
      }
      // A failed init usually ends with the sentinels; the container is discarded either way, so only wait briefly.
      if (!(await logs.whenComplete(200))) logs.note(ActivationMessages.logWarningDeveloperError);
      return { response: devError(initErrorMessage(r.text)), discard: true, timedOut: false };
    } finally {
      if (this.maxConcurrency > 1) this.router.current = undefined;
    }
  }

  /** Sends /run and classifies the answer. `resultLimit` bounds the bytes kept of the result. */
  async run(
    payload: RunPayload,
    timeoutMs: number,
    logs: ActivationLogs,
    resultLimit: number,
  ): Promise<Outcome> {
    const tagged = this.maxConcurrency > 1;
    if (tagged) this.router.tagged.set(payload.activation_id, logs);
    else this.router.current = logs;
    try {
      const r = await this.post('/run', JSON.stringify(payload), timeoutMs, resultLimit);
      if ('failure' in r) {
        const message =
          r.failure === 'timeout'
            ? ActivationMessages.timedOut(timeoutMs, false)
            : (await this.oomKilled())
              ? ActivationMessages.memoryExhausted
              : ActivationMessages.abnormalRun;
        if (!logs.complete) logs.note(ActivationMessages.logWarningDeveloperError);
        return { response: devError(message), discard: true, timedOut: r.failure === 'timeout' };
      }
      const response = classifyRun(r, resultLimit);
      const discard = response.statusCode >= StatusCode.DeveloperError;
      const gotLogs = await logs.whenComplete(discard ? 200 : SENTINEL_WAIT_MS);
      if (!gotLogs)
        logs.note(discard ? ActivationMessages.logWarningDeveloperError : ActivationMessages.logFailure);
      return { response, discard, timedOut: false };
    } finally {
      if (tagged) this.router.tagged.delete(payload.activation_id);
      else this.router.current = undefined;
    }
  }

  /**
   * True when the sandbox died of its memory limit (waits briefly for the exit to be known). Only asked
   * after the connection failed; a process sandbox knows at once, a docker one once the daemon has seen
   * the exit, which takes a second or more on a loaded machine.
   */
  private async oomKilled(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.sandbox.exited,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 5000))),
    ]);
    clearTimeout(timer);
    return exit?.oomKilled ?? false;
  }

  private post(
    path: string,
    body: string,
    timeoutMs: number,
    maxBytes: number,
  ): Promise<HttpResult | Failure> {
    const endpoint = this.sandbox.endpoint;
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: HttpResult | Failure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = http.request(
        {
          ...('socketPath' in endpoint ? { socketPath: endpoint.socketPath } : endpoint),
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          let length = 0;
          res.on('data', (c: Buffer) => {
            length += c.length;
            // Keep at most maxBytes: a runaway result must not exhaust the invoker's memory.
            if (kept < maxBytes) {
              const part = kept + c.length > maxBytes ? c.subarray(0, maxBytes - kept) : c;
              chunks.push(part);
              kept += part.length;
            }
          });
          res.on('end', () =>
            done({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              length,
              truncated: length > maxBytes,
            }),
          );
          res.on('error', (err) => done({ failure: 'connection', detail: err.message }));
        },
      );
      const timer = setTimeout(() => {
        done({ failure: 'timeout', detail: `no answer within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => done({ failure: 'connection', detail: err.message }));
      req.end(body);
    });
  }

  async pause(): Promise<void> {
    if (this.paused || this.dead) return;
    this.paused = true;
    await this.sandbox.pause();
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    await this.sandbox.resume();
  }

  async destroy(): Promise<void> {
    this.dead = true;
    this.agent.destroy();
    await this.sandbox.destroy();
  }
}

const devError = (message: unknown): ActivationResponse => ({
  statusCode: StatusCode.DeveloperError,
  result: { error: message },
});

function initErrorMessage(text: string): unknown {
  try {
    const body: unknown = JSON.parse(text);
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'error' in body) {
      return body.error;
    }
  } catch {
    // not JSON: quoted below
  }
  return ActivationMessages.invalidInitResponse(text);
}

/** OpenWhisk's rules for a /run answer (spec §3.2). */
export function classifyRun(r: HttpResult, resultLimit: number): ActivationResponse {
  if (r.truncated) {
    return {
      statusCode: StatusCode.ApplicationError,
      result: { error: ActivationMessages.truncatedResponse(r.text, r.length, resultLimit) },
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(r.text);
  } catch {
    return devError(ActivationMessages.invalidRunResponse(r.text));
  }
  const ok = r.status === 200;
  if (Array.isArray(body)) {
    return ok
      ? { statusCode: StatusCode.Success, result: body, size: r.length }
      : devError(ActivationMessages.invalidRunResponse(r.text));
  }
  if (body === null || typeof body !== 'object')
    return devError(ActivationMessages.invalidRunResponse(r.text));
  const hasError = Object.prototype.hasOwnProperty.call(body, 'error');
  if (!ok) {
    return devError(
      hasError ? (body as { error: unknown }).error : ActivationMessages.invalidRunResponse(r.text),
    );
  }
  return {
    statusCode: hasError ? StatusCode.ApplicationError : StatusCode.Success,
    result: body,
    size: r.length,
  };
}
