import { herokuPostStep } from '../../../actions/deploy/heroku-post.js';
import { HEROKU_STATE_KEY } from '../../../actions/deploy/heroku-target.js';
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

  test('does nothing without state or with nothing left on, and warns without a key', async () => {
    await herokuPostStep(io(undefined, standIn.apiKey).io);
    await herokuPostStep(io({ apiUrl: standIn.url, maintenanceOn: [] }, standIn.apiKey).io);
    expect(standIn.requests).toEqual([]);
    const { io: post, out } = io({ apiUrl: standIn.url, maintenanceOn: ['ocpizza'] }, '');
    await herokuPostStep(post);
    expect(out.warnings).toEqual([expect.stringMatching(/no API key/)]);
  });
});
