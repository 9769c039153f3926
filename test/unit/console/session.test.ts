import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE, Sessions } from '../../../src/console/session.js';

describe('signing out of the console', () => {
  it('ends the live streams the session opened, and the session reads nothing more', () => {
    const sessions = new Sessions();
    let cookie = '';
    const res = {
      setHeader: (_k: string, v: string) => {
        cookie = v;
      },
    } as unknown as Response;
    sessions.open(res, 'alice', 'cred-1');
    const id = /=([^;]+);/.exec(cookie)?.[1];
    const req = { headers: { cookie: `${SESSION_COOKIE}=${id}` } } as unknown as Request;
    const s = sessions.of(req);
    const ended: string[] = [];
    s?.streams.add({ end: (t: string) => ended.push(t) } as unknown as Response);
    sessions.close(req, res);
    expect(ended).toEqual(['event: expired\ndata: {}\n\n']);
    expect(sessions.of(req)).toBeUndefined();
  });
});
