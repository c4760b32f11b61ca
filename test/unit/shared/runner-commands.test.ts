// actions/shared/runner-commands.ts stands in for @actions/core in the bundles (without its OIDC client and undici):
// every function must write what @actions/core writes, byte for byte, to stdout and to the runner's files.
import * as core from '@actions/core';
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ours from '../../../actions/shared/runner-commands.js';

type Core = typeof ours;

const HOSTILE = 'line one\r\nline two: 100%, a,b\n%0A ::error::';
const PROPERTIES = { title: 'T: a,b', file: 'src/a b.py', startLine: 3, endLine: 4, startColumn: 1, endColumn: 9 };

/** Runs the same calls against one implementation; returns stdout, the command files and the exit code. */
async function record(impl: Core, calls: (impl: Core) => Promise<void> | void) {
  const dir = mkdtempSync(join(tmpdir(), 'runner-commands-'));
  const files = { GITHUB_OUTPUT: 'output', GITHUB_STATE: 'state', GITHUB_STEP_SUMMARY: 'summary' } as const;
  const saved = { ...process.env };
  for (const [name, file] of Object.entries(files)) {
    writeFileSync(join(dir, file), '');
    process.env[name] = join(dir, file);
  }
  process.env.INPUT_SOME_NAME = '  padded value \n';
  const printed: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  const exitCode = process.exitCode;
  try {
    await calls(impl);
    return {
      stdout: printed.join(''),
      exitCode: process.exitCode,
      // The heredoc delimiter is random in both: compare the rest.
      files: Object.values(files).map((f) =>
        readFileSync(join(dir, f), 'utf8').replace(/ghadelimiter_[0-9a-f-]+/g, 'D'),
      ),
    };
  } finally {
    spy.mockRestore();
    process.exitCode = exitCode;
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

const same = async (calls: (impl: Core) => Promise<void> | void) =>
  expect(await record(ours, calls)).toEqual(await record(core as unknown as Core, calls));

test('log lines, groups and masks', () =>
  same((c) => {
    c.info(HOSTILE);
    c.debug(HOSTILE);
    c.startGroup(HOSTILE);
    c.endGroup();
    c.setSecret(HOSTILE);
  }));

test('annotations with every property, escaped, and from an Error', () =>
  same((c) => {
    c.notice(HOSTILE, PROPERTIES);
    c.warning(HOSTILE, { title: 'only a title' });
    c.error(new Error(HOSTILE), PROPERTIES);
    c.warning(HOSTILE);
  }));

test('setFailed sets exit code 1 and prints one error', () => same((c) => c.setFailed(HOSTILE)));

test('outputs and state go to their files with a delimiter; getState and getInput read the environment', () =>
  same((c) => {
    c.setOutput('multi', HOSTILE);
    c.setOutput('number', 42 as unknown as string);
    c.saveState('key', HOSTILE);
    process.env.STATE_key = 'saved';
    c.info(`${c.getState('key')}|${c.getState('missing')}|${c.getInput('some name')}|`);
  }));

test('outputs and state without the files fall back to the legacy commands', () =>
  same((c) => {
    delete process.env.GITHUB_OUTPUT;
    delete process.env.GITHUB_STATE;
    c.setOutput('name', HOSTILE);
    c.saveState('key', HOSTILE);
  }));

test('the summary appends what addRaw gathered and empties it', () =>
  same(async (c) => {
    await c.summary.addRaw('# one', true).write();
    await c.summary.addRaw('two').addRaw('three', true).write();
  }));

// @actions/core remembers the summary file after its first write, so only ours is asked here.
test('a summary without GITHUB_STEP_SUMMARY is an error naming the variable', async () => {
  await record(ours, async (c) => {
    delete process.env.GITHUB_STEP_SUMMARY;
    await expect(c.summary.addRaw('x').write()).rejects.toThrow(/GITHUB_STEP_SUMMARY/);
  });
});
