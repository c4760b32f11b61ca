// runWorkflow's `hosts`: the file mounted over /etc/hosts in each step is the machine's own plus one line per name;
// a name or address that is not one is refused, naming it, before any step runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withHostsFile } from '../../harness/step-process.js';
import { hostsFileWith, WorkflowError } from '../../harness/workflow-runner.js';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hosts-file-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the machine's hosts file, then a line per name", () => {
  const file = hostsFileWith({ 'ocpizza.example': '127.101.2.3', 'api.heroku.com': '127.101.2.3' }, dir);
  const text = fs.readFileSync(file, 'utf8');
  expect(text.startsWith(fs.readFileSync('/etc/hosts', 'utf8').trimEnd() + '\n')).toBe(true);
  expect(text.endsWith('127.101.2.3 ocpizza.example\n127.101.2.3 api.heroku.com\n')).toBe(true);
});

test.each([
  ['a name with a space', { 'ocpizza example': '127.0.0.2' }, /'ocpizza example'/],
  ['a line break smuggled into the address', { 'ocpizza.example': '127.0.0.2\n10.0.0.1 evil' }, /ocpizza\.example/],
  ['an address that is a name', { 'ocpizza.example': 'localhost' }, /'localhost'/],
  ['an address of hex letters only', { 'ocpizza.example': 'cafe' }, /'cafe'/],
])('%s is refused', (_, hosts, message) => {
  expect(() => hostsFileWith(hosts, dir)).toThrow(WorkflowError);
  expect(() => hostsFileWith(hosts, dir)).toThrow(message);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('the step keeps its pid: unshare and perl exec in turn, the command and its arguments last', () => {
  const { file, args } = withHostsFile('/tmp/x/hosts', '/usr/bin/node', ['main.js', '--flag']);
  expect(file).toBe('unshare');
  expect(args.slice(0, 4)).toEqual(['--mount', '--propagation', 'private', '--']);
  expect(args.slice(-4)).toEqual(['/tmp/x/hosts', '/usr/bin/node', 'main.js', '--flag']);
  expect(args).not.toContain('--fork');
});
