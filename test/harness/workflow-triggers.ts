// What decides whether and how often a job runs, as pure functions: `on:` matched against one event (branches,
// branches-ignore, tags, tags-ignore, paths, paths-ignore, types, schedule crons) with GitHub's filter pattern
// syntax, and `strategy.matrix` expanded into its combinations (include/exclude as GitHub's documentation orders them).
type Mapping = Record<string, unknown>;

export class WorkflowError extends Error {}
export class UnsupportedWorkflowError extends Error {}

export interface WorkflowEvent {
  name: string;
  payload: Mapping;
}

const mapping = (value: unknown): Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Mapping) : {};
const list = (value: unknown): string[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

/**
 * GitHub's filter pattern cheat sheet: `*` any characters but `/`, `**` any characters, `?` and `+` repeat the
 * character before them, `[…]` a character class; a leading `!` in a mixed list negates, the last matching wins.
 */
function patternRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else if (c === '?' || c === '+') source += c;
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new WorkflowError(`filter pattern '${pattern}' has an unclosed '['`);
      source += pattern.slice(i, end + 1);
      i = end;
    } else source += c.replace(/[.^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether a name passes a positive list (with `!` exceptions, last match wins). */
export function filterMatches(patterns: string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (patternRegex(negated ? pattern.slice(1) : pattern).test(name)) matched = !negated;
  }
  return matched;
}

function refFilter(filter: Mapping, kind: 'branches' | 'tags', name: string, where: string): boolean {
  const positive = filter[kind];
  const ignore = filter[`${kind}-ignore`];
  if (positive !== undefined && ignore !== undefined)
    throw new WorkflowError(`${where}: ${kind} and ${kind}-ignore cannot both filter one event`);
  if (positive !== undefined) return filterMatches(list(positive), name);
  if (ignore !== undefined) return !filterMatches(list(ignore), name);
  return true;
}

/**
 * The files a push changed, from the payload's commits (added, modified, removed), as GitHub reads them for path
 * filters; for a pull request the caller gives them (`changed_files_list`), as GitHub compares the head with the base.
 */
function changedFiles(event: WorkflowEvent, where: string): string[] {
  const given = event.payload.changed_files_list;
  if (Array.isArray(given)) return given.map(String);
  const commits = event.payload.commits;
  if (!Array.isArray(commits))
    throw new WorkflowError(
      `${where} filters paths: the ${event.name} event must list its files (payload.commits[].added/modified/removed, or payload.changed_files_list)`,
    );
  return commits.flatMap((commit) => {
    const c = mapping(commit);
    return [...list(c.added), ...list(c.modified), ...list(c.removed)];
  });
}

const FILTER_KEYS: Record<string, string[]> = {
  push: ['branches', 'branches-ignore', 'tags', 'tags-ignore', 'paths', 'paths-ignore'],
  pull_request: ['branches', 'branches-ignore', 'paths', 'paths-ignore', 'types'],
  pull_request_target: ['branches', 'branches-ignore', 'paths', 'paths-ignore', 'types'],
  workflow_dispatch: ['inputs'],
  workflow_call: ['inputs', 'secrets', 'outputs'],
};

/** `on:` as a mapping whatever its spelling (`on: push`, `on: [push]`, `on: { push: … }`). */
export function triggers(doc: Mapping): Mapping {
  if (typeof doc.on === 'string') return { [doc.on]: null };
  if (Array.isArray(doc.on)) return Object.fromEntries(doc.on.map((name) => [String(name), null]));
  return mapping(doc.on);
}

/** Whether `on:` starts this workflow for the event. */
export function triggeredBy(doc: Mapping, event: WorkflowEvent): boolean {
  const on = triggers(doc);
  if (!(event.name in on)) return false;
  if (event.name === 'schedule') return scheduleMatches(on.schedule, event);
  const filter = mapping(on[event.name]);
  const where = `on.${event.name}`;
  for (const key of Object.keys(filter)) {
    if (!(FILTER_KEYS[event.name] ?? []).includes(key))
      throw new UnsupportedWorkflowError(`${where}.${key} is not supported by the local runner yet`);
  }
  if (filter.types !== undefined && !list(filter.types).includes(String(event.payload.action ?? ''))) return false;
  if (event.name === 'push') {
    const ref = String(event.payload.ref ?? '');
    const tag = ref.startsWith('refs/tags/');
    const branchFilters = filter.branches !== undefined || filter['branches-ignore'] !== undefined;
    const tagFilters = filter.tags !== undefined || filter['tags-ignore'] !== undefined;
    // Only one kind filtered: a push of the other kind does not run it. Path filters never apply to tags.
    if (tag) return tagFilters ? refFilter(filter, 'tags', ref.slice(10), where) : !branchFilters;
    if (!branchFilters && tagFilters) return false;
    if (!refFilter(filter, 'branches', ref.replace(/^refs\/heads\//, ''), where)) return false;
  } else if (event.name === 'pull_request' || event.name === 'pull_request_target') {
    const base = String(mapping(mapping(event.payload.pull_request).base).ref ?? '');
    if (!refFilter(filter, 'branches', base, where)) return false;
  }
  return pathsMatch(filter, event, where);
}

function pathsMatch(filter: Mapping, event: WorkflowEvent, where: string): boolean {
  if (filter.paths !== undefined && filter['paths-ignore'] !== undefined)
    throw new WorkflowError(`${where}: paths and paths-ignore cannot both filter one event`);
  if (filter.paths !== undefined) {
    const patterns = list(filter.paths);
    return changedFiles(event, where).some((file) => filterMatches(patterns, file));
  }
  if (filter['paths-ignore'] !== undefined) {
    const patterns = list(filter['paths-ignore']);
    return changedFiles(event, where).some((file) => !filterMatches(patterns, file));
  }
  return true;
}

/**
 * GitHub starts a scheduled run for one of the listed crons and names it in github.event.schedule: the event must
 * name one of this workflow's.
 */
function scheduleMatches(schedule: unknown, event: WorkflowEvent): boolean {
  const crons = (Array.isArray(schedule) ? schedule : []).map((entry) => String(mapping(entry).cron));
  const cron = event.payload.schedule;
  if (typeof cron !== 'string')
    throw new WorkflowError(
      `a schedule event names the cron that fired in payload.schedule (one of: ${crons.join(', ')})`,
    );
  return crons.includes(cron);
}

export type MatrixCombination = Record<string, unknown>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A job's matrix as GitHub expands it: the product of the vectors (in the order written), minus every combination an
 * `exclude` entry matches, then each `include` entry added to every combination whose original values it matches
 * (never overwriting an original value) or, when it matches none, appended as a combination of its own.
 */
export function expandMatrix(matrix: unknown, where: string): MatrixCombination[] {
  if (typeof matrix === 'string')
    throw new UnsupportedWorkflowError(`${where}: a matrix computed by an expression is not supported yet`);
  const spec = mapping(matrix);
  const vectors = Object.entries(spec).filter(([key]) => key !== 'include' && key !== 'exclude');
  let combinations: MatrixCombination[] = vectors.length === 0 ? [] : [{}];
  for (const [key, values] of vectors) {
    if (!Array.isArray(values) || values.length === 0)
      throw new WorkflowError(`${where}: matrix vector '${key}' does not contain any values`);
    combinations = combinations.flatMap((c) => values.map((v: unknown) => ({ ...c, [key]: v })));
  }
  const original = new Set(vectors.map(([key]) => key));
  const entries = (key: string) => (Array.isArray(spec[key]) ? (spec[key] as unknown[]).map(mapping) : []);
  combinations = combinations.filter(
    (c) => !entries('exclude').some((e) => Object.entries(e).every(([k, v]) => same(c[k], v))),
  );
  const base = combinations.map((c) => ({ ...c }));
  for (const entry of entries('include')) {
    let matched = false;
    base.forEach((originalValues, index) => {
      const fits = Object.entries(entry).every(([k, v]) => !original.has(k) || same(originalValues[k], v));
      if (!fits) return;
      matched = true;
      for (const [k, v] of Object.entries(entry)) if (!original.has(k)) combinations[index][k] = v;
    });
    if (!matched) combinations.push({ ...entry });
  }
  if (combinations.length === 0) throw new WorkflowError(`${where}: the matrix has no combination`);
  if (combinations.length > 256) throw new WorkflowError(`${where}: a matrix makes at most 256 jobs`);
  return combinations;
}
