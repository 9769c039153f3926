// One self-signed EC certificate for unit tests (a fake apiserver's serving cert, a client CA).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Writes NAME.key and NAME.crt in dir (subject CN=cn, valid one day); returns their paths and PEMs. */
export function selfSigned(dir: string, name: string, cn: string) {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '1',
    ]),
    { stdio: 'ignore' },
  );
  return { keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
