// re-export for modules not yet moved to wire (src/gate.ts, src/rollback.ts); import from ../wire/fingerprint.js
export { type FingerprintParts, fingerprint } from '../wire/fingerprint.js';
