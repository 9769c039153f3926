import type express from 'express';
import { streamChanges } from '../api/requests.js';
import { StatusError } from '../kube/status.js';
import type { ConsoleDeps } from './deps.js';
import { consoleRoute, signedIn } from './guard.js';
import type { Sessions } from './session.js';
import { consoleList, consoleShow } from './views.js';

/** What a signed-in approver reads: who they are, the list, one request, live changes. */
export function readRoutes(app: express.Express, deps: ConsoleDeps, sessions: Sessions): void {
  app.get(
    '/kubegate/ui/api/me',
    consoleRoute(deps, async (req, res) => {
      const s = signedIn(sessions, req);
      res.json({ approver: s.approver, cluster: deps.console.cluster, session_expires: s.exp });
    }),
  );
  app.get(
    '/kubegate/ui/api/requests',
    consoleRoute(deps, async (req, res) => {
      signedIn(sessions, req);
      res.json(await consoleList(deps));
    }),
  );
  app.get(
    '/kubegate/ui/api/requests/:id',
    consoleRoute(deps, async (req, res) => {
      const s = signedIn(sessions, req);
      const view = await consoleShow(deps, String(req.params.id), s.approver);
      if (!view) throw new StatusError(404, 'NotFound', `no request ${req.params.id}`);
      res.json(view);
    }),
  );
  app.get(
    '/kubegate/ui/api/watch',
    consoleRoute(deps, async (req, res) => {
      const s = signedIn(sessions, req);
      streamChanges(deps, res, s.exp);
      s.streams.add(res);
      res.on('close', () => s.streams.delete(res));
    }),
  );
}
