import { describe, expect, it } from 'vitest';
import {
  auditRecords,
  direct,
  holdSeconds,
  ns,
  openTls,
  postApproval,
  signToken,
  sleep,
  tokenOf,
  waitPending,
} from './helpers.js';

function create(namespace: string, name: string): string {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
  return (
    `POST /api/v1/namespaces/${namespace}/configmaps HTTP/1.1\r\nHost: kubegate\r\n` +
    `Authorization: Bearer ${tokenOf('agent')}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * HTTP/1.1 pipelining: Node answers pipelined requests in order and attaches a response to the
 * connection only when its turn comes, so a queued response hears nothing when the client hangs
 * up. Every request in flight on the connection must still learn that its client left.
 */
describe('pipelined HTTP/1.1 requests', () => {
  it('a held change queued behind another is dropped when the client hangs up: approved later, it never runs', async () => {
    expect(holdSeconds()).toBeGreaterThan(5);
    const n = await ns('pipe');
    const s = await openTls();
    s.on('error', () => undefined);
    s.write(create(n, 'first') + create(n, 'second'));
    await waitPending(`${n}/configmaps/first`);
    const second = await waitPending(`${n}/configmaps/second`);
    s.destroy();
    await sleep(500);
    const token = await signToken('alice', { fingerprints: [second.fingerprint] });
    expect((await postApproval(token)).status).toBe(201);
    await sleep(1500);
    // its client is gone: nothing is forwarded for nobody, and nothing is created
    expect(auditRecords().filter((r) => r.request_id === second.id && r.event === 'forwarded')).toEqual([]);
    expect((await direct(`/api/v1/namespaces/${n}/configmaps/second`)).status).toBe(404);
  });

  it('watches queued behind a held change end upstream when the client hangs up (no pooled socket kept for nobody)', async () => {
    const n = await ns('pipew');
    const watch = `GET /api/v1/namespaces/${n}/limitranges?watch=1 HTTP/1.1\r\nHost: kubegate\r\nAuthorization: Bearer ${tokenOf('agent')}\r\n\r\n`;
    // the apiserver's own count of namespaced limitrange watches (nothing else here watches them)
    const watching = async () => {
      const m =
        /apiserver_longrunning_requests\{[^}]*resource="limitranges",scope="namespace"[^}]*verb="WATCH"[^}]*\} (\d+)/.exec(
          (await direct('/metrics')).body,
        );
      return Number(m?.[1] ?? 0);
    };
    const before = await watching();
    const s = await openTls();
    s.on('error', () => undefined);
    s.write(create(n, 'first') + watch + watch + watch);
    await waitPending(`${n}/configmaps/first`);
    for (let i = 0; i < 50 && (await watching()) < before + 3; i++) await sleep(100);
    expect(await watching()).toBe(before + 3);
    s.destroy();
    for (let i = 0; i < 50 && (await watching()) > before; i++) await sleep(100);
    expect(await watching()).toBe(before);
  });
});
