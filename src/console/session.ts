import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

/** `__Host-`: Secure, Path=/ and no Domain are enforced by the browser too. */
export const SESSION_COOKIE = '__Host-kubegate-console';
/** Sessions are short: they let an approver read; every action needs a fresh passkey assertion. */
export const SESSION_SECONDS = 15 * 60;
/** The header every state-changing console call carries (a cross-site form cannot set it). */
export const CSRF_HEADER = 'x-kubegate-console';

export interface Session {
  approver: string;
  credentialId: string;
  exp: number;
  /** Open live streams (SSE): ended at sign-out, so a closed session reads nothing more. */
  streams: Set<Response>;
}

/** Signed-in approvers, by an unguessable id (kept in memory: a restart signs everyone out). */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  open(res: Response, approver: string, credentialId: string): void {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    this.byId.set(id, {
      approver,
      credentialId,
      exp: Date.now() + SESSION_SECONDS * 1000,
      streams: new Set(),
    });
    res.setHeader(
      'set-cookie',
      `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}`,
    );
  }

  of(req: Request): Session | undefined {
    const id = cookie(req, SESSION_COOKIE);
    const s = id ? this.byId.get(id) : undefined;
    if (!s || s.exp < Date.now()) return undefined;
    return s;
  }

  close(req: Request, res: Response): void {
    const id = cookie(req, SESSION_COOKIE);
    const s = id ? this.byId.get(id) : undefined;
    if (id) this.byId.delete(id);
    for (const r of s?.streams ?? []) r.end('event: expired\ndata: {}\n\n');
    res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (s.exp < now) this.byId.delete(id);
  }
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/**
 * CSRF: a state-changing call must come from the console's own origin (Origin header, which a
 * browser always sends on a POST) with the console's custom header and a JSON body.
 */
export function sameOrigin(req: Request, origin: string): boolean {
  return (
    req.method === 'POST' &&
    req.headers.origin === origin &&
    req.headers[CSRF_HEADER] === '1' &&
    !!req.is('application/json')
  );
}
