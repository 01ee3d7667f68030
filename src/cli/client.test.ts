import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhirlApiError, WhirlClient, WhirlConnectionError, type Exchange } from './client.js';

const KEY = 'u-u-i-d:s3cr3t-s3cr3t';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

let server: Server;
let url: string;
const seen: Seen[] = [];
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const route = routes.get(`${req.method} ${req.url!.split('?')[0]}`);
      if (route) route(req, res);
      else send(res, 404, { error: 'The requested resource does not exist.', code: 'rid404' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const last = () => seen[seen.length - 1]!;

describe('WhirlClient', () => {
  it('sends Basic auth, encodes names and query, and parses JSON', async () => {
    routes.set('GET /api/v1/namespaces/_/actions/my%20pkg/a%26b', (_q, res) =>
      send(res, 200, { name: 'a&b' }),
    );
    const c = new WhirlClient({ apihost: `${url}/`, auth: KEY });
    try {
      const a = await c.actions.get('my pkg/a&b', { code: false });
      expect(a.name).toBe('a&b');
      expect(last().url).toBe('/api/v1/namespaces/_/actions/my%20pkg/a%26b?code=false');
      expect(last().auth).toBe(`Basic ${Buffer.from(KEY).toString('base64')}`);
    } finally {
      c.close();
    }
  });

  it('throws WhirlApiError with status, error and code for non-2xx', async () => {
    const c = new WhirlClient({ apihost: url, auth: KEY });
    try {
      const err = await c.actions.get('missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WhirlApiError);
      expect(err).toMatchObject({
        status: 404,
        error: 'The requested resource does not exist.',
        code: 'rid404',
      });
    } finally {
      c.close();
    }
  });

  it('puts with overwrite only on update', async () => {
    routes.set('PUT /api/v1/namespaces/_/actions/x', (_q, res) => send(res, 200, { name: 'x' }));
    const c = new WhirlClient({ apihost: url, auth: KEY });
    try {
      await c.actions.put('x', { parameters: [] });
      expect(last().url).toBe('/api/v1/namespaces/_/actions/x');
      await c.actions.put('x', {}, { overwrite: true });
      expect(last().url).toBe('/api/v1/namespaces/_/actions/x?overwrite=true');
      expect(JSON.parse(last().body)).toEqual({});
    } finally {
      c.close();
    }
  });

  it('returns failed activations from invoke as outcomes, not errors', async () => {
    const id = 'f'.repeat(32);
    routes.set('POST /api/v1/namespaces/_/actions/fail', (_q, res) =>
      send(res, 502, { error: 'bad' }, { 'x-openwhisk-activation-id': id }),
    );
    routes.set('POST /api/v1/namespaces/_/actions/slow', (_q, res) => send(res, 202, { activationId: id }));
    const c = new WhirlClient({ apihost: url, auth: KEY });
    try {
      const failed = await c.actions.invoke('fail', { a: 1 }, { result: true });
      expect(failed).toEqual({ status: 502, activationId: id, body: { error: 'bad' }, pending: false });
      expect(last().url).toBe('/api/v1/namespaces/_/actions/fail?blocking=true&result=true');
      expect(JSON.parse(last().body)).toEqual({ a: 1 });
      const slow = await c.actions.invoke('slow', {}, { blocking: true });
      expect(slow.pending).toBe(true);
      expect(slow.activationId).toBe(id);
    } finally {
      c.close();
    }
  });

  it('passes list filters to activations', async () => {
    routes.set('GET /api/v1/namespaces/_/activations', (_q, res) => send(res, 200, []));
    const c = new WhirlClient({ apihost: url, auth: KEY });
    try {
      await c.activations.list({ name: 'pkg/a', limit: 5, skip: 1, since: 10, upto: 20 });
      expect(last().url).toBe(
        '/api/v1/namespaces/_/activations?limit=5&skip=1&name=pkg%2Fa&since=10&upto=20',
      );
      await c.activations.listFull({});
      expect(last().url).toBe('/api/v1/namespaces/_/activations?docs=true');
    } finally {
      c.close();
    }
  });

  it('reports exchanges with the authorization masked', async () => {
    routes.set('GET /api/v1/namespaces', (_q, res) => send(res, 200, ['guest']));
    const exchanges: Exchange[] = [];
    const c = new WhirlClient({ apihost: url, auth: KEY, onExchange: (e) => exchanges.push(e) });
    try {
      expect(await c.namespaces.list()).toEqual(['guest']);
      expect(exchanges).toHaveLength(1);
      expect(JSON.stringify(exchanges[0])).not.toContain(Buffer.from(KEY).toString('base64'));
      expect(exchanges[0]!.requestHeaders.authorization).toBe('Basic [masked]');
    } finally {
      c.close();
    }
  });

  it('throws WhirlConnectionError when nothing listens, and on timeouts', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const c = new WhirlClient({ apihost: `http://127.0.0.1:${port}`, auth: KEY });
    const err = await c.namespaces.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhirlConnectionError);
    expect((err as WhirlConnectionError).code).toBe('ECONNREFUSED');
    c.close();

    routes.set('GET /api/v1/namespaces/_/limits', () => undefined); // never answers
    const t = new WhirlClient({ apihost: url, auth: KEY, timeoutMs: 100 });
    const timeout = await t.namespaces.limits().catch((e: unknown) => e);
    expect(timeout).toMatchObject({ code: 'ETIMEDOUT' });
    t.close();
  });
});

/** A throwaway self-signed certificate, made with the openssl command when it is installed. */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'whirl-tls-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
    const args = [
      'req',
      '-x509',
      ...curve,
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ];
    execFileSync('openssl', args, { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();

describe.skipIf(tls === undefined)('WhirlClient over TLS', () => {
  it('refuses a self-signed certificate unless insecure', async () => {
    const s = createHttpsServer(tls!, (_req, res) => send(res, 200, ['guest']));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const apihost = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const strict = new WhirlClient({ apihost, auth: KEY });
      const err = await strict.namespaces.list().catch((e: unknown) => e);
      strict.close();
      expect(err).toBeInstanceOf(WhirlConnectionError);
      expect((err as WhirlConnectionError).code).toMatch(/CERT|SIGNED/);

      const insecure = new WhirlClient({ apihost, auth: KEY, insecure: true });
      expect(await insecure.namespaces.list()).toEqual(['guest']);
      insecure.close();
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
