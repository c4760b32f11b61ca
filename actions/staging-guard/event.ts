/**
 * What the guard is asked to judge, read from the event that started the workflow. Pure: the payload comes in as
 * plain JSON and an unhandled event becomes a `skip` with the reason, never an error.
 */

export type Subject =
  | { kind: 'pull request'; number: number; baseRef: string }
  | { kind: 'merge group'; baseRef: string; headSha: string; baseSha: string; pullNumber: number | null }
  | {
      kind: 'push';
      branch: string;
      before: string;
      after: string;
      forced: boolean;
      pusher: string;
      /** When the push happened (ISO 8601), when the payload says; evidence made after it is not evidence. */
      pushedAt: string | null;
    }
  | { kind: 'skip'; reason: string };

export const PULL_REQUEST_ACTIONS = ['opened', 'edited', 'reopened', 'synchronize'];

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const ZERO_SHA = /^0{40}$/;

export function subjectOf(eventName: string, payloadValue: unknown): Subject {
  const payload = obj(payloadValue);
  if (eventName === 'pull_request' || eventName === 'pull_request_target') {
    const action = str(payload.action);
    if (!PULL_REQUEST_ACTIONS.includes(action)) {
      return {
        kind: 'skip',
        reason: `pull request action '${action}' is not one the guard judges (${PULL_REQUEST_ACTIONS.join(', ')})`,
      };
    }
    const pr = obj(payload.pull_request);
    const number = typeof pr.number === 'number' ? pr.number : Number(payload.number);
    if (!Number.isInteger(number) || number <= 0)
      return { kind: 'skip', reason: 'the event has no pull request number' };
    return { kind: 'pull request', number, baseRef: str(obj(pr.base).ref) };
  }
  if (eventName === 'merge_group') {
    const group = obj(payload.merge_group);
    const headRef = str(group.head_ref);
    // GitHub names the queue branch gh-readonly-queue/<base>/pr-<number>-<sha>, after the last pull request in it.
    const match = /\/pr-(\d+)-[0-9a-f]+$/.exec(headRef);
    return {
      kind: 'merge group',
      baseRef: str(group.base_ref).replace(/^refs\/heads\//, ''),
      headSha: str(group.head_sha),
      baseSha: str(group.base_sha),
      pullNumber: match ? Number(match[1]) : null,
    };
  }
  if (eventName === 'push') {
    const ref = str(payload.ref);
    if (!ref.startsWith('refs/heads/')) return { kind: 'skip', reason: `the push is to '${ref}', not to a branch` };
    const after = str(payload.after);
    if (ZERO_SHA.test(after) || payload.deleted === true) return { kind: 'skip', reason: `the push deleted '${ref}'` };
    const pushedAt = obj(payload.repository).pushed_at;
    return {
      kind: 'push',
      branch: ref.slice('refs/heads/'.length),
      before: str(payload.before),
      after,
      forced: payload.forced === true,
      pusher: str(obj(payload.pusher).name) || str(obj(payload.sender).login) || 'unknown',
      // The push payload gives pushed_at in epoch seconds; other payloads an ISO string.
      pushedAt:
        typeof pushedAt === 'number'
          ? new Date(pushedAt * 1000).toISOString()
          : typeof pushedAt === 'string' && pushedAt !== ''
            ? pushedAt
            : null,
    };
  }
  return {
    kind: 'skip',
    reason: `the '${eventName}' event is not one the guard judges (pull_request, pull_request_target, merge_group, push)`,
  };
}
