#!/usr/bin/env node
process.stdout.write(`approve-cli — approve, reject and inspect requests held by kubegate

Usage: approve-cli keygen|list|show|approve|reject|revoke|rollback|freeze ...
(not implemented yet)
`);
process.exitCode = 2;
