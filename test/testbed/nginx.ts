import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import {
  childPids,
  Cleanup,
  delay,
  makeTempDir,
  runChecked,
  spawnDaemon,
  waitForDaemon,
  withPortRetry,
  type Daemon,
} from './process.js';

export interface NginxOptions {
  /** Directives pasted inside `server { … }` (extra locations such as /static/). */
  serverBlock?: string;
  /** `host:port` of the app; `location /` proxies to it. */
  upstream?: string;
  /** While this file exists every request is answered 503 with the maintenance page. */
  maintenanceFlagPath?: string;
  /** HTML of the maintenance page (a short default otherwise). */
  maintenancePage?: string;
  /** Certificate and key, as file paths or PEM text; the server then speaks HTTPS only. */
  tls?: { cert: string; key: string };
  /**
   * A fixed address and port to listen on instead of a free port on 127.0.0.1 (e.g. a privateLoopbackAddress() and
   * 443, for a server reached as https://<name>/ through a hosts line); `serverName` then names the site.
   */
  listen?: { host: string; port: number };
  serverName?: string;
}

export interface NginxServer {
  port: number;
  url: string;
  configPath: string;
  dir: string;
  errorLogPath: string;
  accessLogPath: string;
  /** Rewrites the config (with changed options, if given), checks it with `nginx -t`, reloads gracefully. */
  reload(options?: Partial<NginxOptions>): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_MAINTENANCE_PAGE =
  '<!doctype html><html><head><title>Maintenance</title></head>' +
  '<body><h1>Down for maintenance</h1><p>We are deploying a new version and will be back in a minute.</p></body></html>\n';

/**
 * The maintenance part of a server block, as the deploy action documents it: the flag is tested per request, so
 * creating or removing the file switches maintenance on or off without a reload. The page is served from a named
 * location, which (unlike a URI) is not run through the server-level `if` again.
 */
export function maintenanceDirectives(flagPath: string, pageRoot: string, retryAfterSeconds = 60): string {
  return [
    `if (-f ${flagPath}) {`,
    '    return 503;',
    '}',
    'error_page 503 @maintenance;',
    'location @maintenance {',
    `    root ${pageRoot};`,
    '    rewrite ^ /maintenance.html break;',
    `    add_header Retry-After ${retryAfterSeconds} always;`,
    '    add_header Cache-Control "no-store" always;',
    '}',
  ].join('\n');
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => (line ? ' '.repeat(spaces) + line : line))
    .join('\n');
}

function pemFile(dir: string, name: string, value: string): string {
  if (!value.includes('-----BEGIN')) return value;
  const file = path.join(dir, name);
  fs.writeFileSync(file, value, { mode: 0o600 });
  return file;
}

export function nginxConfig(dir: string, port: number, options: NginxOptions): string {
  const tmp = path.join(dir, 'tmp');
  const server: string[] = [];
  const host = options.listen?.host ?? '127.0.0.1';
  if (options.tls) {
    server.push(`listen ${host}:${port} ssl;`);
    server.push(`ssl_certificate ${pemFile(dir, 'tls.crt', options.tls.cert)};`);
    server.push(`ssl_certificate_key ${pemFile(dir, 'tls.key', options.tls.key)};`);
  } else {
    server.push(`listen ${host}:${port};`);
  }
  server.push(`server_name ${options.serverName ?? '_'};`);
  if (options.maintenanceFlagPath) {
    server.push(maintenanceDirectives(options.maintenanceFlagPath, path.join(dir, 'maintenance')));
  }
  if (options.upstream) {
    server.push(
      [
        'location / {',
        `    proxy_pass http://${options.upstream};`,
        '    proxy_set_header Host $http_host;',
        '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '    proxy_set_header X-Forwarded-Proto $scheme;',
        '    proxy_connect_timeout 5s;',
        '}',
      ].join('\n'),
    );
  }
  if (options.serverBlock) server.push(options.serverBlock.trim());

  return [
    'daemon off;',
    'worker_processes 1;',
    // As root, workers would run as nobody and could not read our 0700 temp dir (nor see the maintenance flag).
    ...(process.getuid?.() === 0 ? ['user root root;'] : []),
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} notice;`,
    'events { worker_connections 256; }',
    'http {',
    '    include /etc/nginx/mime.types;',
    '    default_type application/octet-stream;',
    `    access_log ${path.join(dir, 'access.log')};`,
    `    client_body_temp_path ${tmp}/client_body;`,
    `    proxy_temp_path ${tmp}/proxy;`,
    `    fastcgi_temp_path ${tmp}/fastcgi;`,
    `    uwsgi_temp_path ${tmp}/uwsgi;`,
    `    scgi_temp_path ${tmp}/scgi;`,
    '    sendfile on;',
    '    keepalive_timeout 5s;',
    '    server {',
    indent(server.join('\n'), 8),
    '    }',
    '}',
    '',
  ].join('\n');
}

export async function startNginx(initial: NginxOptions = {}): Promise<NginxServer> {
  const dir = makeTempDir('nginx');
  const cleanup = new Cleanup(`nginx in ${dir}`).removePath(dir);
  const configPath = path.join(dir, 'nginx.conf');
  const errorLogPath = path.join(dir, 'error.log');
  let options = { ...initial };
  const flags = (): string[] => ['-p', `${dir}/`, '-c', configPath, '-e', errorLogPath];

  const writeConfig = (port: number): void => {
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'maintenance'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'maintenance', 'maintenance.html'),
      options.maintenancePage ?? DEFAULT_MAINTENANCE_PAGE,
    );
    fs.writeFileSync(configPath, nginxConfig(dir, port, options));
  };

  try {
    const host = options.listen?.host ?? '127.0.0.1';
    const launch = async (): Promise<{ port: number; daemon: Daemon }> => {
      const candidate = options.listen?.port ?? (await freePort());
      writeConfig(candidate);
      const daemon = spawnDaemon('nginx', flags(), { cwd: dir, logPath: path.join(dir, 'nginx.out') });
      cleanup.killProcessGroup(daemon.pid);
      try {
        await waitForDaemon(
          {
            ...daemon,
            log: () => daemon.log() + (fs.existsSync(errorLogPath) ? fs.readFileSync(errorLogPath, 'utf8') : ''),
          },
          'nginx',
          async () => {
            if (!fs.existsSync(path.join(dir, 'nginx.pid'))) return false;
            await waitForPort(host, candidate, 5000);
            return true;
          },
        );
      } catch (error) {
        await daemon.stop('SIGKILL');
        throw error;
      }
      return { port: candidate, daemon };
    };
    const { port, daemon } = options.listen ? await launch() : await withPortRetry(launch);

    return {
      port,
      url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
      configPath,
      dir,
      errorLogPath,
      accessLogPath: path.join(dir, 'access.log'),
      async reload(changes = {}) {
        options = { ...options, ...changes };
        writeConfig(port);
        await runChecked('nginx', ['-t', '-q', ...flags()]);
        const oldWorkers = childPids(daemon.pid);
        // Only the master: workers would log and ignore it.
        process.kill(daemon.pid, 'SIGHUP');
        // A reload is done once the master has replaced every old worker with one that read the new config.
        for (let i = 0; i < 200; i++) {
          const workers = childPids(daemon.pid);
          if (workers.length > 0 && workers.every((pid) => !oldWorkers.includes(pid))) return;
          await delay(50);
        }
        throw new Error(`nginx did not reload within 10 s:\n${fs.readFileSync(errorLogPath, 'utf8').slice(-2000)}`);
      },
      async stop() {
        // SIGTERM is nginx's fast shutdown: the test bed has no clients worth waiting for.
        await daemon.stop('SIGTERM', 5000);
        cleanup.runNow();
      },
    };
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
}
