// The examples' deploy.yml, run by the local workflow runner for a push to master as GitHub would run it for the
// team: through `<owner>/runbook/.github/workflows/deploy-django.yml@v1` (the v1 tag of a clone of this repository),
// with the example's own https URLs. The runner machine resolves those names and trusts their certificates as a
// self-hosted runner of a team with a private CA would: a hosts line per name (runWorkflow's `hosts`, mounted over
// /etc/hosts in each step's own mount namespace) pointing at a loopback address of the test's own, where the site
// answers on port 443 with a certificate of the test bed's CA, which the runner trusts through NODE_EXTRA_CA_CERTS
// (and CURL_CA_BUNDLE for curl).
import dns from 'node:dns/promises';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { runWorkflow, type JobRun, type WorkflowRun } from '../harness/workflow-runner.js';
import { privateLoopbackAddress } from '../testbed/ports.js';
import { makeTempDir } from '../testbed/process.js';
import { createTestCA, type TestCA } from '../testbed/tls.js';

/** Each step's outcome and the end of its log, for a failure message. */
function explain(run: WorkflowRun): string {
  const lines: string[] = [];
  const walk = (jobs: JobRun[], prefix: string) => {
    for (const job of jobs) {
      lines.push(`${prefix}${job.id}: ${job.result}`);
      for (const step of job.steps)
        lines.push(
          `  ${prefix}${job.id}/${step.id}: ${step.outcome} ${step.message ?? ''}\n${(step.result?.log ?? '').slice(-1500)}`,
        );
      if (job.called) walk(job.called, `${prefix}${job.id}/`);
    }
  };
  walk(run.jobs, '');
  return lines.join('\n');
}

describe('the runner machine resolves names given to runWorkflow and trusts the test CA', () => {
  let ca: TestCA;
  let address: string;
  let server: https.Server;
  let dir: string;
  const commit = 'c0ffee'.repeat(6) + 'c0ff';

  beforeAll(async () => {
    ca = await createTestCA();
    address = await privateLoopbackAddress(443);
    const certificate = await ca.issue(['ocpizza.example']);
    server = https.createServer(certificate, (request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'ok', commit, host: request.headers.host }));
    });
    await new Promise<void>((resolve) => server.listen(443, address, resolve));
    dir = makeTempDir('workflow-hosts');
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    ca?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const workflow = () => {
    const file = path.join(dir, 'check.yml');
    fs.writeFileSync(
      file,
      `on: push
permissions: {}
jobs:
  check:
    runs-on: ubuntu-24.04
    steps:
      - id: curl
        run: |
          body=$(curl -sS --fail https://ocpizza.example/health)
          echo "body=$body" >> "$GITHUB_OUTPUT"
      - id: smoke
        uses: ./actions/smoke-check
        with:
          urls: https://ocpizza.example/health
          expect-version: ${commit}
          version-from: json:$.commit
`,
    );
    return file;
  };

  test('a run step (curl) and an action step (Node) reach https://ocpizza.example/ served on the address', async () => {
    const run = await runWorkflow({
      workflow: workflow(),
      event: { name: 'push', payload: { ref: 'refs/heads/master', after: commit } },
      github: { sha: commit, ref: 'refs/heads/master' },
      hosts: { 'ocpizza.example': address },
      runnerEnv: { NODE_EXTRA_CA_CERTS: ca.certPath, CURL_CA_BUNDLE: ca.certPath },
    });
    if (run.conclusion !== 'success') throw new Error(explain(run));
    const [curl, smoke] = run.jobs[0].steps;
    expect(JSON.parse(curl.result!.steps![0].outputs.body)).toEqual({ status: 'ok', commit, host: 'ocpizza.example' });
    expect(smoke.result!.outputs.healthy).toBe('true');
    // Only the steps saw the name: the machine's own lookup still does not know it.
    await expect(dns.lookup('ocpizza.example')).rejects.toThrow();
    expect(fs.readFileSync('/etc/hosts', 'utf8')).not.toContain('ocpizza.example');
  }, 120_000);

  test('without the hosts line the name does not resolve; without the CA the certificate is refused', async () => {
    const unresolved = await runWorkflow({
      workflow: workflow(),
      event: { name: 'push', payload: { ref: 'refs/heads/master', after: commit } },
      github: { sha: commit, ref: 'refs/heads/master' },
      runnerEnv: { NODE_EXTRA_CA_CERTS: ca.certPath, CURL_CA_BUNDLE: ca.certPath },
    });
    expect(unresolved.conclusion).toBe('failure');
    expect(unresolved.jobs[0].steps[0].result!.log).toMatch(/Could not resolve host: ocpizza\.example/);
    expect(unresolved.jobs[0].steps[1].outcome).toBe('skipped');

    const untrusted = await runWorkflow({
      workflow: workflow(),
      event: { name: 'push', payload: { ref: 'refs/heads/master', after: commit } },
      github: { sha: commit, ref: 'refs/heads/master' },
      hosts: { 'ocpizza.example': address },
    });
    expect(untrusted.conclusion).toBe('failure');
    expect(untrusted.jobs[0].steps[0].result!.log).toMatch(/SSL certificate problem/);
  }, 120_000);
});
