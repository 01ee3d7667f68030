/**
 * A small client for the Docker Engine API over its Unix socket, with Node's `http` only: JSON calls,
 * streamed uploads (image import, build context), JSON-lines progress streams, and hijacked streams
 * (attach). Typed through the few fields Whirl reads, so the API's shapes never leak further.
 */
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';

/** `DOCKER_HOST=unix:///path` is honoured; other transports (tcp, ssh) are not supported. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (host !== undefined && host !== '') {
    if (!host.startsWith('unix://')) {
      throw new Error(`DOCKER_HOST=${host}: only unix:// sockets are supported by the docker sandbox`);
    }
    return host.slice('unix://'.length);
  }
  return '/var/run/docker.sock';
}

/** The Engine answered with an error status; `message` is Docker's own. */
export class DockerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  /** JSON body. */
  body?: unknown;
  /** Raw body streamed as is (with `contentType`). */
  upload?: Readable;
  contentType?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** The API version Whirl is written against; newer engines still serve it, older ones are refused. */
const PREFERRED_API = '1.41';

function versionLess(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

function queryString(q: Query | undefined): string {
  if (q === undefined) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

export class DockerEngine {
  /** Short calls share keep-alive connections; long ones (wait, attach, streams) get their own. */
  private readonly agent: http.Agent;
  private prefix = `/v${PREFERRED_API}`;

  constructor(readonly socketPath: string = defaultSocketPath()) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  /**
   * Checks that the daemon answers and picks the API version: ours when the daemon serves it, else the
   * daemon's oldest (newer daemons drop old versions; the fields Whirl uses have not changed).
   */
  async connect(): Promise<{ version: string; apiVersion: string }> {
    const v = await this.json<{ Version: string; ApiVersion: string; MinAPIVersion?: string }>(
      'GET',
      '/version',
      { timeoutMs: 5000 },
      '',
    );
    if (versionLess(v.ApiVersion, '1.40')) {
      throw new Error(`Docker ${v.Version} (API ${v.ApiVersion}) is too old: API 1.40 or newer is needed`);
    }
    let api = PREFERRED_API;
    if (versionLess(v.ApiVersion, api)) api = v.ApiVersion;
    else if (v.MinAPIVersion !== undefined && versionLess(api, v.MinAPIVersion)) api = v.MinAPIVersion;
    this.prefix = `/v${api}`;
    return { version: v.Version, apiVersion: api };
  }

  /** Sends a request and resolves with the response, whatever its status (the caller reads it). */
  raw(
    method: string,
    path: string,
    o: RequestOptions = {},
    prefix = this.prefix,
    agent: http.Agent | false = this.agent,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...o.headers };
      let payload: string | undefined;
      if (o.body !== undefined) {
        payload = JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      } else if (o.upload !== undefined) {
        headers['content-type'] = o.contentType ?? 'application/x-tar';
      }
      const req = http.request(
        {
          socketPath: this.socketPath,
          path: `${prefix}${path}${queryString(o.query)}`,
          method,
          headers,
          agent,
        },
        resolve,
      );
      req.on('error', reject);
      if (o.timeoutMs !== undefined) {
        req.setTimeout(o.timeoutMs, () =>
          req.destroy(new Error(`Docker did not answer ${method} ${path} within ${o.timeoutMs} ms`)),
        );
      }
      if (o.upload !== undefined) {
        o.upload.on('error', (err) => req.destroy(err));
        o.upload.pipe(req);
      } else req.end(payload);
    });
  }

  /** A JSON call: resolves with the parsed body (undefined when empty), throws DockerError on >= 400. */
  async json<T>(method: string, path: string, o: RequestOptions = {}, prefix?: string): Promise<T> {
    const res = await this.raw(method, path, { timeoutMs: 60_000, ...o }, prefix);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw new DockerError(status, errorMessage(text, status));
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Like json() for calls answered with no content (204); 304 (already done) counts as success. */
  async call(method: string, path: string, o: RequestOptions = {}): Promise<void> {
    await this.json<unknown>(method, path, o);
  }

  /**
   * A call whose answer is a stream of JSON lines (build, import, pull): each line goes to `onLine`, and
   * an `error` line rejects (the status is 200 even when the operation fails).
   */
  async progress(
    method: string,
    path: string,
    o: RequestOptions,
    onLine: (line: { stream?: string; status?: string; error?: string; aux?: unknown }) => void = () =>
      undefined,
  ): Promise<void> {
    const res = await this.raw(method, path, o, this.prefix, false);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw new DockerError(status, errorMessage(await readAll(res), status));
    let buffered = '';
    let failure: string | undefined;
    const handle = (line: string) => {
      if (line.trim() === '') return;
      let parsed: { stream?: string; status?: string; error?: string; aux?: unknown };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        return;
      }
      if (parsed.error !== undefined) failure ??= parsed.error;
      onLine(parsed);
    };
    await new Promise<void>((resolve, reject) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          handle(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      });
      res.on('end', () => {
        handle(buffered);
        resolve();
      });
      res.on('error', reject);
    });
    if (failure !== undefined) throw new DockerError(500, failure.trim());
  }

  /**
   * Attaches to a container's output: the connection is hijacked (HTTP upgrade) and carries Docker's
   * multiplexed stream until the container stops.
   */
  attach(id: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        path: `${this.prefix}/containers/${id}/attach?stream=1&stdout=1&stderr=1`,
        method: 'POST',
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
        agent: false,
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        // No upgrade: an error (e.g. 404).
        void readAll(res).then((text) =>
          reject(new DockerError(res.statusCode ?? 0, errorMessage(text, res.statusCode ?? 0))),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Waits for the container's next exit on a connection of its own. Resolves once the daemon has
   * registered the wait (its headers arrived), with a promise of the exit code (wrapped: a promise
   * resolved with a promise would wait for the inner one).
   */
  async waitForExit(id: string): Promise<{ exit: Promise<number | null> }> {
    const res = await this.raw(
      'POST',
      `/containers/${id}/wait`,
      { query: { condition: 'next-exit' } },
      this.prefix,
      false,
    );
    const status = res.statusCode ?? 0;
    if (status >= 400) throw new DockerError(status, errorMessage(await readAll(res), status));
    const exit = readAll(res).then(
      (text) => {
        try {
          return (JSON.parse(text) as { StatusCode?: number }).StatusCode ?? null;
        } catch {
          return null; // the daemon went away mid-wait
        }
      },
      () => null,
    );
    return { exit };
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function errorMessage(text: string, status: number): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON
  }
  return text.trim() || `HTTP ${status}`;
}
