import { fitComment } from './summary.js';

/** The pull request's comments, as the sticky comment needs them. */
export interface IssueComments {
  list(): Promise<{ id: number; body?: string | null }[]>;
  create(body: string): Promise<void>;
  update(id: number, body: string): Promise<void>;
}

export type CommentOutcome = { kind: 'created' | 'updated' } | { kind: 'forbidden'; message: string };

/** The hidden line that finds our comment again: one per workflow and report name. */
export function commentMarker(workflow: string, name: string): string {
  const clean = (t: string): string => t.replace(/--+/g, '-').replace(/[<>]/g, '');
  return `<!-- runbook/coverage-gate: ${clean(workflow)} / ${clean(name)} -->`;
}

function status(error: unknown): number | undefined {
  const s = (error as { status?: unknown })?.status;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Updates our previous comment in place or creates it. A token that may not comment (a pull request from a
 * fork gets a read-only GITHUB_TOKEN) answers 403 or 404: that is an outcome to report, not a failure.
 */
export async function upsertStickyComment(
  client: IssueComments,
  marker: string,
  body: string,
): Promise<CommentOutcome> {
  const text = fitComment(body, marker);
  try {
    const previous = (await client.list()).find((c) => c.body?.startsWith(marker));
    if (previous) {
      await client.update(previous.id, text);
      return { kind: 'updated' };
    }
    await client.create(text);
    return { kind: 'created' };
  } catch (error) {
    const code = status(error);
    if (code === 403 || code === 404) {
      return { kind: 'forbidden', message: (error as Error).message || `HTTP ${code}` };
    }
    throw error;
  }
}
