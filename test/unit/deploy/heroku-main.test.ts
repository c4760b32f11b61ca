import { deployMain, runnerIO, selectTarget, type DeployIO } from '../../../actions/deploy/main.js';
import { HerokuTarget } from '../../../actions/deploy/heroku/target.js';
import type { HerokuStandIn } from '../../stand-ins/heroku-api.js';
import { herokuEdges, makeRepo, standInWithApp, type TestRepo } from './heroku-world.js';
import { actionInputs } from './world.js';

// A whole deploy against a local stand-in with git: seconds on a loaded machine, so not jest's 5 s default.

let repo: TestRepo;
let standIn: HerokuStandIn;
beforeAll(() => {
  repo = makeRepo();
});
afterAll(() => repo.remove());
beforeEach(async () => {
  standIn = await standInWithApp();
  standIn.seedRelease('ocpizza', repo.v1);
});
afterEach(async () => {
  expect(standIn.violations).toEqual([]);
  await standIn.stop();
});

function io(values: Record<string, string>, healthy = true) {
  const out = { outputs: {} as Record<string, string>, summary: '', secrets: [] as string[] };
  const base = runnerIO();
  const deployIO: DeployIO = {
    ...base,
    inputs: actionInputs({
      target: 'heroku',
      'heroku-api-key': standIn.apiKey,
      'heroku-api-url': standIn.url,
      app: 'ocpizza',
      'app-url': 'https://{app}.example.com',
      commit: repo.v2,
      ...values,
    }),
    env: { GITHUB_WORKSPACE: repo.dir },
    setSecret: (s) => out.secrets.push(s),
    setOutput: (name, value) => (out.outputs[name] = value),
    info: () => undefined,
    warning: () => undefined,
    startGroup: () => undefined,
    endGroup: () => undefined,
    writeSummary: async (markdown) => {
      out.summary += markdown;
    },
    herokuEdges: () => herokuEdges(standIn, { healthy: () => healthy }).edges,
  };
  return { io: deployIO, out };
}

describe('the deploy action with target heroku', () => {
  test('routes to the Heroku target without needing deploy-to or a supervisor program', async () => {
    await expect(selectTarget(io({}).io)).resolves.toBeInstanceOf(HerokuTarget);
  });

  test('sets every output, the Heroku ones included, and writes the summary', async () => {
    const { io: deployIO, out } = io({});
    await deployMain(deployIO);
    expect(out.outputs).toMatchObject({
      'release-version': '2',
      'previous-release-version': '1',
      'rolled-back': 'false',
      url: 'https://ocpizza.example.com',
    });
    expect(out.outputs['build-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.outputs['release-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.summary).toContain('| Serving on ocpizza | `v2');
    expect(out.summary).toContain('## ✅ Deploy of `v2` succeeded');
    expect(out.summary).toContain('| Previous release version | `1` |');
    expect(out.summary).toContain(`| Build | \`${out.outputs['build-id']}\` |`);
    expect(out.secrets[0]).toBe(standIn.apiKey);
  });

  test('a failed health gate fails the step and says the previous release serves', async () => {
    const { io: deployIO, out } = io({}, false);
    await expect(deployMain(deployIO)).rejects.toThrow(
      /Health check .* failed on ocpizza.*rolled back; the previous one serves/,
    );
    expect(out.outputs['rolled-back']).toBe('true');
    expect(out.summary).toContain('## ❌ Deploy of `v2` failed and was rolled back');
  });

  test('bad input fails before any request', async () => {
    await expect(deployMain(io({ app: 'Not_An_App' }).io)).rejects.toThrow(/Input 'app' must be Heroku app names/);
    expect(standIn.requests).toEqual([]);
  });
});
