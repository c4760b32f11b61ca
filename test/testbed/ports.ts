import net from 'node:net';

/** A port the kernel just handed out on `host`; another process may still take it, so starters retry on EADDRINUSE. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no port assigned on ${host}`))));
    });
  });
}

/** True when nothing on this machine listens on host:port (binding it succeeds). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function connectOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls until a TCP connect to host:port succeeds; rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await connectOnce(host, port)) return;
    if (Date.now() >= deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A loopback address of its own (127.<100-254>.x.y: the whole 127/8 is this machine's) where `port` is free, for a
 * server that must listen on a fixed port (443 for an https://<name>/ URL) without meeting a parallel test's.
 */
export async function privateLoopbackAddress(port: number): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const octet = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
    const address = `127.${octet(100, 254)}.${octet(0, 255)}.${octet(1, 254)}`;
    if (await portIsFree(port, address)) return address;
  }
  throw new Error(`no loopback address with port ${port} free after 50 tries`);
}
