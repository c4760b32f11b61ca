import { ActionFailure, ConfigurationError } from '../../../actions/shared/errors.js';
import type { SmokeCheckEdges } from '../../../actions/smoke-check/main.js';
import { run, runnerEdges, smokeCheck } from '../../../actions/smoke-check/main.js';
import type { ProbeOutcome, ProbeRequest } from '../../../actions/smoke-check/http-probe.js';
import { actionInputs } from './action-inputs.js';
import { failure, fakeWorld, response } from './fake-world.js';

interface Recorded {
  events: string[];
  outputs: Record<string, string>;
  secrets: string[];
  warnings: string[];
  errors: string[];
  summary: string;
  requests: ProbeRequest[];
}

function edges(values: Record<string, string>, script: (n: number, r: ProbeRequest) => ProbeOutcome) {
  const world = fakeWorld(script);
  const recorded: Recorded = {
    events: [],
    outputs: {},
    secrets: [],
    warnings: [],
    errors: [],
    summary: '',
    requests: world.requests,
  };
  const given: SmokeCheckEdges = {
    inputs: actionInputs(values),
    readFile: () => {
      throw new Error('ENOENT');
    },
    setSecret: (secret) => {
      recorded.secrets.push(secret);
      recorded.events.push('secret');
    },
    setOutput: (name, value) => {
      recorded.outputs[name] = value;
    },
    info: (line) => recorded.events.push(`info ${line}`),
    warning: (message, title) => recorded.warnings.push(title ? `${title}: ${message}` : message),
    error: (message, title) => recorded.errors.push(title ? `${title}: ${message}` : message),
    writeSummary: async (markdown) => {
      recorded.summary += markdown;
    },
    engine: (_options, log) => ({ ...world.deps, log }),
  };
  return { given, recorded };
}

describe('smoke-check run', () => {
  test('healthy: outputs, summary, no annotation', async () => {
    const { given, recorded } = edges({ urls: 'https://site.test/health\nhttps://site.test/' }, () =>
      response(200, 'ok'),
    );
    const report = await smokeCheck(given);
    expect(report.healthy).toBe(true);
    expect(recorded.outputs).toMatchObject({
      healthy: 'true',
      'failed-count': '0',
      'duration-ms': expect.stringMatching(/^\d+$/),
    });
    expect(JSON.parse(recorded.outputs.results)).toEqual([
      {
        name: 'https://site.test/health',
        url: 'https://site.test/health',
        ok: true,
        status: 200,
        latencyMs: 10,
        attempts: 1,
        reason: 'healthy',
        redirects: [],
      },
      expect.objectContaining({ url: 'https://site.test/', ok: true }),
    ]);
    expect(recorded.summary).toContain('## Smoke check: healthy ✅');
    expect(recorded.summary).toContain('2 of 2 checks passed');
    expect(recorded.summary).toContain('| https://site.test/health | ✅ pass | 200 | 10 ms | 1 | healthy |');
    expect(recorded.errors).toEqual([]);
    expect(recorded.warnings).toEqual([]);
  });

  test('unhealthy: the step fails, the outputs and summary say why, secrets masked everywhere', async () => {
    const { given, recorded } = edges(
      {
        checks: [
          '- url: https://deploy:pa55-w0rd@site.test/health?token=tk-424242',
          '  expect-version: newsha1234',
          '  version-from: json:$.commit',
          '- url: https://site.test/broken',
          '  bearer-token: bt-0987654',
        ].join('\n'),
        'fail-fast-after': '1',
        deadline: '3s',
      },
      (_n, request) =>
        request.url.pathname === '/broken'
          ? response(500, `<h1>Server Error</h1><p>Authorization: Bearer bt-0987654</p>${'<p>trace</p>'.repeat(200)}`)
          : response(200, '{"commit":"oldsha0000"}'),
    );
    const failed = smokeCheck(given);
    await expect(failed).rejects.toThrow(ActionFailure);
    await expect(failed).rejects.toThrow(
      /^2 of 2 smoke checks failed; first: https:\/\/deploy:\*\*\*@site\.test\/health\?token=\*\*\*: serves version oldsha0000/,
    );
    // Secrets are registered before anything is logged.
    expect(recorded.events.slice(0, 3)).toEqual(['secret', 'secret', 'secret']);
    expect(recorded.secrets).toEqual(expect.arrayContaining(['pa55-w0rd', 'tk-424242', 'bt-0987654']));
    expect(recorded.outputs.healthy).toBe('false');
    expect(recorded.outputs['failed-count']).toBe('2');
    const results = JSON.parse(recorded.outputs.results);
    expect(results[0]).toMatchObject({
      ok: false,
      version: 'oldsha0000',
      reason: expect.stringMatching(
        /^serves version oldsha0000 \(\$\.commit\), expected newsha1234; deadline of 3 s reached/,
      ),
    });
    expect(results[1]).toMatchObject({ ok: false, status: 500, attempts: 1, reason: 'HTTP 500, expected 2xx' });
    expect(recorded.errors).toHaveLength(2);
    expect(recorded.errors[1]).toBe('Smoke check failed: https://site.test/broken: HTTP 500, expected 2xx');
    expect(recorded.summary).toContain('## Smoke check: unhealthy ❌');
    expect(recorded.summary).toContain(
      '<details><summary>Last answer of https://site.test/broken (HTTP 500)</summary>',
    );
    expect(recorded.summary).toContain('&lt;h1&gt;Server Error&lt;/h1&gt;');
    expect(recorded.summary).toMatch(/… \(\d+ more characters\)<\/pre>/);
    const everything = [
      recorded.summary,
      JSON.stringify(recorded.outputs),
      ...recorded.errors,
      ...recorded.events.filter((e) => e.startsWith('info')),
    ].join('\n');
    for (const secret of ['pa55-w0rd', 'tk-424242', 'bt-0987654']) expect(everything).not.toContain(secret);
  });

  test('fail-on-unhealthy false keeps the step green, with warnings', async () => {
    const { given, recorded } = edges({ urls: 'https://site.test/', 'fail-on-unhealthy': 'false' }, () =>
      response(404, 'Not Found'),
    );
    const report = await smokeCheck(given);
    expect(report.healthy).toBe(false);
    expect(recorded.outputs.healthy).toBe('false');
    expect(recorded.errors).toEqual([]);
    expect(recorded.warnings).toEqual([
      'Smoke check failed: https://site.test/: HTTP 404, expected 2xx (2 times in a row)',
    ]);
    expect(recorded.events.at(-1)).toMatch(/fail-on-unhealthy is false: the step stays green/);
  });

  test('bad input: one error naming the input, no request, no output', async () => {
    const cases: Array<Record<string, string>> = [
      { urls: 'site.test/health' },
      { urls: 'https://site.test/', method: 'DELETE' },
      { urls: 'https://site.test/', 'expected-status': '2xx-3xx' },
      { urls: 'https://site.test/', deadline: '0' },
      { checks: '- url: https://site.test/\n  - nested: [' },
      { urls: 'https://site.test/', 'body-regex': '+' },
    ];
    for (const values of cases) {
      const { given, recorded } = edges(values, () => response(200));
      const failed = smokeCheck(given);
      await expect(failed).rejects.toThrow(ConfigurationError);
      await expect(failed).rejects.toThrow(/^Input '[a-z-]+' /);
      expect(recorded.requests).toEqual([]);
      expect(recorded.outputs).toEqual({});
      expect(recorded.summary).toBe('');
    }
  });

  test('a credential found before a bad input is masked all the same', async () => {
    const { given, recorded } = edges({ urls: 'https://ops:early-pw-77@site.test/', timeout: 'soon' }, () =>
      response(200),
    );
    await expect(smokeCheck(given)).rejects.toThrow(/^Input 'timeout' must be a duration/);
    expect(recorded.secrets).toContain('early-pw-77');
    expect(recorded.requests).toEqual([]);
  });

  test('insecure is announced, a CA bundle is read from its file', async () => {
    const insecure = edges({ urls: 'https://site.test/', insecure: 'true' }, () => response(200));
    await smokeCheck(insecure.given);
    expect(insecure.recorded.warnings).toEqual([
      'Smoke check: TLS certificates are not verified for this check (insecure: true).',
    ]);
    expect(insecure.recorded.summary).toContain('TLS certificates were **not verified** (`insecure: true`)');

    const withCa = edges({ urls: 'https://site.test/', 'ca-bundle': 'ca.pem' }, () => response(200));
    const read: string[] = [];
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    await smokeCheck({ ...withCa.given, readFile: (path) => (read.push(path), pem) });
    expect(read).toEqual(['ca.pem']);
    expect(withCa.recorded.summary).toContain('verified against the system roots and the given `ca-bundle`');
  });

  test('annotations are capped with a note of how many more failed', async () => {
    const urls = Array.from({ length: 12 }, (_, i) => `https://site.test/${i}`).join('\n');
    const { given, recorded } = edges({ urls, 'fail-fast-after': '1' }, () => failure('CERT_HAS_EXPIRED'));
    await expect(smokeCheck(given)).rejects.toThrow(/^12 of 12 smoke checks failed/);
    expect(recorded.errors).toHaveLength(10);
    expect(recorded.errors[9]).toBe('3 more failing checks: see the job summary.');
    expect(recorded.summary).toContain('<p>No answer: TLS certificate not trusted (CERT_HAS_EXPIRED)');
  });

  test('run() turns a failure into one failed step without throwing', async () => {
    const { given } = edges({ urls: 'not a url' }, () => response(200));
    const before = process.exitCode;
    const write = process.stdout.write;
    const printed: string[] = [];
    process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await run(given);
    } finally {
      process.stdout.write = write;
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = before;
    expect(printed.join('')).toMatch(/::error::Input 'urls' must be an absolute URL/);
  });

  test('the runner edges are wired to the runner', () => {
    const real = runnerEdges();
    expect(real.readFile(new URL('../../../actions/smoke-check/action.yml', import.meta.url).pathname)).toContain(
      'smoke',
    );
    expect(typeof real.engine).toBe('function');
  });
});
