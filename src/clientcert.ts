import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { KubeRequest } from './kube/request.js';
import { StatusError } from './kube/status.js';
import { hasImpersonation } from './wire/impersonation.js';

/** Who a verified client certificate names, the way kube-apiserver reads it: CN user, each O a group. */
export interface CertCaller {
  username: string;
  groups: string[];
  /** The subject, e.g. "CN=carol,O=dev" (printable ASCII; anything else percent-encoded). */
  subject: string;
  /** SHA-256 of the certificate (DER), hex, lowercase. */
  sha256: string;
}

/** Extra keys the apiserver's audit shows beside the impersonated user: which certificate it was. */
export const EXTRA_SUBJECT = 'kubegate.dev/client-cert-subject';
export const EXTRA_SHA256 = 'kubegate.dev/client-cert-sha256';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const values = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

const printable = (s: string): string =>
  s.replace(/[^\x20-\x7e]|%/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );

/** The presented chain, leaf first, each certificate once (a self-signed root links to itself). */
function* chainOf(cert: DetailedPeerCertificate): Generator<DetailedPeerCertificate> {
  const seen = new Set<string>();
  for (
    let c: DetailedPeerCertificate | undefined = cert;
    c?.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    yield c;
  }
}

/** Whether the verified chain passes through one of `cas` (the request's cluster's client CA). */
function chainsTo(cert: DetailedPeerCertificate, cas: X509Certificate[]): boolean {
  for (const c of chainOf(cert)) {
    const x = new X509Certificate(c.raw);
    if (
      cas.some(
        (ca) => ca.fingerprint256 === x.fingerprint256 || (x.checkIssued(ca) && x.verify(ca.publicKey)),
      )
    )
      return true;
  }
  return false;
}

/** Why a certificate of the presented chain is not valid at `now`, or undefined when all are. */
function outsideValidity(cert: DetailedPeerCertificate, now: number): string | undefined {
  for (const c of chainOf(cert)) {
    const who = c === cert ? 'it' : 'its issuer';
    if (c.valid_to && !(now <= Date.parse(c.valid_to))) return `${who} expired (${c.valid_to})`;
    if (c.valid_from && !(now >= Date.parse(c.valid_from)))
      return `${who} is not valid before ${c.valid_from}`;
  }
  return undefined;
}

/**
 * Reads the TLS peer certificate. undefined: none was sent. Throws 401 for one kubegate must not
 * trust: unverified, or not issued by the client CA of the cluster the request is for (the
 * handshake accepts every cluster's CA; a certificate is a user of its own cluster only).
 */
export function readCertCaller(
  req: { socket: unknown },
  clusterCa: X509Certificate[] | undefined,
): CertCaller | undefined {
  // HTTP/1.1: the connection's TLS socket; HTTP/2: a proxy to the session's TLS socket
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert: DetailedPeerCertificate = socket.getPeerCertificate(true);
  if (!cert || !cert.raw) return undefined;
  const refuse = (why: string) =>
    new StatusError(401, 'Unauthorized', `client certificate not accepted: ${why}`);
  // verified by Node/OpenSSL against the client CAs (chain, signature, validity period)
  if (!socket.authorized) throw refuse(String(socket.authorizationError ?? 'not signed by the cluster CA'));
  // the handshake checked the validity period once, but a connection (and a request parked on
  // it) outlives that moment: checked again on every request, as the apiserver does
  const outside = outsideValidity(cert, Date.now());
  if (outside) throw refuse(outside);
  if (!clusterCa?.length || !chainsTo(cert, clusterCa))
    throw refuse("it was not issued by this cluster's client CA");
  if (cert.ext_key_usage && !cert.ext_key_usage.includes(CLIENT_AUTH))
    throw refuse('its extended key usage does not include client authentication');
  const cns = values(cert.subject?.CN);
  // kube-apiserver takes one CN; a certificate with several would be read differently by different parsers
  if (cns.length !== 1 || cns[0] === '') throw refuse('it must name exactly one non-empty CN (the username)');
  const groups = values(cert.subject?.O);
  const subject = [`CN=${cns[0]}`, ...groups.map((g) => `O=${g}`)].join(',');
  return {
    username: cns[0]!,
    groups,
    subject: printable(subject),
    sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/**
 * The upstream credentials of a verified certificate caller. kubegate cannot present the
 * caller's certificate (it has no private key), so it sends its own credentials with
 * Impersonate-User/Group naming the caller, and the certificate in Impersonate-Extra-* so the
 * apiserver's audit shows both. Every call for this caller uses them (identity review, live
 * object, dry runs, the forward).
 */
export function certCredentials(
  caller: CertCaller,
  kr: KubeRequest,
  headers: IncomingHttpHeaders,
  ownAuthorization: () => string | undefined,
): Record<string, string | string[]> {
  if (headers.authorization !== undefined)
    throw new StatusError(
      400,
      'BadRequest',
      'send either a client certificate or an Authorization header, not both: kubegate would not know who you are',
    );
  if (hasImpersonation(kr.impersonate) || Object.keys(headers).some((h) => h.startsWith('impersonate-')))
    throw new StatusError(
      403,
      'Forbidden',
      'Impersonate-* headers cannot be used with a client certificate through kubegate: kubegate itself impersonates the certificate user upstream',
    );
  const own = ownAuthorization();
  if (!own)
    throw new StatusError(
      503,
      'ServiceUnavailable',
      'kubegate has no credentials of its own to act for client-certificate users',
    );
  return {
    authorization: own,
    'impersonate-user': caller.username,
    ...(caller.groups.length ? { 'impersonate-group': caller.groups } : {}),
    [`impersonate-extra-${encodeExtraKey(EXTRA_SUBJECT)}`]: caller.subject,
    [`impersonate-extra-${encodeExtraKey(EXTRA_SHA256)}`]: caller.sha256,
  };
}

/** Extra keys travel in header names: percent-encode what a header name cannot hold (the apiserver decodes). */
function encodeExtraKey(key: string): string {
  return key.replace(/[^a-z0-9.-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A token caller's credentials: the Authorization header plus the caller's own Impersonate-*
 * headers (which the policy has classified and the fingerprint covers).
 */
export function tokenCredentials(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if ((k === 'authorization' || k.startsWith('impersonate-')) && v !== undefined) out[k] = v;
  }
  return out;
}
