import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Cleanup, delay, makeTempDir, runCommand, spawnDaemon, waitForDaemon } from './process.js';

export interface SupervisorProgram {
  command: string;
  directory?: string;
  environment?: Record<string, string>;
  autostart?: boolean;
  /** true, false or 'unexpected' (supervisor's default). */
  autorestart?: boolean | 'unexpected';
  /** Seconds a program must stay up to count as started (supervisor's default is 1). */
  startsecs?: number;
  startretries?: number;
  stopsignal?: string;
  stopwaitsecs?: number;
  /** Also stop the program's children (gunicorn workers, a shell's commands). */
  stopasgroup?: boolean;
  user?: string;
}

export interface SupervisordServer {
  configPath: string;
  socketPath: string;
  dir: string;
  logPath: string;
  /** Log file of one program's stdout (stderr is merged into it). */
  programLogPath(program: string): string;
  ctl(...args: string[]): Promise<{ stdout: string; code: number }>;
  /** Current state (RUNNING, STOPPED, STARTING, BACKOFF, EXITED, FATAL…) of a program. */
  state(program: string): Promise<string>;
  waitForState(program: string, state: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SupervisordOptions {
  programs: Record<string, SupervisorProgram>;
}

/** supervisor reads its config with Python's %-interpolation: a literal % must be doubled. */
function escapePercent(value: string): string {
  return value.replace(/%/g, '%%');
}

/**
 * supervisor splits `environment=` with a non-POSIX shlex: quotes group but cannot be escaped, and surrounding quote
 * characters are stripped from every value. Values that cannot survive that are refused rather than mangled.
 */
function environmentLine(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`invalid environment variable name: ${key}`);
      const quote = value.includes('"') ? "'" : '"';
      if (/[\r\n]/.test(value) || value.includes(quote) || /^['"]|['"]$/.test(value)) {
        throw new Error(
          `environment value of ${key} cannot be written to a supervisor config (newline, both quote kinds or a quote at either end)`,
        );
      }
      return `${key}=${quote}${escapePercent(value)}${quote}`;
    })
    .join(',');
}

export function supervisordConfig(dir: string, programs: Record<string, SupervisorProgram>): string {
  const socketPath = path.join(dir, 'supervisor.sock');
  const lines = [
    '[unix_http_server]',
    `file=${socketPath}`,
    'chmod=0700',
    '',
    '[supervisord]',
    'nodaemon=true',
    `logfile=${path.join(dir, 'supervisord.log')}`,
    `pidfile=${path.join(dir, 'supervisord.pid')}`,
    `childlogdir=${path.join(dir, 'logs')}`,
    `directory=${dir}`,
    'loglevel=info',
    // Running as root without user= makes supervisord warn on every start.
    ...(process.getuid?.() === 0 ? ['user=root'] : []),
    '',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '',
    '[supervisorctl]',
    `serverurl=unix://${socketPath}`,
    '',
  ];
  for (const [name, program] of Object.entries(programs)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid supervisor program name: ${name}`);
    lines.push(`[program:${name}]`, `command=${escapePercent(program.command)}`);
    if (program.directory) lines.push(`directory=${escapePercent(program.directory)}`);
    if (program.environment) lines.push(`environment=${environmentLine(program.environment)}`);
    if (program.autostart !== undefined) lines.push(`autostart=${program.autostart}`);
    if (program.autorestart !== undefined) lines.push(`autorestart=${program.autorestart}`);
    if (program.startsecs !== undefined) lines.push(`startsecs=${program.startsecs}`);
    if (program.startretries !== undefined) lines.push(`startretries=${program.startretries}`);
    if (program.stopsignal) lines.push(`stopsignal=${program.stopsignal}`);
    if (program.stopwaitsecs !== undefined) lines.push(`stopwaitsecs=${program.stopwaitsecs}`);
    if (program.stopasgroup !== undefined)
      lines.push(`stopasgroup=${program.stopasgroup}`, `killasgroup=${program.stopasgroup}`);
    if (program.user) lines.push(`user=${program.user}`);
    lines.push('redirect_stderr=true', `stdout_logfile=${path.join(dir, 'logs', `${name}.log`)}`, '');
  }
  return lines.join('\n');
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One XML-RPC call over supervisord's unix socket; resolves with the response body (faults included). */
function xmlRpc(socketPath: string, method: string, ...params: string[]): Promise<string> {
  const body =
    `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>` +
    params.map((p) => `<param><value><string>${escapeXml(p)}</string></value></param>`).join('') +
    '</params></methodCall>';
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath,
        path: '/RPC2',
        method: 'POST',
        headers: { 'Content-Type': 'text/xml' },
        timeout: 5000,
        agent: false,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(text));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`supervisord did not answer ${method}`)));
    request.on('error', reject);
    request.end(body);
  });
}

export async function startSupervisord(options: SupervisordOptions): Promise<SupervisordServer> {
  const dir = makeTempDir('supervisord');
  const cleanup = new Cleanup(`supervisord in ${dir}`).removePath(dir);
  const configPath = path.join(dir, 'supervisord.conf');
  const socketPath = path.join(dir, 'supervisor.sock');
  const logPath = path.join(dir, 'supervisord.log');
  try {
    fs.mkdirSync(path.join(dir, 'logs'));
    fs.writeFileSync(configPath, supervisordConfig(dir, options.programs));
    const daemon = spawnDaemon('supervisord', ['-c', configPath], {
      cwd: dir,
      logPath: path.join(dir, 'supervisord.out'),
    });
    // supervisord gives every program its own process group, so its group alone would leave them running.
    cleanup.killChildProcessGroups(daemon.pid).killProcessGroup(daemon.pid);

    const ctl = async (...args: string[]): Promise<{ stdout: string; code: number }> => {
      const result = await runCommand('supervisorctl', ['-c', configPath, ...args], { cwd: dir, timeoutMs: 60000 });
      return { stdout: result.stdout + result.stderr, code: result.code };
    };
    // Polling goes through supervisord's XML-RPC socket: a supervisorctl run costs a Python start-up each time.
    const state = async (program: string): Promise<string> => {
      const info = await xmlRpc(socketPath, 'supervisor.getProcessInfo', program);
      return /<name>statename<\/name>\s*<value><string>([A-Z]+)<\/string>/.exec(info)?.[1] ?? 'UNKNOWN';
    };

    try {
      await waitForDaemon(
        { ...daemon, log: () => daemon.log() + (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '') },
        'supervisord',
        async () =>
          fs.existsSync(socketPath) &&
          (await xmlRpc(socketPath, 'supervisor.getState').catch(() => '')).includes('RUNNING'),
      );
    } catch (error) {
      await daemon.stop('SIGKILL');
      throw error;
    }

    return {
      configPath,
      socketPath,
      dir,
      logPath,
      programLogPath: (program) => path.join(dir, 'logs', `${program}.log`),
      ctl,
      state,
      async waitForState(program, wanted, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs;
        let current = await state(program);
        while (current !== wanted) {
          if (Date.now() >= deadline) {
            throw new Error(`supervisor program ${program} is ${current}, not ${wanted}, after ${timeoutMs} ms`);
          }
          await delay(100);
          current = await state(program);
        }
      },
      async stop() {
        // SIGTERM makes supervisord stop its programs (honouring their stopsignal) before it exits.
        await daemon.stop('SIGTERM', 15000);
        cleanup.runNow();
      },
    };
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
}
