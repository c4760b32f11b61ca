/** Replaces every known secret in text with ***: for what the runner does not mask (summary, outputs). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...new Set(secrets)].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
  let masked = text;
  for (const secret of ordered) masked = masked.split(secret).join('***');
  return masked;
}

/** Request headers whose values are credentials, masked whatever check sets them. */
export const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie)$|token|secret|key|auth|session|password|signature/i;
