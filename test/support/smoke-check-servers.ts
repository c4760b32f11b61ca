// Real local HTTP(S) servers for the smoke-check tests and benchmark: scripted answers per request number,
// a server that starts late on a reserved port, one that hangs, and a self-signed TLS certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, requestNumber: number) => void;

export interface LocalServer {
  readonly port: number;
  readonly origin: string;
  url(path?: string): string;
  /** Requests received so far. */
  readonly requests: () => number;
  /** Connections reset so far (see ServerOptions.resetFirst). */
  readonly resets: () => number;
  close(): Promise<void>;
}

export interface ServerOptions {
  tls?: { key: string; cert: string };
  port?: number;
  /** Connections to reset (TCP RST right after accept) before answering: a site whose app is still coming up. */
  resetFirst?: number;
}

export async function startServer(handler: Handler, options: ServerOptions = {}): Promise<LocalServer> {
  let count = 0;
  const listener: http.RequestListener = (req, res) => {
    count += 1;
    handler(req, res, count);
  };
  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  let resets = 0;
  const sockets = new Set<net.Socket>();
  // A plain TCP front counts connections, so "reset the first N" holds however fast or slow the client is.
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (resets < (options.resetFirst ?? 0)) {
      resets += 1;
      socket.resetAndDestroy();
    } else {
      server.emit('connection', socket);
    }
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => resolve());
  });
  const port = (front.address() as net.AddressInfo).port;
  const origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (path = '/') => `${origin}${path}`,
    requests: () => count,
    resets: () => resets,
    close: () =>
      new Promise((resolve) => {
        // Hanging requests hold their sockets open: close them, or close() would wait for ever.
        for (const socket of sockets) socket.destroy();
        front.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (yet): connections to it are refused until a server takes it. */
export function reservePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `handler` on `port` after `delayMs`: until then the port refuses connections. */
export function startLater(port: number, delayMs: number, handler: Handler, options: ServerOptions = {}) {
  let started: LocalServer | undefined;
  let readyAt: number | undefined;
  const timer = setTimeout(() => {
    void startServer(handler, { ...options, port }).then((server) => {
      started = server;
      readyAt = performance.now();
    });
  }, delayMs);
  return {
    url: (path = '/') => `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    /** performance.now() when the server began to listen. */
    readyAt: () => readyAt,
    close: async () => {
      clearTimeout(timer);
      await started?.close();
    },
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function text(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(body);
}

export interface SelfSignedCertificate {
  readonly key: string;
  readonly cert: string;
  readonly certPath: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI in a private temp dir. */
export function selfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'smoke-check-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ],
    { stdio: 'pipe' },
  );
  return {
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    certPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
