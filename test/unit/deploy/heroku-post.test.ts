import { herokuPostStep } from '../../../actions/deploy/heroku/post.js';
import { HEROKU_STATE_KEY } from '../../../actions/deploy/heroku/target.js';
import type { HerokuStandIn } from '../../stand-ins/heroku-api.js';
import { standInWithApp } from './heroku-world.js';

let standIn: HerokuStandIn;
beforeEach(async () => {
  standIn = await standInWithApp();
  standIn.addApp('ocpizza-admin');
  standIn.apps.get('ocpizza')!.maintenance = true;
});
afterEach(async () => {
  expect(standIn.violations).toEqual([]);
  await standIn.stop();
});

function io(state: object | undefined, key: string) {
  const out = { info: [] as string[], warnings: [] as string[], secrets: [] as string[] };
  return {
    out,
    io: {
      getState: (name: string) => (name === HEROKU_STATE_KEY && state ? JSON.stringify(state) : ''),
      input: (name: string) => (name === 'heroku-api-key' ? key : ''),
      setSecret: (s: string) => out.secrets.push(s),
      info: (m: string) => out.info.push(m),
      warning: (m: string) => out.warnings.push(m),
      sleep: async () => undefined,
    },
  };
}

describe('the Heroku post step', () => {
  test('turns maintenance off on every app the main step left it on', async () => {
    const { io: post, out } = io({ apiUrl: standIn.url, maintenanceOn: ['ocpizza', 'missing-app'] }, standIn.apiKey);
    await herokuPostStep(post);
    expect(standIn.apps.get('ocpizza')!.maintenance).toBe(false);
    expect(out.info).toEqual(['Maintenance turned off on ocpizza (the main step had left it on).']);
    expect(out.warnings).toEqual([expect.stringMatching(/Could not turn maintenance off on missing-app: .*404/)]);
    expect(out.secrets).toEqual([standIn.apiKey]);
  });

  test('cancels a build left running before turning maintenance off; it never releases', async () => {
    standIn.lineDelayMs = 50;
    standIn.hooks.build = () => ({ ok: true, lines: Array.from({ length: 40 }, (_, i) => `step ${i}`) });
    const app = standIn.apps.get('ocpizza')!;
    const before = app.releases.length;
    const { fastApi } = await import('./heroku-world.js');
    const api = fastApi(standIn, { secrets: [], warnings: [], lines: [], states: [], health: [], backups: [] });
    const source = await api.post<{ source_blob: { get_url: string } }>('/sources', undefined);
    const { body: build } = await api.post<{ id: string }>('/apps/ocpizza/builds', {
      source_blob: { url: source.body.source_blob.get_url, version: 'abc' },
    });
    const { io: post, out } = io(
      {
        apiUrl: standIn.url,
        maintenanceOn: ['ocpizza'],
        pendingBuilds: [
          { app: 'ocpizza', id: build.id },
          { app: 'ocpizza', id: 'gone' },
        ],
      },
      standIn.apiKey,
    );
    await herokuPostStep(post);
    expect(out.info).toEqual([
      `Build ${build.id} of ocpizza cancelled (the job was cancelled while it ran).`,
      'Maintenance turned off on ocpizza (the main step had left it on).',
    ]);
    expect(out.warnings).toEqual([expect.stringMatching(/Could not cancel build gone of ocpizza: .*404/)]);
    const deleted = standIn.requests.findIndex((r) => r.method === 'DELETE');
    const patched = standIn.requests.findIndex((r) => r.method === 'PATCH');
    expect(deleted).toBeLessThan(patched);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(app.builds[0].status).toBe('failed');
    expect(app.releases.length).toBe(before);
  });

  test('does nothing without state or with nothing left on, and warns without a key', async () => {
    await herokuPostStep(io(undefined, standIn.apiKey).io);
    await herokuPostStep(io({ apiUrl: standIn.url, maintenanceOn: [] }, standIn.apiKey).io);
    expect(standIn.requests).toEqual([]);
    const { io: post, out } = io({ apiUrl: standIn.url, maintenanceOn: ['ocpizza'] }, '');
    await herokuPostStep(post);
    expect(out.warnings).toEqual([expect.stringMatching(/no API key/)]);
  });
});

describe('the runner side of the Heroku post step', () => {
  test('reads the step inputs the runner gives the post step again', async () => {
    const { runnerHerokuPostIO } = await import('../../../actions/deploy/heroku/post.js');
    process.env['INPUT_HEROKU-API-KEY'] = 'from-the-runner';
    process.env[`STATE_${HEROKU_STATE_KEY}`] = '{"apiUrl":"x","maintenanceOn":[]}';
    try {
      const io = runnerHerokuPostIO();
      expect(io.input('heroku-api-key')).toBe('from-the-runner');
      expect(io.getState(HEROKU_STATE_KEY)).toBe('{"apiUrl":"x","maintenanceOn":[]}');
      await io.sleep(1);
    } finally {
      delete process.env['INPUT_HEROKU-API-KEY'];
      delete process.env[`STATE_${HEROKU_STATE_KEY}`];
    }
  });
});

describe('the deploy post step', () => {
  test('runs the server cleanup and the Heroku one, each on its own', async () => {
    const { runPostStep } = await import('../../../actions/deploy/post-step.js');
    const warnings: string[] = [];
    const { io: heroku } = io({ apiUrl: standIn.url, maintenanceOn: ['ocpizza'] }, standIn.apiKey);
    await runPostStep(
      {
        // A broken server state must not keep the Heroku apps in maintenance.
        getState: () => '{not json',
        info: () => undefined,
        warning: (m) => warnings.push(m),
        runner: async () => ({ code: 0, signal: null, stdout: '', stderrTail: '', bytes: 0 }),
      },
      heroku,
    );
    expect(standIn.apps.get('ocpizza')!.maintenance).toBe(false);
    // The broken server state is said, not swallowed.
    expect(warnings).toEqual([expect.stringMatching(/cleanup/)]);
  });
});
