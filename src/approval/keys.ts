import { writeFileSync } from 'node:fs';
import type { ApproverJwks } from '../wire/approver-key.js';

/** Writes kubegate's approvers JWKS file (the dev setup does; approve-cli only prints the public key). */
export function writeJwksFile(file: string, keys: ApproverJwks['keys']): void {
  writeFileSync(file, `${JSON.stringify({ keys }, null, 2)}\n`);
}
