/**
 * Fails a test when a declared secret, or a form the runner's secret masker would also catch, shows up anywhere a
 * user could read it. The runner masks these forms on GitHub, but our rule is stricter: an action must never print
 * them at all. Messages name the secret by its index and the place, never by value.
 */

export interface Surface {
  /** Where the text is shown, e.g. 'main log', 'summary', 'outputs.url'. */
  where: string;
  text: string;
}

export interface SecretForm {
  form: string;
  value: string;
}

export interface SecretLeak {
  index: number;
  form: string;
  where: string;
  line?: number;
}

const base64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
const base64url = (text: string) => text.replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The secret's base64 as it appears inside a longer base64 text (a Basic auth header, a kubeconfig): the bytes
 * before it shift its alignment by 0, 1 or 2, and only whole 3-byte groups encode the same way every time.
 */
function base64Forms(secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: SecretForm[] = [];
  // Short secrets keep their padding: 'YQ==' is specific where 'YQ' would match by chance.
  forms.push({ form: 'base64', value: bytes.length >= 6 ? base64(bytes) : bytes.toString('base64') });
  for (let shift = 0; shift < 3; shift += 1) {
    const aligned = bytes.subarray(shift, shift + Math.floor((bytes.length - shift) / 3) * 3);
    // Eight characters or more, or the check would fire on random base64 in the log.
    if (aligned.length >= 6) forms.push({ form: 'base64', value: base64(aligned) });
  }
  return forms.flatMap((f) => [f, { form: 'base64url', value: base64url(f.value) }]);
}

/** Values derived from a declared secret that are secrets too: a URL's password, a PEM key's body lines. */
function derivedSecrets(secret: string): SecretForm[] {
  const derived: SecretForm[] = [];
  try {
    const url = new URL(secret);
    if (url.password) {
      const password = decodeURIComponent(url.password);
      if (password.length >= 4) derived.push({ form: 'password from the URL', value: password });
    }
  } catch {
    // Not a URL.
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(secret)) {
    for (const line of secret.split(/\r?\n/)) {
      if (/^[A-Za-z0-9+/=]{16,}$/.test(line.trim()))
        derived.push({ form: 'line of the private key', value: line.trim() });
    }
  }
  return derived;
}

/** Every form of one secret the guard looks for; forms equal to the raw value are dropped. */
export function secretForms(secret: string): SecretForm[] {
  if (secret === '') return [];
  const forms: SecretForm[] = [{ form: 'raw value', value: secret }];
  const add = (form: string, value: string) => {
    if (value !== '' && !forms.some((f) => f.value === value)) forms.push({ form, value });
  };
  add('URL-encoded', encodeURIComponent(secret));
  if (secret.length >= 6) add('JSON-escaped', JSON.stringify(secret).slice(1, -1));
  for (const f of base64Forms(secret)) add(f.form, f.value);
  for (const d of derivedSecrets(secret)) {
    add(d.form, d.value);
    add(`${d.form}, URL-encoded`, encodeURIComponent(d.value));
  }
  return forms;
}

export function findSecretLeaks(secrets: readonly string[], surfaces: readonly Surface[]): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  secrets.forEach((secret, index) => {
    const forms = secretForms(secret);
    for (const surface of surfaces) {
      for (const { form, value } of forms) {
        const at = surface.text.indexOf(value);
        if (at < 0) continue;
        const line = surface.text.slice(0, at).split('\n').length;
        leaks.push({ index, form, where: surface.where, line });
        break;
      }
    }
  });
  return leaks;
}

export class SecretLeakError extends Error {
  constructor(readonly leaks: SecretLeak[]) {
    super(
      'A declared secret leaked:\n' +
        leaks
          .map(
            (l) => `  secrets[${l.index}] (${l.form}) in ${l.where}${l.line !== undefined ? `, line ${l.line}` : ''}`,
          )
          .join('\n'),
    );
    this.name = 'SecretLeakError';
  }
}

export function assertNoSecretLeaks(secrets: readonly string[], surfaces: readonly Surface[]): void {
  const leaks = findSecretLeaks(secrets, surfaces);
  if (leaks.length > 0) throw new SecretLeakError(leaks);
}
