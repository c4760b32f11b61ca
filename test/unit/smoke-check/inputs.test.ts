import { parse } from 'yaml';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { readInputs } from '../../../actions/smoke-check/inputs.js';
import { actionInputs } from './action-inputs.js';

const noFiles = (path: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
};
const read = (values: Record<string, string>, readFile = noFiles) =>
  readInputs(actionInputs(values), readFile, undefined, parse);

function errorOf(values: Record<string, string>): string {
  try {
    read(values);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('smoke-check inputs', () => {
  test('a list of URLs takes the action defaults', () => {
    const inputs = read({ urls: 'https://example.test/health, http://127.0.0.1:8000/' });
    expect(inputs.checks.map((c) => c.url.href)).toEqual(['https://example.test/health', 'http://127.0.0.1:8000/']);
    const [check] = inputs.checks;
    expect(check.method).toBe('GET');
    expect(check.expectedStatus.text).toBe('2xx');
    expect(check.timeoutMs).toBe(10_000);
    expect(check.followRedirects).toBe(true);
    expect(check.versionFrom).toEqual({ kind: 'body' });
    expect(inputs.options).toMatchObject({
      deadlineMs: 120_000,
      stableFor: 1,
      failFastAfter: 2,
      initialIntervalMs: 500,
      maxIntervalMs: 2_000,
      tls: { insecure: false },
    });
    expect(inputs.options.failFastStatuses.text).toBe('404,500');
    expect(inputs.failOnUnhealthy).toBe(true);
    expect(inputs.secrets).toEqual([]);
  });

  test('check objects override the shared inputs key by key', () => {
    const inputs = read({
      urls: 'https://site.test/',
      'expected-status': '200',
      'body-contains': 'Welcome',
      timeout: '3s',
      checks: [
        '- url: https://site.test/health',
        '  json-path: $.status',
        '  json-equals: ok',
        '  expect-version: 0123456789abcdef',
        '  version-from: json:$.commit',
        '  expected-status: 2xx,304',
        '  body-contains: [ok, commit]',
        '- url: https://site.test/admin/',
        '  method: head',
        '  follow-redirects: false',
        '  reject-redirect: /login',
        '  header: "X-Frame-Options: DENY"',
        '  header-contains: ["Cache-Control: no-cache"]',
        '  max-latency: 800ms',
        '  name: admin',
        '- https://site.test/static/app.css',
      ].join('\n'),
    });
    expect(inputs.checks).toHaveLength(4);
    const [site, health, admin, css] = inputs.checks;
    expect(site.expectedStatus.text).toBe('200');
    expect(site.bodyContains).toEqual(['Welcome']);
    expect(health.expectedStatus.text).toBe('2xx,304');
    expect(health.bodyContains).toEqual(['ok', 'commit']);
    expect(health.json).toMatchObject({ path: { text: '$.status' }, equals: 'ok' });
    expect(health.expectVersion).toBe('0123456789abcdef');
    expect(health.versionFrom).toMatchObject({ kind: 'json', path: { segments: ['commit'] } });
    expect(health.timeoutMs).toBe(3000);
    expect(admin).toMatchObject({ name: 'admin', method: 'HEAD', followRedirects: false, maxLatencyMs: 800 });
    expect(admin.rejectRedirect?.test('https://site.test/login?next=/admin/')).toBe(true);
    expect(admin.headerExpectations).toEqual([
      { name: 'x-frame-options', equals: 'DENY' },
      { name: 'cache-control', contains: 'no-cache' },
    ]);
    expect(css.url.pathname).toBe('/static/app.css');
    expect(css.expectedStatus.text).toBe('200');
  });

  test('credentials become masked secrets and request headers', () => {
    const inputs = read({
      urls: 'https://deploy:s3cr3t-pass@site.test/health?token=tok-123456&page=2',
      checks: [
        '- url: https://api.test/status',
        '  bearer-token: bearer-abcdef',
        '  headers: |',
        '    X-Api-Key: key-998877',
        '    Accept: application/json',
      ].join('\n'),
      'basic-auth': 'ops:basic-pw-1',
    });
    const [site, api] = inputs.checks;
    expect(site.headers.authorization).toBe(`Basic ${Buffer.from('ops:basic-pw-1').toString('base64')}`);
    expect(api.headers).toEqual({
      authorization: 'Bearer bearer-abcdef',
      'x-api-key': 'key-998877',
      accept: 'application/json',
    });
    expect(inputs.secrets).toEqual(
      expect.arrayContaining([
        's3cr3t-pass',
        Buffer.from('deploy:s3cr3t-pass').toString('base64'),
        'tok-123456',
        'basic-pw-1',
        'ops:basic-pw-1',
        Buffer.from('ops:basic-pw-1').toString('base64'),
        'bearer-abcdef',
        'key-998877',
      ]),
    );
    expect(inputs.secrets).not.toContain('application/json');
  });

  test('a malformed escape in URL credentials is masked as written', () => {
    expect(read({ urls: 'https://u:p%zz-secret@a.test/' }).secrets).toEqual(
      expect.arrayContaining(['p%zz-secret', 'u:p%zz-secret']),
    );
  });

  test('a secret header given as Authorization: Basic also masks the decoded password', () => {
    const token = Buffer.from('me:hunter22').toString('base64');
    const inputs = read({ urls: 'https://a.test/', headers: `Authorization: Basic ${token}` });
    expect(inputs.secrets).toEqual(expect.arrayContaining([`Basic ${token}`, token, 'hunter22']));
  });

  test('TLS: a CA bundle file is read, PEM text is taken as is, insecure must be said', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(read({ urls: 'https://a.test/', 'ca-bundle': '/etc/ca.pem' }, () => pem).options.tls).toEqual({
      insecure: false,
      ca: pem,
    });
    expect(read({ urls: 'https://a.test/', 'ca-bundle': pem }).options.tls.ca).toBe(pem.trim());
    expect(read({ urls: 'https://a.test/', insecure: 'true' }).options.tls).toEqual({ insecure: true });
  });

  test('an empty fail-fast-statuses retries every failure', () => {
    expect(read({ urls: 'https://a.test/', 'fail-fast-statuses': '' }).options.failFastStatuses.ranges).toEqual([]);
  });

  test('regexes take /pattern/flags and drop stateful flags', () => {
    const check = read({ urls: 'https://a.test/', 'body-regex': '/release:\\s+\\w+/gi' }).checks[0];
    expect(check.bodyRegex?.flags).toBe('i');
    expect(read({ urls: 'https://a.test/', 'reject-body': 'maintenance|sign in' }).checks[0].rejectBody?.source).toBe(
      'maintenance|sign in',
    );
  });

  describe('bad input: one clear error naming the input', () => {
    test.each([
      [{}, /^Input 'urls' or 'checks' is required/],
      [
        { urls: 'example.com/health' },
        /^Input 'urls' must be an absolute URL with a scheme \(http:\/\/ or https:\/\/\)/,
      ],
      [{ urls: 'ftp://example.com/' }, /^Input 'urls' must use http or https; got 'ftp'/],
      [{ urls: 'https://a.test/', method: 'POST' }, /^Input 'method' must be one of GET, HEAD; got 'POST'/],
      [
        { urls: 'https://a.test/', 'expected-status': '2xx,ok' },
        /^Input 'expected-status' must list HTTP statuses .*got 'ok'/,
      ],
      [{ urls: 'https://a.test/', 'fail-fast-statuses': '404;500' }, /^Input 'fail-fast-statuses' must list/],
      [{ urls: 'https://a.test/', timeout: '0s' }, /^Input 'timeout' must be a duration above zero/],
      [{ urls: 'https://a.test/', deadline: '-1m' }, /^Input 'deadline' must be a duration above zero/],
      [{ urls: 'https://a.test/', 'max-latency': 'fast' }, /^Input 'max-latency' must be a duration above zero/],
      [{ urls: 'https://a.test/', 'stable-for': '0' }, /^Input 'stable-for' must be a number from 1 to 100/],
      [
        { urls: 'https://a.test/', 'body-regex': '(unclosed' },
        /^Input 'body-regex' must be a regular expression.*got '\(unclosed'/,
      ],
      [{ urls: 'https://a.test/', 'reject-redirect': '[a-' }, /^Input 'reject-redirect' must be a regular expression/],
      [{ urls: 'https://a.test/', 'json-path': '$..x' }, /^Input 'json-path' must be a JSON path/],
      [{ urls: 'https://a.test/', 'json-equals': 'ok' }, /^Input 'json-equals' needs 'json-path'/],
      [{ urls: 'https://a.test/', 'version-from': 'git' }, /^Input 'version-from' must be body, header/],
      [{ urls: 'https://a.test/', insecure: 'yes' }, /^Input 'insecure' must be true or false/],
      [{ urls: 'https://a.test/', headers: 'no colon here' }, /^Input 'headers' must hold one 'Name: value'/],
      [{ urls: 'https://a.test/', header: 'X-Release' }, /^Input 'header' must hold one 'Header-Name: expected value'/],
      [{ urls: 'https://a.test/', 'basic-auth': 'justuser' }, /^Input 'basic-auth' must be 'user:password'/],
      [
        { urls: 'https://a.test/', 'basic-auth': 'u:p1234', 'bearer-token': 'tok-1234' },
        /^Input 'bearer-token' cannot be used together with 'basic-auth'/,
      ],
      [
        { urls: 'https://a.test/', 'ca-bundle': '/nowhere/ca.pem' },
        /^Input 'ca-bundle' must be a readable PEM file.*\/nowhere\/ca.pem/,
      ],
      [
        { urls: 'https://a.test/', 'initial-interval': '10s', 'max-interval': '1s' },
        /^Input 'max-interval' must be at least 'initial-interval'/,
      ],
      [{ checks: '- url: [unclosed' }, /^Input 'checks' must be a YAML list .* it does not parse/],
      [{ checks: 'url: https://a.test/' }, /^Input 'checks' must be a YAML list .*; got a mapping/],
      [{ checks: '- 42' }, /^Input 'checks' must be a YAML list .*; item 1 is a number/],
      [
        { checks: '- url: https://a.test/\n  methd: GET' },
        /^Input 'checks' must be a YAML list .*; item 1 has unknown key 'methd'/,
      ],
      [{ checks: '- name: no url' }, /^Input 'checks' must be a YAML list .*; item 1 has no url/],
      [
        { checks: '- https://a.test/\n- url: https://b.test/\n  method: PUT' },
        /^Input 'checks\[2\]\.method' must be one of GET, HEAD; got 'PUT'/,
      ],
      [{ checks: '- url: not a url' }, /^Input 'checks\[1\]\.url' must be an absolute URL/],
      [
        { checks: '- url: https://a.test/\n  timeout: 0' },
        /^Input 'checks\[1\]\.timeout' must be a duration above zero/,
      ],
      [
        { checks: '- url: https://a.test/\n  body-regex: "*x"' },
        /^Input 'checks\[1\]\.body-regex' must be a regular expression/,
      ],
    ] as Array<[Record<string, string>, RegExp]>)('%j', (values, message) => {
      expect(errorOf(values)).toMatch(message);
    });

    test('an invalid URL error never echoes its password', () => {
      const message = errorOf({ urls: 'https//user:pa55word@site.test/' });
      expect(message).toMatch(/^Input 'urls' must be an absolute URL/);
      expect(message).not.toContain('pa55word');
    });

    describe("credentials with a raw '/' or '@' (curl and browsers end the host at the first '/')", () => {
      /** The error and every secret handed to the runner before it. */
      function refused(values: Record<string, string>): { message: string; secrets: string[] } {
        const secrets: string[] = [];
        try {
          readInputs(actionInputs(values), noFiles, (secret) => secrets.push(secret), parse);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigurationError);
          return { message: (error as Error).message, secrets };
        }
        throw new Error('no error');
      }

      test.each([
        ['urls', { urls: 'https://deploy:Kq7s3c@Zx9pa/Ww0:rd@site.test/health' }, 'Kq7s3c@Zx9pa/Ww0:rd'],
        [
          'checks[2].url',
          { checks: '- https://a.test/\n- url: https://deploy:Kq7s3c@Zx9pa/Ww0:rd@site.test/' },
          'Kq7s3c@Zx9pa/Ww0:rd',
        ],
        // Without an '@' before the '/', the URL does not parse at all (port 'pa'): the same advice, not "no scheme".
        ['urls', { urls: 'https://deploy:Zx9pa/Ww0rd8@site.test/' }, 'Zx9pa/Ww0rd8'],
      ])('%s: one error saying to percent-encode, the password masked first and never printed', (name, values, pw) => {
        const { message, secrets } = refused(values);
        expect(message).toBe(
          `Input '${name}' has a user name or password with a raw '/', '?', '#' or '@' in it, which ends the host early (curl and browsers would send this request to another host): percent-encode them in the credentials ('/' as %2F, '?' as %3F, '#' as %23, '@' as %40); an '@' in the path is written %40 too.`,
        );
        expect(secrets).toContain(pw);
        for (const part of pw.split(/[@/]/)) expect(message).not.toContain(part);
      });

      test("percent-encoded credentials, and an '@' in the path or query of a URL without them, are read as written", () => {
        const inputs = read({
          urls: [
            'https://deploy:p%40ss%2Fw%3Ard@site.test/health',
            'https://site.test/@team/health',
            'https://deploy:pw-1234@site.test/health?contact=ops@site.test',
            'https://site.test:8080/@team',
          ].join('\n'),
        });
        expect(inputs.checks.map((c) => c.url.host)).toEqual(['site.test', 'site.test', 'site.test', 'site.test:8080']);
        expect(inputs.secrets).toEqual(expect.arrayContaining(['p%40ss%2Fw%3Ard', 'p@ss/w:rd', 'pw-1234']));
      });
    });

    test('a password in a URL that does not parse is still collected as a secret first', () => {
      // The message is already redacted; the secret list matters for the runner's log masking.
      expect(() => read({ urls: 'https://user:pa55word@bad host/' })).toThrow(ConfigurationError);
    });
  });
});
