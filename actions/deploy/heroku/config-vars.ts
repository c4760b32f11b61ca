/**
 * Which config var values are secrets. Config vars hold both: DATABASE_URL, SECRET_KEY and API tokens must never
 * be printed, but ALLOWED_HOSTS or the site's URL are public, and masking them would turn every log line and output
 * that names the site into `***`. A value is secret by its name, by carrying credentials (a URL with a password),
 * by being a key (PEM), or by looking like a token.
 */

/** Names that hold credentials in Django and add-on conventions (SECRET_KEY, AWS_SECRET_ACCESS_KEY, SENTRY_DSN…). */
const SECRET_NAME = /KEY|SECRET|PASSW|PWD|TOKEN|PRIVATE|CREDENTIAL|AUTH|SALT|SIGNATURE|DSN|CERT/i;

/** Settings such as SESSION_COOKIE_SECURE=True or API_TIMEOUT=3000 share words with secret names, not their values. */
const FLAG_OR_NUMBER = /^(true|false|yes|no|on|off|none|null|\d+)$/i;

/** One unbroken run of key-like characters, long enough that it is not a word, with letters and digits mixed. */
function looksLikeToken(value: string): boolean {
  if (!/^[A-Za-z0-9+/=_.~-]{20,}$/.test(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  // A dotted module path (ocpizza.settings.prod2) is configuration, not a token.
  return !/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(value);
}

/** The password of a URL with credentials (postgres://u:p@h/db, redis://:p@h), or undefined. */
function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.password ? decodeURIComponent(url.password) : '';
  } catch {
    return '';
  }
}

export function isSecretConfigVar(name: string, value: string | null): boolean {
  if (!value) return false;
  return (
    (SECRET_NAME.test(name) && !FLAG_OR_NUMBER.test(value.trim())) ||
    urlPassword(value) !== undefined ||
    value.includes('PRIVATE KEY') ||
    looksLikeToken(value.trim())
  );
}

/**
 * The texts to mask for one config var: nothing for public configuration; for a secret, the value, its URL password
 * (printed alone by a database client) and each line of a multi-line value (a PEM key printed line by line). Parts
 * shorter than 4 characters are not masked: a mask replaces the text everywhere, and '0' would blank every zero.
 */
export function secretParts(name: string, value: string | null): string[] {
  if (!value || !isSecretConfigVar(name, value)) return [];
  const parts = [value, urlPassword(value) ?? '', ...value.split(/\r?\n/).map((l) => l.trim())];
  return [...new Set(parts.filter((p) => p.length >= 4))];
}
