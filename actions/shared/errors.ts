/**
 * A mistake in what the user gave the action. Its message is shown as is, without a stack trace, and names
 * the input, the value it got (never a secret's) and what the input accepts.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * A failure the action detected and explained itself (a check failed, a dump was truncated). Like a
 * ConfigurationError it is reported as its message alone.
 */
export class ActionFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionFailure';
  }
}

/** A readable message for anything thrown, including values that are not Error objects. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
