import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import * as core from '../shared/runner-commands.js';
import * as exec from '@actions/exec';
import type * as github from '@actions/github';
import type { IssueComments } from './comment.js';
import type { Git } from './diff.js';
import { environmentInputs, type InputSource } from '../shared/inputs.js';

export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
}

/** What the action needs from the runner; its workflow commands in production, a recorder in tests. */
export interface Runner {
  input: InputSource;
  env: Record<string, string | undefined>;
  info(message: string): void;
  warning(message: string, properties?: AnnotationProperties): void;
  notice(message: string, properties?: AnnotationProperties): void;
  startGroup(name: string): void;
  endGroup(): void;
  setOutput(name: string, value: string): void;
  appendSummary(markdown: string): Promise<void>;
}

/** The world outside the pure modules, passed in so `run` is tested in-process. */
export interface Edges {
  runner: Runner;
  /** Runs the test command in a shell; resolves to its exit code. */
  runCommand(command: string, cwd: string): Promise<number>;
  /** Files (not directories) matching a glob or path, absolute. */
  findFiles(pattern: string, cwd: string): Promise<string[]>;
  fileExists(absolutePath: string): boolean;
  git: Git;
  writeFile(path: string, content: string): Promise<void>;
  readEvent(): unknown;
  comments(token: string, owner: string, repo: string, issue: number): IssueComments;
}

/** The production edges: the runner's workflow commands, processes through @actions/exec, the REST API through Octokit. */
export function defaultEdges(): Edges {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  return {
    runner: {
      input: environmentInputs,
      env: process.env,
      info: (m) => core.info(m),
      warning: (m, p) => core.warning(m, p),
      notice: (m, p) => core.notice(m, p),
      startGroup: (n) => core.startGroup(n),
      endGroup: () => core.endGroup(),
      setOutput: (n, v) => core.setOutput(n, v),
      appendSummary: async (markdown) => {
        if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();
      },
    },
    runCommand: (command, cwd) =>
      process.platform === 'win32'
        ? exec.exec('pwsh', ['-NoLogo', '-NoProfile', '-Command', command], { cwd, ignoreReturnCode: true })
        : exec.exec('bash', ['-e', '-o', 'pipefail', '-c', command], { cwd, ignoreReturnCode: true }),
    findFiles: async (pattern, cwd) => {
      const absolute = isAbsolute(pattern) ? pattern : join(cwd, pattern);
      if (!/[*?[\]{}]/.test(pattern)) return existsSync(absolute) ? [absolute] : [];
      // Not @actions/glob: it imports @actions/core, and with it undici (find-files.ts says how it matches alike);
      // minimatch is loaded only on this path.
      const { globFiles } = await import('./find-files.js');
      return globFiles(absolute, cwd);
    },
    fileExists: (path) => existsSync(path) && statSync(path).isFile(),
    git: async (args) => {
      const result = await exec.getExecOutput('git', args, { cwd: workspace, ignoreReturnCode: true, silent: true });
      return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    },
    writeFile: async (path, content) => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    },
    readEvent: () => {
      const path = process.env.GITHUB_EVENT_PATH;
      if (!path || !existsSync(path)) return undefined;
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    },
    comments: (token, owner, repo, issue) => {
      // Octokit is loaded on the pull-request path only: a push run never pays for it.
      let octokit: Promise<ReturnType<typeof github.getOctokit>> | undefined;
      const client = () => (octokit ??= import('@actions/github').then((m) => m.getOctokit(token)));
      return {
        list: async () => {
          const octokit = await client();
          return octokit.paginate(octokit.rest.issues.listComments, {
            owner,
            repo,
            issue_number: issue,
            per_page: 100,
          });
        },
        create: async (body) => {
          await (await client()).rest.issues.createComment({ owner, repo, issue_number: issue, body });
        },
        update: async (id, body) => {
          await (await client()).rest.issues.updateComment({ owner, repo, comment_id: id, body });
        },
      };
    },
  };
}
