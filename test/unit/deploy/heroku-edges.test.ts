import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realHerokuEdges } from '../../../actions/deploy/heroku/edges.js';
import { HEROKU_STATE_KEY } from '../../../actions/deploy/heroku/target.js';
import { parseDatabaseUrl } from '../../../actions/shared/database-url.js';
import { freePort } from '../../testbed/ports.js';
import { startHerokuStandIn, type HerokuStandIn } from '../../stand-ins/heroku-api.js';
import { herokuInputs, makeRepo, type TestRepo } from './heroku-world.js';

let standIn: HerokuStandIn;
let repo: TestRepo;
let app: http.Server;
let appUrl: string;
let dir: string;
beforeAll(async () => {
  standIn = await startHerokuStandIn();
  standIn.addApp('ocpizza');
  repo = makeRepo();
  dir = mkdtempSync(join(tmpdir(), 'heroku-edges-'));
  app = http.createServer((_req, res) =>
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ commit: repo.v2 })),
  );
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await standIn.stop();
  await new Promise<void>((resolve) => app.close(() => resolve()));
  repo.remove();
  rmSync(dir, { recursive: true, force: true });
});

function edges(out: { secrets: string[]; states: [string, string][]; lines: string[] }) {
  return realHerokuEdges(herokuInputs(standIn, repo), {
    env: {},
    setSecret: (s) => out.secrets.push(s),
    saveState: (name, value) => out.states.push([name, value]),
    warning: (m) => out.lines.push(m),
    info: (m) => out.lines.push(m),
    startGroup: () => undefined,
    endGroup: () => undefined,
  });
}

describe('the real Heroku edges', () => {
  test('the API client is masked and pointed at heroku-api-url; state is saved under its key', async () => {
    const out = { secrets: [] as string[], states: [] as [string, string][], lines: [] as string[] };
    const real = edges(out);
    expect(out.secrets).toEqual([standIn.apiKey]);
    expect((await real.api.get<{ name: string }>('/apps/ocpizza')).body.name).toBe('ocpizza');
    real.saveState({ apiUrl: standIn.url, maintenanceOn: ['ocpizza'] });
    expect(out.states).toEqual([
      [HEROKU_STATE_KEY, JSON.stringify({ apiUrl: standIn.url, maintenanceOn: ['ocpizza'] })],
    ]);
    expect(real.now()).toBeInstanceOf(Date);
    expect(typeof real.clock()).toBe('number');
    await real.sleep(1);
  });

  test('the health gate is the smoke-check engine: the right commit passes, another fails', async () => {
    const real = edges({ secrets: [], states: [], lines: [] });
    expect((await real.checkHealth(`${appUrl}/health`, repo.v2, 3000, () => undefined)).ok).toBe(true);
    const wrong = await real.checkHealth(`${appUrl}/health`, repo.v1, 1500, () => undefined);
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(new RegExp(repo.v1.slice(0, 7)));
  });

  test('the backup is the db-backup code on the runner: an unreachable database fails it', async () => {
    const real = edges({ secrets: [], states: [], lines: [] });
    const port = await freePort();
    const database = parseDatabaseUrl(`postgres://u:pw@127.0.0.1:${port}/ocpizza`, 'x');
    await expect(
      real.backup(database, { directory: join(dir, 'backups'), commit: repo.v2, now: new Date() }, () => undefined),
    ).rejects.toThrow(/127\.0\.0\.1|connect|refused/i);
  });
});
