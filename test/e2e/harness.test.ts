// The runner harness's own end-to-end tests: fixture actions under test/fixtures/harness-actions/ run under Node 24
// and the harness must read what they did the way the GitHub runner documents it.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ActionRunOptions, Job, SecretLeakError, runAction } from '../harness/index.js';
import { REPO_ROOT, killProcessGroup, runEntry } from '../harness/step-process.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'harness-actions');

/** A probe step: the fixture does what `plan` says (see probe/main.mjs). */
function probe(plan: object, options: Partial<ActionRunOptions> = {}, action = 'probe'): ActionRunOptions {
  return {
    action,
    actionDir: join(FIXTURES, action),
    ...options,
    inputs: action === 'probe' ? { 'required-thing': 'given', ...options.inputs } : options.inputs,
    env: { ...options.env, PROBE_PLAN: JSON.stringify(plan) },
  };
}

const seen = (outputs: Record<string, string>) =>
  JSON.parse(outputs.seen) as { env: Record<string, string>; cwd: string; event: unknown; node: string };

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'harness-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('inputs and the step environment', () => {
  test('action.yml defaults, expression defaults and the runner INPUT_ names reach the step', async () => {
    const result = await runAction(
      probe({}, { inputs: { 'target name': 'web 1', 'dry-run': 'true' }, github: { token: 'ghs_0123456789abcdef' } }),
    );
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.outputs.inputs)).toEqual({
      INPUT_GREETING: 'hello',
      INPUT_TARGET_NAME: 'web 1',
      'INPUT_DRY-RUN': 'true',
      INPUT_COUNT: '3',
      INPUT_TOKEN: `sha256:${createHash('sha256').update('ghs_0123456789abcdef').digest('hex')}`,
      INPUT_REPOSITORY: 'octo-org/octo-app',
      'INPUT_REQUIRED-THING': 'given',
    });
    expect(result.warnings).toEqual([]);
  });

  test('without a token the github.token default is empty; a missing required input only warns', async () => {
    const result = await runAction({ ...probe({}), inputs: { 'old-name': 'x' } });
    expect(JSON.parse(result.outputs.inputs).INPUT_TOKEN).toBe('');
    expect(result.warnings).toEqual([
      "Input 'old-name' has been deprecated with message: use greeting instead",
      'Input required and not supplied: required-thing',
    ]);
  });

  test('an undeclared input is refused before anything runs', async () => {
    await expect(runAction(probe({}, { inputs: { greting: 'typo' } }))).rejects.toThrow(
      /Unexpected input\(s\) 'greting', valid inputs are \['greeting', 'target name'/,
    );
  });

  test('runner variables are set, the event payload is readable, and the parent INPUT_/GITHUB_ values do not leak', async () => {
    process.env.INPUT_GREETING = 'from the parent';
    process.env.GITHUB_TOKEN_FROM_PARENT = 'parent';
    try {
      const workspace = mkdtempSync(join(scratch, 'ws-'));
      const payload = { pull_request: { number: 7, head: { ref: 'feature' } } };
      const result = await runAction(
        probe(
          {},
          {
            event: { name: 'pull_request', payload },
            github: { ref: 'refs/pull/7/merge', sha: 'a'.repeat(40), repository: 'acme/pizza', workspace },
            debug: true,
          },
        ),
      );
      const { env, cwd, event, node } = seen(result.outputs);
      expect(node).toMatch(/^v24\./);
      expect(cwd).toBe(workspace);
      expect(event).toEqual(payload);
      expect(env).toMatchObject({
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_SHA: 'a'.repeat(40),
        GITHUB_REPOSITORY: 'acme/pizza',
        GITHUB_REPOSITORY_OWNER: 'acme',
        GITHUB_WORKSPACE: workspace,
        GITHUB_API_URL: 'https://api.github.com',
        GITHUB_SERVER_URL: 'https://github.com',
        RUNNER_OS: 'Linux',
        RUNNER_DEBUG: '1',
      });
      for (const name of [
        'GITHUB_OUTPUT',
        'GITHUB_ENV',
        'GITHUB_PATH',
        'GITHUB_STATE',
        'GITHUB_STEP_SUMMARY',
        'RUNNER_TEMP',
      ]) {
        expect(env[name]).toMatch(/^\/.+/);
      }
      expect(JSON.parse(result.outputs.inputs).INPUT_GREETING).toBe('hello');
      expect(env).not.toHaveProperty('GITHUB_TOKEN_FROM_PARENT');
      expect(env).not.toHaveProperty('NODE_OPTIONS');
    } finally {
      delete process.env.INPUT_GREETING;
      delete process.env.GITHUB_TOKEN_FROM_PARENT;
    }
  });

  test("a step's caches (XDG_CACHE_HOME) are the job's own, gone when the job ends, as on a fresh hosted runner", async () => {
    // ncc, pip and others cache under XDG_CACHE_HOME: a job's build must not fill the machine's home, one folder per job.
    const result = await runAction(probe({}));
    const { env } = seen(result.outputs);
    const cache = env.XDG_CACHE_HOME;
    expect(cache).toMatch(/\/runbook-job-[^/]+\/cache$/);
    expect(dirname(cache)).toBe(dirname(env.RUNNER_TEMP));
    expect(existsSync(dirname(cache))).toBe(false);
  });
});

describe('file commands and workflow commands', () => {
  test('outputs (one-line and heredoc), state, env, path and summary come back', async () => {
    const report = 'line 1\nline = 2 << not a heredoc\n\nline 4';
    const result = await runAction(
      probe({
        outputs: { report, url: 'https://x/?a=b' },
        state: { pid: '4242', multi: 'a\nb' },
        env: { FROM_PROBE: 'v=1' },
        path: ['/opt/tool/bin'],
        summary: '## Probe\n| a | b |\n',
      }),
    );
    expect(result.outputs.report).toBe(report);
    expect(result.outputs.url).toBe('https://x/?a=b');
    expect(result.state).toEqual({ pid: '4242', multi: 'a\nb' });
    expect(result.env).toEqual({ FROM_PROBE: 'v=1' });
    expect(result.path).toEqual(['/opt/tool/bin']);
    expect(result.summary).toBe('## Probe\n| a | b |\n');
    expect(result.warnings).toEqual(["Output 'url' is not declared in " + join(FIXTURES, 'probe', 'action.yml')]);
  });

  test('a heredoc without its closing delimiter fails the step like the runner', async () => {
    const result = await runAction(probe({ rawOutput: 'broken<<EOF\nno end\n' }));
    expect(result.exitCode).toBe(0);
    expect(result.outcome).toBe('failure');
    expect(result.annotations).toContainEqual({
      level: 'error',
      message:
        "Unable to process file command 'output' successfully. Invalid output value. Matching delimiter not found 'EOF'",
      properties: {},
    });
  });

  test('annotations with properties and escaping, masks, groups, stop-commands, legacy commands', async () => {
    const result = await runAction(
      probe({
        stdout: [
          '::group::Migrations',
          '::error file=shop/models.py,line=12,col=5,endLine=14,title=Migration%3A 0003%2C pizzas::column %22size%22%0Amissing 100%25',
          '::endgroup::',
          '::add-mask::not-a-declared-secret',
          '::stop-commands::f00dcafe',
          '::warning::ignored while stopped',
          '::f00dcafe::',
          '::set-output name=legacy::old way',
        ],
        stderr: ['::notice title=From stderr::stderr lines are commands too'],
      }),
    );
    expect(result.annotations).toEqual([
      {
        level: 'error',
        message: 'column %22size%22\nmissing 100%',
        properties: { file: 'shop/models.py', line: '12', col: '5', endLine: '14', title: 'Migration: 0003, pizzas' },
      },
      { level: 'notice', message: 'stderr lines are commands too', properties: { title: 'From stderr' } },
    ]);
    expect(result.masks).toEqual(['not-a-declared-secret']);
    expect(result.groups).toEqual(['Migrations']);
    expect(result.outputs.legacy).toBe('old way');
    expect(result.deprecations).toHaveLength(1);
    expect(result.log).toContain('::warning::ignored while stopped');
  });

  test('GITHUB_ENV cannot set NODE_OPTIONS', async () => {
    const result = await runAction(probe({ env: { NODE_OPTIONS: '--require /tmp/evil.js' } }));
    expect(result.env).toEqual({});
    expect(result.annotations.map((a) => a.message)).toContain(
      "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.",
    );
  });

  test('the real @actions/core: setOutput, saveState→getState, setSecret, summary, annotations, setFailed', async () => {
    const url = 'postgres://shop:s3cr%3Dt-Pass@db.internal:5432/shop';
    const result = await runAction({
      action: 'core-interop',
      actionDir: join(FIXTURES, 'core-interop'),
      inputs: { 'database-url': url, fail: 'true' },
      secrets: [url],
    });
    expect(result.outputs).toEqual({ host: 'db.internal', notes: 'first line\nsecond: with, punctuation\n100% done' });
    expect(result.state).toEqual({ 'database-host': 'db.internal' });
    expect(result.masks).toEqual(['s3cr=t-Pass']);
    expect(result.env).toEqual({ FROM_CORE: 'exported value' });
    expect(result.path).toEqual(['/opt/from-core/bin']);
    expect(result.summary).toContain('<h1>Database check</h1>');
    expect(result.summary).toContain('<td>db.internal</td><td>ok</td>');
    expect(result.groups).toEqual(['details']);
    expect(result.annotations).toEqual([
      {
        level: 'warning',
        message: 'disk nearly full\nsecond line',
        properties: { title: 'Space: low, really', file: 'app/settings.py', line: '12' },
      },
      { level: 'notice', message: '100% of migrations applied', properties: {} },
      { level: 'debug', message: 'debug detail', properties: {} },
      { level: 'error', message: 'database unreachable: connection refused', properties: {} },
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.outcome).toBe('failure');
    expect(result.deprecations).toEqual([]);
    expect(result.post?.ran).toBe(true);
    expect(result.post?.log).toContain('post sees database-host=db.internal');
  });
});

describe('post steps', () => {
  test('state saved by main reaches post as STATE_<name>, with the same inputs', async () => {
    const result = await runAction(probe({ state: { 'backup-file': '/tmp/b.sql' } }, { inputs: { greeting: 'hi' } }));
    expect(result.post?.ran).toBe(true);
    expect(result.post?.log).toContain('post state {"STATE_backup-file":"/tmp/b.sql"}');
    expect(result.post?.log).toContain('post input greeting=hi');
    expect(result.post?.summary).toBe('post summary of probe\n');
  });

  const postIf: [string, 'success' | 'failure', boolean][] = [
    ['probe', 'failure', true],
    ['post-success', 'success', true],
    ['post-success', 'failure', false],
    ['post-failure', 'failure', true],
    ['post-failure', 'success', false],
    ['post-cancelled', 'failure', false],
    ['post-not-cancelled', 'failure', true],
    ['post-failure-or-cancelled', 'success', false],
  ];
  test.each(postIf)('%s after a main step with outcome %s: post ran = %s', async (action, outcome, ran) => {
    const result = await runAction(probe({ exitCode: outcome === 'failure' ? 3 : 0 }, {}, action));
    expect(result.outcome).toBe(outcome);
    expect(result.post?.ran).toBe(ran);
    expect(result.post?.log.includes('post state')).toBe(ran);
  });

  test('runPost: false leaves the post step out', async () => {
    const result = await runAction(probe({}, { runPost: false }));
    expect(result.post?.ran).toBe(false);
  });
});

describe('cancellation and timeouts', () => {
  test('cancelAfterMs sends SIGINT; the job is cancelled and a cancelled() post runs', async () => {
    const result = await runAction(
      probe({ sleepMs: 60_000, onSigint: 'caught SIGINT, cleaning up' }, { cancelAfterMs: 1500 }, 'post-cancelled'),
    );
    expect(result.cancelled).toBe(true);
    expect(result.outcome).toBe('cancelled');
    expect(result.log).toContain('caught SIGINT, cleaning up');
    expect(result.exitCode).toBe(1);
    expect(result.post?.ran).toBe(true);
  });

  test('cancelOnLine sends SIGINT once a matching line is printed, whatever the time', async () => {
    const result = await runAction(
      probe(
        { stdout: ['::group::build (web1)'], sleepMs: 60_000, onSigint: 'caught SIGINT, cleaning up' },
        { cancelOnLine: /^::group::build \(/ },
        'post-cancelled',
      ),
    );
    expect(result.cancelled).toBe(true);
    expect(result.outcome).toBe('cancelled');
    expect(result.log).toContain('caught SIGINT, cleaning up');
    expect(result.post?.ran).toBe(true);
    // A line that never comes never cancels: the step ends on its own.
    const untouched = await runAction(
      probe({ stdout: ['::group::upload (web1)'] }, { cancelOnLine: /^::group::build/ }),
    );
    expect(untouched.cancelled).toBe(false);
    expect(untouched.exitCode).toBe(0);
  });

  test('after a cancellation a success() post does not run', async () => {
    const result = await runAction(probe({ sleepMs: 60_000 }, { cancelAfterMs: 500 }, 'post-success'));
    expect(result.outcome).toBe('cancelled');
    expect(result.signal).toBe('SIGINT');
    expect(result.exitCode).toBe(130);
    expect(result.post?.ran).toBe(false);
  });

  test('timeoutMs stops the step and says so', async () => {
    const result = await runAction(probe({ sleepMs: 60_000 }, { timeoutMs: 800 }));
    expect(result.timedOut).toBe(true);
    expect(result.cancelled).toBe(false);
    expect(result.outcome).toBe('failure');
    expect(result.exitCode).not.toBe(0);
    expect(result.post?.ran).toBe(true);
  });
});

describe('the runner cancellation sequence', () => {
  const script = (name: string, body: string) => {
    const file = join(scratch, name);
    writeFileSync(file, body);
    return file;
  };
  // A killed orphan may linger as a zombie until init reaps it; that is dead for our purpose.
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  test('a step that ignores SIGINT gets SIGTERM, one that ignores both is killed', async () => {
    const grace = { sigtermAfterMs: 300, killAfterMs: 300 };
    const base = { env: { PATH: process.env.PATH ?? '' }, cwd: scratch, timeoutMs: 30_000, cancelAfterMs: 1500, grace };
    const stubborn = script(
      'stubborn.mjs',
      "process.on('SIGINT', () => console.log('ignoring SIGINT'));\nsetTimeout(() => {}, 60_000);\n",
    );
    const termed = await runEntry({ ...base, script: stubborn });
    expect(termed.log).toContain('ignoring SIGINT');
    expect(termed.signal).toBe('SIGTERM');
    expect(termed.exitCode).toBe(143);

    const immortal = script(
      'immortal.mjs',
      "for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => console.log('ignoring ' + s));\nsetTimeout(() => {}, 60_000);\n",
    );
    const killed = await runEntry({ ...base, script: immortal });
    expect(killed.log).toContain('ignoring SIGTERM');
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.cancelled).toBe(true);
  });

  test('a process the step leaves behind is killed when the job ends', async () => {
    const parent = script(
      'leaves-child.mjs',
      "import { spawn } from 'node:child_process';\n" +
        "const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });\n" +
        'console.log(`child ${child.pid}`);\nchild.unref();\n',
    );
    const run = await runEntry({
      script: parent,
      env: { PATH: process.env.PATH ?? '' },
      cwd: scratch,
      timeoutMs: 30_000,
    });
    const pid = Number(/child (\d+)/.exec(run.log)?.[1]);
    expect(alive(pid)).toBe(true);
    killProcessGroup(run.pgid);
    for (let i = 0; i < 250 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });
});

describe('secrets guard', () => {
  const SECRET = 'Tr0ub4dor&3-horse';

  test('a declared secret printed raw rejects the run, naming the index and the place only', async () => {
    const run = runAction(probe({ stdout: [`connecting with ${SECRET}`] }, { secrets: ['unused', SECRET] }));
    await expect(run).rejects.toThrow(SecretLeakError);
    await expect(run).rejects.toThrow(/secrets\[1\] \(raw value\) in the main step log, line 1/);
    await expect(run).rejects.not.toThrow(SECRET);
  });

  test('base64 and URL-encoded forms are leaks too', async () => {
    const basic = Buffer.from(`deploy:${SECRET}`).toString('base64');
    await expect(
      runAction(probe({ stdout: [`Authorization: Basic ${basic}`] }, { secrets: [SECRET] })),
    ).rejects.toThrow(/secrets\[0\] \(base64\) in the main step log/);
    await expect(
      runAction(probe({ outputs: { url: `https://h/?p=${encodeURIComponent(SECRET)}` } }, { secrets: [SECRET] })),
    ).rejects.toThrow(/secrets\[0\] \(URL-encoded\) in outputs.url/);
  });

  test('leaks in the summary, env additions, annotations and the post log are found', async () => {
    const cases: [object, RegExp][] = [
      [{ summary: `pw: ${SECRET}` }, /in the main step summary/],
      [{ env: { PGPASSWORD: SECRET } }, /in GITHUB_ENV PGPASSWORD/],
      [{ stdout: [`::warning title=${SECRET}::x`] }, /in an warning annotation of the main step/],
      [{ postStdout: [SECRET] }, /in the post step log/],
    ];
    for (const [plan, where] of cases) {
      await expect(runAction(probe(plan, { secrets: [SECRET] }))).rejects.toThrow(where);
    }
  });

  test('add-mask of a secret is not a leak, but inside stop-commands it is printed and is', async () => {
    const masked = await runAction(probe({ stdout: [`::add-mask::${SECRET}`] }, { secrets: [SECRET] }));
    expect(masked.masks).toEqual([SECRET]);
    await expect(
      runAction(probe({ stdout: ['::stop-commands::t0k', `::add-mask::${SECRET}`, '::t0k::'] }, { secrets: [SECRET] })),
    ).rejects.toThrow(/in the main step log, line 2/);
  });

  test('the github token is a secret without being declared', async () => {
    await expect(
      runAction(probe({ stdout: ['token ghs_0123456789abcdef'] }, { github: { token: 'ghs_0123456789abcdef' } })),
    ).rejects.toThrow(SecretLeakError);
  });
});

describe('Job', () => {
  test('later steps see GITHUB_ENV, GITHUB_PATH and steps.<id>.outputs; posts run in reverse at the end', async () => {
    const order = join(scratch, 'order.txt');
    const job = new Job({ env: { FROM_JOB: 'job level' } });
    try {
      const build = await job.step(
        'build',
        probe({
          outputs: { release: 'r-42' },
          env: { FROM_BUILD: 'built' },
          path: ['/opt/build/bin'],
          appendTo: order,
        }),
      );
      expect(build.outputs.release).toBe('r-42');
      await job.step('tools', probe({ path: ['/opt/tools/bin'], appendTo: order }, { runPost: false }));
      const deploy = await job.step(
        'deploy',
        probe(
          { appendTo: order },
          { inputs: { greeting: 'deploy ${{ steps.build.outputs.release }}', 'target name': '${{ env.FROM_BUILD }}' } },
        ),
      );
      const { env } = seen(deploy.outputs);
      expect(env.FROM_BUILD).toBe('built');
      expect(env.FROM_JOB).toBe('job level');
      expect(env.PATH.split(':').slice(0, 2)).toEqual(['/opt/tools/bin', '/opt/build/bin']);
      expect(deploy.inputs.greeting).toBe('deploy r-42');
      expect(deploy.inputs['target name']).toBe('built');
      expect(job.steps.build.outputs.release).toBe('r-42');

      const posts = await job.finish();
      expect(posts.map((r) => r.id)).toEqual(['deploy', 'build']);
      expect(readFileSync(order, 'utf8')).toBe('main build\nmain tools\nmain deploy\npost deploy\npost build\n');
    } finally {
      job.dispose();
    }
  });

  test('a failed step skips later success() steps; always() and failure() steps and posts still run', async () => {
    const job = new Job();
    try {
      await job.step('migrate', probe({ exitCode: 1 }, {}, 'post-failure'));
      expect(job.status).toBe('failure');
      const deploy = await job.step('deploy', probe({}));
      expect(deploy.outcome).toBe('skipped');
      const rollback = await job.step('rollback', { ...probe({}), if: 'failure()' });
      expect(rollback.outcome).toBe('success');
      const notify = await job.step('notify', { ...probe({}), if: "always() && steps.deploy.outcome == 'skipped'" });
      expect(notify.outcome).toBe('success');
      const [, , migrate] = await job.finish();
      expect(migrate.id).toBe('migrate');
      expect(migrate.post?.ran).toBe(true);
    } finally {
      job.dispose();
    }
  });

  test('continue-on-error keeps the job green while the outcome says failure', async () => {
    const job = new Job();
    try {
      const lint = await job.step('lint', { ...probe({ exitCode: 2 }), continueOnError: true });
      expect(lint.outcome).toBe('failure');
      expect(job.status).toBe('success');
      expect(job.steps.lint.conclusion).toBe('success');
      expect((await job.step('after', probe({}))).outcome).toBe('success');
      await job.finish();
    } finally {
      job.dispose();
    }
  });

  test('a step id can be used once, and a finished job takes no more steps', async () => {
    const job = new Job();
    await job.step('one', probe({}, { runPost: false }));
    await expect(job.step('one', probe({}))).rejects.toThrow(/already used/);
    await job.finish();
    await expect(job.step('two', probe({}))).rejects.toThrow(/finished/);
  });
});

describe('finding the action', () => {
  test('by default the action is actions/<action>/action.yml', async () => {
    await expect(runAction({ action: 'no-such-action' })).rejects.toThrow(
      `No action.yml in ${join(REPO_ROOT, 'actions', 'no-such-action')}`,
    );
  });

  test('a missing entry file points at the build command', async () => {
    await expect(runAction(probe({}, { entry: { main: 'missing.mjs' } }))).rejects.toThrow(
      /missing\.mjs does not exist .*; build it: node \.ci\/build\.mjs probe/,
    );
  });
});
