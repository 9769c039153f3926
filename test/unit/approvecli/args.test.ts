// approve-cli's command line: what is accepted, and the combinations it refuses before signing anything.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/approvecli/args.js';
import { UsageError } from '../../../src/approvecli/errors.js';
import { parseTtl } from '../../../src/approvecli/ttl.js';

describe('parseTtl', () => {
  it('reads seconds, minutes and hours', () => {
    expect(parseTtl('30s')).toBe(30);
    expect(parseTtl('10m')).toBe(600);
    expect(parseTtl('1h')).toBe(3600);
  });

  it('refuses other forms, zero and more than a day', () => {
    for (const bad of ['10', '10min', '1d', '-5m', '1.5h', '', 'm'])
      expect(() => parseTtl(bad), bad).toThrow(UsageError);
    expect(() => parseTtl('0s')).toThrow(/longer than 0s/);
    expect(() => parseTtl('25h')).toThrow(/24h/);
  });
});

describe('parseCommand: approve', () => {
  it('defaults to a 10 minute token, no override, no plan, sent to kubegate', () => {
    expect(parseCommand(['approve', 'req-1'])).toEqual({
      cmd: 'approve',
      remote: {},
      ids: ['req-1'],
      override: false,
      ttlSeconds: 600,
      plan: false,
      print: false,
    });
  });

  it('refuses several ids without --plan, accepts them with it', () => {
    expect(() => parseCommand(['approve', 'req-1', 'req-2'])).toThrow(/--plan/);
    const c = parseCommand(['approve', 'req-1', 'req-2', '--plan']);
    expect(c).toMatchObject({ cmd: 'approve', ids: ['req-1', 'req-2'], plan: true });
  });

  it('refuses --override without --reason (or with an empty one)', () => {
    expect(() => parseCommand(['approve', 'req-1', '--override'])).toThrow(/--reason/);
    expect(() => parseCommand(['approve', 'req-1', '--override', '--reason', '  '])).toThrow(
      /must not be empty/,
    );
    expect(parseCommand(['approve', 'req-1', '--override', '--reason', 'incident 42'])).toMatchObject({
      override: true,
      reason: 'incident 42',
    });
  });

  it('parses --ttl, --print, --key and --gate', () => {
    const c = parseCommand([
      'approve',
      '--ttl',
      '30s',
      '--print',
      'req-1',
      '--key',
      'k.jwk',
      '--gate',
      'prod',
    ]);
    expect(c).toMatchObject({ ttlSeconds: 30, print: true, remote: { key: 'k.jwk', gate: 'prod' } });
    // --cluster names a cluster behind kubegate (list filters by it), never the tokens' audience
    expect(parseCommand(['list', '--cluster', 'staging'])).toMatchObject({ cmd: 'list', cluster: 'staging' });
    expect(() => parseCommand(['approve', 'req-1', '--cluster', 'prod'])).toThrow(/Unknown option/);
    expect(() => parseCommand(['approve', 'req-1', '--ttl', 'soon'])).toThrow(/--ttl/);
  });

  it('--blind is set only when given; --help after a command asks for the usage', () => {
    expect(parseCommand(['approve', 'req-1', '--blind'])).toMatchObject({ cmd: 'approve', blind: true });
    expect(parseCommand(['approve', 'req-1'])).not.toHaveProperty('blind');
    expect(parseCommand(['approve', '--help'])).toEqual({ cmd: 'help' });
  });

  it('refuses no id, a repeated id, an id that is not one, and unknown flags', () => {
    expect(() => parseCommand(['approve'])).toThrow(/needs a request id/);
    expect(() => parseCommand(['approve', 'req-1', 'req-1', '--plan'])).toThrow(/named twice/);
    expect(() => parseCommand(['approve', '../freeze'])).toThrow(/not a request id/);
    expect(() => parseCommand(['approve', 'req-1', '--force'])).toThrow(/Unknown option/);
  });
});

describe('parseCommand: the other commands', () => {
  it('reject needs --reason', () => {
    expect(() => parseCommand(['reject', 'req-1'])).toThrow(/--reason/);
    expect(parseCommand(['reject', 'req-1', '--reason', 'wrong namespace'])).toEqual({
      cmd: 'reject',
      remote: {},
      id: 'req-1',
      reason: 'wrong namespace',
    });
  });

  it('list and show take -o json only', () => {
    expect(parseCommand(['list', '-o', 'json'])).toMatchObject({ cmd: 'list', output: 'json' });
    expect(parseCommand(['show', 'req-1'])).toMatchObject({ cmd: 'show', id: 'req-1', output: 'text' });
    expect(() => parseCommand(['list', '-o', 'yaml'])).toThrow(/only "json"/);
    expect(() => parseCommand(['show'])).toThrow(/needs a request id/);
    expect(() => parseCommand(['show', 'a', 'b'])).toThrow(/unexpected argument/);
  });

  it('freeze takes on, off or status', () => {
    expect(parseCommand(['freeze', 'on', '--reason', 'incident'])).toMatchObject({
      mode: 'on',
      reason: 'incident',
    });
    expect(parseCommand(['freeze', 'off'])).toMatchObject({ mode: 'off' });
    expect(parseCommand(['freeze', 'status'])).toMatchObject({ mode: 'status' });
    expect(() => parseCommand(['freeze'])).toThrow(/on, off or status/);
    expect(() => parseCommand(['freeze', 'maybe'])).toThrow(/on, off or status/);
  });

  it('keygen needs --name and --out', () => {
    expect(() => parseCommand(['keygen', '--name', 'alice'])).toThrow(/--out/);
    expect(() => parseCommand(['keygen', '--out', 'a.jwk'])).toThrow(/--name/);
    expect(parseCommand(['keygen', '--name', 'alice', '--out', 'a.jwk'])).toEqual({
      cmd: 'keygen',
      name: 'alice',
      out: 'a.jwk',
    });
  });

  it('knows help and refuses unknown commands', () => {
    expect(parseCommand([])).toEqual({ cmd: 'help' });
    expect(parseCommand(['--help'])).toEqual({ cmd: 'help' });
    expect(() => parseCommand(['aprove', 'req-1'])).toThrow(/unknown command "aprove"/);
  });
});
