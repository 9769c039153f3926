import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { moveBearerSubprotocol } from '../../../src/kube/ws-bearer.js';

const entry = (token: string) =>
  `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;

function moved(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  moveBearerSubprotocol(headers);
  return headers;
}

describe('moveBearerSubprotocol', () => {
  it('moves the token into Authorization and keeps the other subprotocols', () => {
    expect(
      moved({ 'sec-websocket-protocol': `v5.channel.k8s.io, ${entry('abc.def')} ,v4.channel.k8s.io` }),
    ).toEqual({
      'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io',
      authorization: 'Bearer abc.def',
    });
  });

  it('leaves headers without a bearer subprotocol alone (and a second run is a no-op)', () => {
    const plain = { 'sec-websocket-protocol': 'v4.channel.k8s.io', authorization: 'Bearer x' };
    expect(moved({ ...plain })).toEqual(plain);
    expect(moved({})).toEqual({});
    const once = moved({ 'sec-websocket-protocol': `${entry('t')}, v4.channel.k8s.io` });
    expect(moved({ ...once })).toEqual(once);
  });

  it.each<[string, IncomingHttpHeaders, RegExp]>([
    [
      'two tokens',
      { 'sec-websocket-protocol': `${entry('a')}, ${entry('b')}, v4.channel.k8s.io` },
      /more than one/,
    ],
    [
      'beside Authorization',
      { 'sec-websocket-protocol': `${entry('a')}, v4.channel.k8s.io`, authorization: 'Bearer b' },
      /one credential/,
    ],
    ['no other subprotocol', { 'sec-websocket-protocol': entry('a') }, /another subprotocol/],
    ['padding', { 'sec-websocket-protocol': `${entry('ab')}==, v4` }, /characters a token may not have/],
    [
      'a length base64 cannot have',
      { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.abcde, v4' },
      /not base64url/,
    ],
    [
      'other characters',
      { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.a.b~, v4' },
      /not base64url/,
    ],
    ['empty', { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io., v4' }, /not base64url/],
    [
      'not UTF-8',
      {
        'sec-websocket-protocol': `base64url.bearer.authorization.k8s.io.${Buffer.from([0xff, 0xfe]).toString('base64url')}, v4`,
      },
      /not UTF-8/,
    ],
    ['a newline', { 'sec-websocket-protocol': `${entry('a\r\nx-evil: 1')}, v4` }, /control characters/],
    // (bypass round 12) the apiserver trims Unicode spaces (here as the latin1 text of their UTF-8
    // bytes, as Node reads them) and would find the token that trim() leaves hidden
    ...['\xc2\x85', '\xc2\xa0', '\xe3\x80\x80', '\xe2\x80\xa8', '\v'].map(
      (space): [string, IncomingHttpHeaders, RegExp] => [
        `a token behind ${JSON.stringify(space)}`,
        { 'sec-websocket-protocol': `${space}${entry('t')}, v4.channel.k8s.io` },
        /characters a token may not have/,
      ],
    ),
    ['the prefix inside another name', { 'sec-websocket-protocol': `x.${entry('t')}, v4` }, /is sent as/],
    [
      'the prefix in another case',
      { 'sec-websocket-protocol': 'BASE64URL.bearer.authorization.k8s.io.dA, v4' },
      /is sent as/,
    ],
  ])('refuses %s with a 400 Status', (_name, headers, why) => {
    expect(() => moveBearerSubprotocol(headers)).toThrow(why);
    try {
      moveBearerSubprotocol(headers);
    } catch (err) {
      expect(err).toMatchObject({ code: 400, reason: 'BadRequest' });
    }
  });
});
