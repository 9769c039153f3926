import http2 from 'node:http2';

/**
 * Express was written for HTTP/1.1's IncomingMessage/ServerResponse: it re-parents each request
 * and response onto its own prototypes, which drops the HTTP/2 compat objects' accessors (url,
 * headers, setHeader…). Copying those accessors onto the instances keeps them whatever the
 * prototype becomes, so kubegate's API and console work for HTTP/2 clients (browsers) too.
 */
export function forExpress(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  own(req, http2.Http2ServerRequest.prototype);
  own(res, http2.Http2ServerResponse.prototype);
  // body parsers look for Content-Length or Transfer-Encoding; an HTTP/2 body may come with neither
  if (req.headers['content-length'] === undefined && !req.stream.endAfterHeaders)
    req.headers['transfer-encoding'] = 'chunked';
}

function own(o: object, proto: object): void {
  for (const k of Reflect.ownKeys(proto)) {
    if (k === 'constructor' || Object.hasOwn(o, k)) continue;
    Object.defineProperty(o, k, Object.getOwnPropertyDescriptor(proto, k) as PropertyDescriptor);
  }
}
