import { expandAppUrl, healthUrlOf, readHerokuInputs } from '../../../actions/deploy/heroku/inputs.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';

const DEFAULTS: Record<string, string> = {
  'heroku-api-url': 'https://api.heroku.com',
  'database-config-var': 'DATABASE_URL',
  mode: 'deploy',
  maintenance: 'auto',
  backup: 'auto',
  'backup-directory': 'backups',
  'health-timeout': '60s',
  commit: 'abc1234',
  'app-directory': '.',
  'health-path': '/health',
  'expected-status': '2xx',
  'version-from': 'json:$.commit',
};

function read(inputs: Record<string, string>, secrets: string[] = []) {
  const all = { ...DEFAULTS, ...inputs };
  return readHerokuInputs(
    (name) => all[name] ?? '',
    (s) => secrets.push(s),
    { GITHUB_WORKSPACE: '/work/ws' },
  );
}

function failure(inputs: Record<string, string>): string {
  try {
    read(inputs);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('readHerokuInputs', () => {
  test('reads a full configuration; the key is masked first', () => {
    const secrets: string[] = [];
    const inputs = read(
      {
        'heroku-api-key': 'HRKU-key',
        app: 'ocpizza',
        apps: 'ocpizza-admin\nocpizza',
        'app-url': 'https://{app}.example.com/',
        buildpacks: 'heroku/python',
        'required-config-vars': 'SECRET_KEY, ALLOWED_HOSTS',
        'app-directory': './',
      },
      secrets,
    );
    expect(secrets).toEqual(['HRKU-key']);
    expect(inputs).toMatchObject({
      apps: ['ocpizza', 'ocpizza-admin'],
      appUrl: 'https://{app}.example.com',
      healthPath: '/health',
      buildpacks: ['heroku/python'],
      requiredConfigVars: ['SECRET_KEY', 'ALLOWED_HOSTS'],
      backupDirectory: '/work/ws/backups',
      repository: '/work/ws',
      appDirectory: '',
      healthTimeoutMs: 60000,
    });
    expect(inputs.apiUrl.href).toBe('https://api.heroku.com/');
    expect(healthUrlOf(inputs, 'ocpizza', undefined)).toBe('https://ocpizza.example.com/health');
    expect(read({ 'heroku-api-key': 'k', app: 'abc', 'health-url': 'http://h/{host}/up' }).healthUrl).toBe(
      'http://h/{host}/up',
    );
    expect(read({ 'heroku-api-key': 'k', app: 'abc' }).healthUrl).toBeUndefined();
    expect(expandAppUrl('https://{app}.example.com', 'abc')).toBe('https://abc.example.com');
  });

  test('the health URL: health-url, else health-path on app-url, else on the web_url from the API', () => {
    const webUrl = 'https://ocpizza-0123abcd.herokuapp.com/';
    const bare = read({ 'heroku-api-key': 'k', app: 'ocpizza' });
    expect(healthUrlOf(bare, 'ocpizza', webUrl)).toBe('https://ocpizza-0123abcd.herokuapp.com/health');
    expect(healthUrlOf(bare, 'ocpizza', undefined)).toBeUndefined();
    const status = read({ 'heroku-api-key': 'k', app: 'ocpizza', 'health-path': '/status?full=1' });
    expect(healthUrlOf(status, 'ocpizza', webUrl)).toBe('https://ocpizza-0123abcd.herokuapp.com/status?full=1');
    const off = read({ 'heroku-api-key': 'k', app: 'ocpizza', 'health-path': '' });
    expect(healthUrlOf(off, 'ocpizza', webUrl)).toBeUndefined();
    const explicit = read({ 'heroku-api-key': 'k', app: 'ocpizza', 'health-url': 'https://{app}.example/up' });
    expect(healthUrlOf(explicit, 'ocpizza', webUrl)).toBe('https://ocpizza.example/up');
  });

  test.each([
    [{ app: 'ocpizza' }, /Input 'heroku-api-key' is required with target heroku/],
    [{ 'heroku-api-key': 'a b', app: 'ocpizza' }, /one token/],
    [{ 'heroku-api-key': 'k' }, /Input 'app' is required/],
    [{ 'heroku-api-key': 'k', app: 'OC_Pizza' }, /Input 'app' must be Heroku app names.*got 'OC_Pizza'/],
    [
      { 'heroku-api-key': 'k', app: 'ocpizza', maintenance: 'sometimes' },
      /Input 'maintenance' must be one of true, false, auto; got 'sometimes'/,
    ],
    [
      { 'heroku-api-key': 'k', app: 'ocpizza', 'app-url': 'ocpizza.herokuapp.com' },
      /Input 'app-url' must be an absolute URL with a scheme/,
    ],
    [{ 'heroku-api-key': 'k', app: 'ocpizza', 'app-url': 'ftp://x' }, /Input 'app-url' must use http or https/],
    [{ 'heroku-api-key': 'k', app: 'ocpizza', 'database-config-var': 'DB-URL' }, /database-config-var/],
    [{ 'heroku-api-key': 'k', app: 'ocpizza', 'required-config-vars': 'OK, NOT OK' }, /required-config-vars.*'NOT OK'/],
    [{ 'heroku-api-key': 'k', app: 'ocpizza', 'app-directory': '../x' }, /app-directory/],
    [{ 'heroku-api-key': 'k', app: 'ocpizza', commit: 'a b' }, /Input 'commit'/],
    [{ 'heroku-api-key': 'k', app: 'ocpizza', 'heroku-api-url': 'api.heroku.com' }, /heroku-api-url/],
    [
      { 'heroku-api-key': 'k', app: 'ocpizza', 'health-path': 'health' },
      /Input 'health-path' must be a path starting with \//,
    ],
    [
      { 'heroku-api-key': 'k', app: 'ocpizza', 'heroku-api-url': 'http://api.heroku.com' },
      /'heroku-api-url' must be an https URL \(plain http only to this machine/,
    ],
  ])('%j is refused with one clear error', (inputs, message) => {
    expect(failure(inputs)).toMatch(message);
  });

  test('plain http is accepted only for this machine (a local stand-in)', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:3000/api', 'http://[::1]:9']) {
      expect(read({ 'heroku-api-key': 'k', app: 'ocpizza', 'heroku-api-url': url }).apiUrl.href).toMatch(/^http:/);
    }
  });

  test('the key never appears in an error', () => {
    expect(failure({ 'heroku-api-key': 'secret-key', app: 'Bad' })).not.toContain('secret-key');
  });
});
