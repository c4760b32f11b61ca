// A private certificate authority for the test bed, made with the openssl CLI: the CA a team's self-hosted runner
// would trust (NODE_EXTRA_CA_CERTS, CURL_CA_BUNDLE), and server certificates it signs for real-looking names
// (ocpizza.example, api.heroku.com), so a step reaches https://<name>/ with verification on.
import fs from 'node:fs';
import path from 'node:path';
import { Cleanup, makeTempDir, runChecked } from './process.js';

export interface ServerCertificate {
  /** PEM text of the certificate and of its private key (nginx's tls option and node:https take either). */
  cert: string;
  key: string;
}

export interface TestCA {
  /** The CA certificate file (what NODE_EXTRA_CA_CERTS or CURL_CA_BUNDLE name). */
  certPath: string;
  certPem: string;
  /** A server certificate for these DNS names (subjectAltName), signed by the CA, valid two days. */
  issue(names: string[]): Promise<ServerCertificate>;
  stop(): void;
}

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createTestCA(): Promise<TestCA> {
  const dir = makeTempDir('test-ca');
  const cleanup = new Cleanup(`test CA in ${dir}`).removePath(dir);
  const file = (name: string) => path.join(dir, name);
  try {
    await runChecked('openssl', [
      'req',
      '-x509',
      ...CURVE,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=runbook test bed CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
  let issued = 0;
  return {
    certPath: file('ca.crt'),
    certPem: fs.readFileSync(file('ca.crt'), 'utf8'),
    async issue(names) {
      if (names.length === 0 || names.some((n) => !/^[a-z0-9.-]+$/i.test(n)))
        throw new Error(`certificate names must be DNS names; got ${JSON.stringify(names)}`);
      const n = ++issued;
      fs.writeFileSync(
        file(`server-${n}.ext`),
        [
          `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`,
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          '',
        ].join('\n'),
      );
      await runChecked('openssl', [
        'req',
        '-new',
        ...CURVE,
        '-keyout',
        file(`server-${n}.key`),
        '-out',
        file(`server-${n}.csr`),
        '-subj',
        `/CN=${names[0]}`,
      ]);
      await runChecked('openssl', [
        'x509',
        '-req',
        '-in',
        file(`server-${n}.csr`),
        '-CA',
        file('ca.crt'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        file(`server-${n}.ext`),
        '-out',
        file(`server-${n}.crt`),
      ]);
      return {
        cert: fs.readFileSync(file(`server-${n}.crt`), 'utf8'),
        key: fs.readFileSync(file(`server-${n}.key`), 'utf8'),
      };
    },
    stop() {
      cleanup.runNow();
    },
  };
}
