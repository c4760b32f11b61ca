import { SecretLeakError, assertNoSecretLeaks, findSecretLeaks, secretForms } from '../../harness/secrets-guard.js';

const SECRET = 'pa ss/wörd+42';

describe('secret forms', () => {
  test('raw, URL-encoded, JSON-escaped and base64 forms are looked for', () => {
    const forms = secretForms('line"one\nsecret');
    expect(forms.map((f) => f.form)).toEqual(
      expect.arrayContaining(['raw value', 'URL-encoded', 'JSON-escaped', 'base64']),
    );
    expect(forms.find((f) => f.form === 'JSON-escaped')?.value).toBe('line\\"one\\nsecret');
  });

  test('a password inside a declared URL is a secret of its own', () => {
    const forms = secretForms('postgres://app:s%40fe-Passw0rd@127.0.0.1:5432/shop');
    expect(forms.find((f) => f.form === 'password from the URL')?.value).toBe('s@fe-Passw0rd');
  });
});

describe('finding leaks', () => {
  test('the raw secret in a log names the secret index, the place and the line, never the value', () => {
    const leaks = findSecretLeaks(['other-secret', SECRET], [{ where: 'the main step log', text: `a\nb ${SECRET}\n` }]);
    expect(leaks).toEqual([{ index: 1, form: 'raw value', where: 'the main step log', line: 2 }]);
    const error = new SecretLeakError(leaks);
    expect(error.message).toContain('secrets[1] (raw value) in the main step log, line 2');
    expect(error.message).not.toContain(SECRET);
  });

  test('a base64 form inside a longer base64 text is found at every alignment (Basic auth)', () => {
    for (const user of ['a', 'ab', 'abc']) {
      const header = `Authorization: Basic ${Buffer.from(`${user}:${SECRET}`).toString('base64')}`;
      expect(findSecretLeaks([SECRET], [{ where: 'log', text: header }])[0]?.form).toBe('base64');
    }
  });

  test('URL-encoded and JSON-escaped forms are found', () => {
    expect(findSecretLeaks([SECRET], [{ where: 'x', text: `?p=${encodeURIComponent(SECRET)}` }])[0].form).toBe(
      'URL-encoded',
    );
    const quoted = 'quote"me-please';
    expect(findSecretLeaks([quoted], [{ where: 'x', text: JSON.stringify({ p: quoted }) }])[0].form).toBe(
      'JSON-escaped',
    );
  });

  test('each line of a declared private key counts', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n';
    expect(
      findSecretLeaks([key], [{ where: 'x', text: 'debug: b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ' }])[0].form,
    ).toBe('line of the private key');
  });

  test('clean surfaces and empty secrets pass', () => {
    expect(() => assertNoSecretLeaks(['', SECRET], [{ where: 'x', text: 'nothing to see' }])).not.toThrow();
  });
});
