import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { actRoutes } from './act-routes.js';
import type { ConsoleDeps } from './deps.js';
import { CSP, shell } from './page.js';
import { passkeyRoutes } from './passkey-routes.js';
import { readRoutes } from './read-routes.js';
import { Sessions } from './session.js';

const assetsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'console');

/** The static files, read once: the console script and style, and SimpleWebAuthn's browser bundle. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const require = createRequire(import.meta.url);
  // the package exports no package.json: its main module sits one folder below the root
  const browserPkg = path.resolve(path.dirname(require.resolve('@simplewebauthn/browser')), '..');
  return new Map([
    ['console.js', { type: 'text/javascript', body: readFileSync(path.join(assetsDir, 'console.js')) }],
    ['console.css', { type: 'text/css', body: readFileSync(path.join(assetsDir, 'console.css')) }],
    [
      'webauthn.js',
      {
        type: 'text/javascript',
        body: readFileSync(path.join(browserPkg, 'dist', 'bundle', 'index.umd.min.js')),
      },
    ],
  ]);
}

function secure(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cache-control', 'no-store');
  next();
}

/** The approval console under /kubegate/ui/: pages, assets, and its JSON API. */
export function consoleRoutes(app: express.Express, deps: ConsoleDeps): void {
  const assets = loadAssets();
  const sessions = new Sessions();
  app.use('/kubegate/ui', secure);
  const page = (p: 'home' | 'request' | 'enroll') => (_req: Request, res: Response) => {
    res.type('text/html').send(shell(p));
  };
  app.get(['/kubegate/ui', '/kubegate/ui/'], page('home'));
  app.get('/kubegate/ui/requests/:id', page('request'));
  app.get('/kubegate/ui/enroll', page('enroll'));
  app.get('/kubegate/ui/assets/:name', (req, res) => {
    const a = assets.get(String(req.params.name));
    if (!a) return void res.status(404).type('text/plain').send('not found');
    res.type(a.type).send(a.body);
  });
  passkeyRoutes(app, deps, sessions);
  readRoutes(app, deps, sessions);
  actRoutes(app, deps, sessions);
}
