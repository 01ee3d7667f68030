// The HTTP plumbing shared by the Node.js-based proxies (nodejs and native): the launch contract
// (where to listen, how to say "ready", how to stop) and OpenWhisk's request rules (POST /init and
// POST /run with a JSON object body; anything else is 500 {"error":"Bad request."}).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeSync, unlinkSync, writeSync } from 'node:fs';

/** What a handler answers: a status and either a value to serialise or an already serialised body. */
export interface Reply {
  status: number;
  body?: unknown;
  /** Pre-serialised JSON, when the handler had to serialise early (to classify a bad result). */
  json?: string;
}

export type Handler = (body: Record<string, unknown>) => Reply | Promise<Reply>;

export interface ProxyServerOptions {
  init: Handler;
  run: Handler;
  /** Called on SIGTERM/SIGINT before the process exits (e.g. to kill child processes). */
  onShutdown?: () => void;
}

/**
 * Largest request body accepted. Whirl allows 48 MB of decoded code, which is about 64 MB once
 * base64-encoded and wrapped in JSON; a little headroom on top of that.
 */
export const MAX_BODY_BYTES = 72 * 1024 * 1024;

const BAD_REQUEST = JSON.stringify({ error: 'Bad request.' });

export function reply(status: number, body: unknown): Reply {
  return { status, body };
}

export function errorReply(status: number, message: string): Reply {
  return { status, body: { error: message } };
}

function send(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** Reads the whole body; resolves undefined when it is over the limit (the caller answers 413). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(tooLarge ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/** Parses a request body the way the OpenWhisk Node.js runtime does: empty means {}. */
function parseBody(raw: Buffer): Record<string, unknown> | undefined {
  if (raw.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ProxyServerOptions): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  const handler =
    req.method === 'POST'
      ? path === '/init'
        ? opts.init
        : path === '/run'
          ? opts.run
          : undefined
      : undefined;
  if (!handler) {
    req.resume();
    send(res, 500, BAD_REQUEST);
    return;
  }
  const raw = await readBody(req);
  if (raw === undefined) {
    res.setHeader('Connection', 'close');
    send(res, 413, JSON.stringify({ error: `Request body exceeds the limit of ${MAX_BODY_BYTES} bytes.` }));
    return;
  }
  const body = parseBody(raw);
  if (!body) {
    send(res, 500, BAD_REQUEST);
    return;
  }
  const out = await handler(body);
  send(res, out.status, out.json ?? JSON.stringify(out.body ?? {}));
}

/** Where to listen, from __WHIRL_LISTEN: a Unix socket path (contains "/") or a TCP port. */
export function listenTarget(env: NodeJS.ProcessEnv = process.env): { path: string } | { port: number } {
  const value = env.__WHIRL_LISTEN?.trim() || '8080';
  if (value.includes('/')) return { path: value };
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`__WHIRL_LISTEN must be a socket path or a port number, got "${value}"`);
  }
  return { port };
}

/** Tells the launcher we accept connections: one "ready" line on __WHIRL_READY_FD, then close it. */
function signalReady(value: string | undefined): void {
  const fd = Number(value);
  if (!value || !Number.isInteger(fd) || fd < 0) return;
  try {
    writeSync(fd, 'ready\n');
    closeSync(fd);
  } catch {
    // The launcher went away or passed no pipe; nothing useful to do about it.
  }
}

/**
 * Starts the proxy: listens as __WHIRL_LISTEN says, signals readiness, and exits promptly on SIGTERM.
 * Prints nothing on a clean start (every byte on stdout/stderr ends up in activation logs).
 */
export function startProxyServer(opts: ProxyServerOptions): Server {
  const target = listenTarget();
  // Launch-contract variables are for the proxy only; keep them out of the action's environment.
  const readyFd = process.env.__WHIRL_READY_FD;
  delete process.env.__WHIRL_LISTEN;
  delete process.env.__WHIRL_READY_FD;

  const server = createServer((req, res) => {
    handle(req, res, opts).catch((err: unknown) => {
      // Handlers answer every expected failure themselves; this is a proxy bug, not an action's.
      process.stderr.write(`Internal proxy error: ${String(err)}\n`);
      if (!res.headersSent) send(res, 500, JSON.stringify({ error: 'Internal error.' }));
      else res.destroy();
    });
  });
  // /init and /run may legitimately take as long as the action's time limit (up to minutes), and the
  // invoker keeps connections open between activations: no server-side timeouts.
  server.requestTimeout = 0;
  server.timeout = 0;
  server.keepAliveTimeout = 0;

  const shutdown = (): void => {
    try {
      opts.onShutdown?.();
    } finally {
      if ('path' in target) {
        try {
          unlinkSync(target.path);
        } catch {
          // Already gone, or on a read-only mount: either way not our problem any more.
        }
      }
      process.exit(0);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  server.on('error', (err) => {
    process.stderr.write(`Proxy cannot listen: ${err.message}\n`);
    process.exit(1);
  });
  const onListening = (): void => signalReady(readyFd);
  if ('path' in target) {
    try {
      unlinkSync(target.path); // a stale socket file from a previous proxy would make listen() fail
    } catch {
      // Nothing to remove.
    }
    server.listen(target.path, onListening);
  } else {
    server.listen(target.port, '0.0.0.0', onListening);
  }
  return server;
}
