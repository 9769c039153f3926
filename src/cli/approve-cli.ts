#!/usr/bin/env node
import { runApproveCli } from '../approvecli/run.js';

runApproveCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`approve-cli: ${err.message}\n`);
    process.exitCode = 1;
  },
);
