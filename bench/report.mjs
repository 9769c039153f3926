// The printed table (medians over rounds, ratios, targets) from the collected results.
import { fmt, ratio } from './lib/stats.mjs';

/** @typedef {{ name: string, ok: boolean, value: string, goal: string }} Target */

/** Pads a table of string cells into aligned columns. */
function table(/** @type {string[][]} */ rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i < 2 || i >= 7 ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * CPU µs per request of the proxy in the path (kubegate or kubectl proxy), the apiserver and the
 * load generator, per target column.
 * @param {Record<string, { median: { cpuUsPerReq?: Record<string, number> } }>} g
 * @param {string[]} cols
 */
function cpuRows(g, cols) {
  const cell = (/** @type {string} */ col, /** @type {string} */ proc) => {
    const v = g[col]?.median.cpuUsPerReq?.[proc];
    return v === undefined ? '' : fmt(v, 0);
  };
  const col = (/** @type {string} */ c) => (cols.includes(c) ? c : '');
  return [
    [
      '',
      'CPU µs/req: the proxy itself',
      '',
      cell(col('kubegate'), 'kubegate'),
      cell(col('proxy'), 'kubectl proxy'),
    ],
    [
      '',
      'CPU µs/req: kube-apiserver',
      cell('direct', 'apiserver'),
      cell(col('kubegate'), 'apiserver'),
      cell(col('proxy'), 'apiserver'),
    ],
    [
      '',
      'CPU µs/req: load generator',
      cell('direct', 'load generator'),
      cell(col('kubegate'), 'load generator'),
      cell(col('proxy'), 'load generator'),
    ],
  ].map((r) => [...r, '', '']);
}

const verdict = (/** @type {boolean} */ ok) => (ok ? 'PASS' : 'MISS');

/**
 * @param {any} r  the results object of bench/run.mjs
 * @returns {{ text: string, targets: Target[] }}
 */
export function report(r) {
  const head = [
    'scenario',
    'metric',
    'direct',
    'kubegate',
    'kubectl proxy',
    'kg/direct',
    'kg/proxy',
    'target',
    'result',
  ];
  /** @type {string[][]} */
  const rows = [head, head.map((h) => '-'.repeat(h.length))];
  /** @type {Target[]} */
  const targets = [];
  const target = (
    /** @type {string} */ name,
    /** @type {boolean} */ ok,
    /** @type {string} */ value,
    /** @type {string} */ goal,
  ) => {
    targets.push({ name, ok, value, goal });
    return [goal, `${verdict(ok)} (${value})`];
  };

  if (r.get) {
    for (const c of ['c1', 'c32']) {
      const g = r.get[c];
      if (!g) continue;
      const d = g.direct.median;
      const k = g.kubegate.median;
      const p = g.proxy.median;
      const label = `GET small ConfigMap, ${c.slice(1)} client${c === 'c1' ? '' : 's'}`;
      const t =
        c === 'c32'
          ? target(
              'GET throughput ≥ 1.0× kubectl proxy (32 clients)',
              k.rps / p.rps >= 1.0,
              ratio(k.rps, p.rps),
              '≥ 1.00× proxy',
            )
          : ['', ''];
      rows.push([
        label,
        'req/s',
        fmt(d.rps, 0),
        fmt(k.rps, 0),
        fmt(p.rps, 0),
        ratio(k.rps, d.rps),
        ratio(k.rps, p.rps),
        ...t,
      ]);
      rows.push([
        '',
        'p50 ms',
        fmt(d.p50, 2),
        fmt(k.p50, 2),
        fmt(p.p50, 2),
        ratio(k.p50, d.p50),
        ratio(k.p50, p.p50),
      ]);
      rows.push([
        '',
        'p99 ms',
        fmt(d.p99, 2),
        fmt(k.p99, 2),
        fmt(p.p99, 2),
        ratio(k.p99, d.p99),
        ratio(k.p99, p.p99),
      ]);
      rows.push(...cpuRows(g, ['direct', 'kubegate', 'proxy']));
      if (c === 'c32') {
        const kc = k.cpuUsPerReq?.kubegate ?? Number.NaN;
        const pc = p.cpuUsPerReq?.['kubectl proxy'] ?? Number.NaN;
        rows.push([
          '',
          'CPU per GET: kubegate vs kubectl proxy',
          '',
          '',
          '',
          '',
          ratio(kc, pc),
          ...target(
            'GET CPU per request ≤ kubectl proxy (32 clients)',
            kc <= pc,
            ratio(kc, pc),
            '≤ 1.00× proxy',
          ),
        ]);
      }
    }
    const h2 = r.get.h2c32;
    if (h2) {
      const d = h2.direct.median;
      const k = h2.kubegate.median;
      rows.push([
        'GET over HTTP/2, 32 streams, 1 conn',
        'req/s',
        fmt(d.rps, 0),
        fmt(k.rps, 0),
        '',
        ratio(k.rps, d.rps),
        '',
      ]);
      rows.push(['', 'p50 ms', fmt(d.p50, 2), fmt(k.p50, 2), '', ratio(k.p50, d.p50), '']);
      rows.push(['', 'p99 ms', fmt(d.p99, 2), fmt(k.p99, 2), '', ratio(k.p99, d.p99), '']);
      rows.push(...cpuRows(h2, ['direct', 'kubegate']));
    }
  }
  if (r.list) {
    const l = r.list;
    const m = l.median;
    rows.push([
      `LIST ${fmt(l.bytes / 1e6, 1)} MB (${l.count} ConfigMaps)`,
      'last byte ms',
      fmt(m.direct.lastByteMs, 0),
      fmt(m.kubegate.lastByteMs, 0),
      fmt(m.proxy.lastByteMs, 0),
      ratio(m.kubegate.lastByteMs, m.direct.lastByteMs),
      ratio(m.kubegate.lastByteMs, m.proxy.lastByteMs),
    ]);
    rows.push([
      '',
      'first byte ms',
      fmt(m.direct.firstByteMs, 0),
      fmt(m.kubegate.firstByteMs, 0),
      fmt(m.proxy.firstByteMs, 0),
      ratio(m.kubegate.firstByteMs, m.direct.firstByteMs),
      ratio(m.kubegate.firstByteMs, m.proxy.firstByteMs),
    ]);
    rows.push([
      '',
      'kubegate RSS growth MB',
      '',
      `${fmt(l.rssGrowthMedianMB, 1)} (max ${fmt(l.rssGrowthMaxMB, 1)})`,
      '',
      '',
      '',
      ...target(
        'LIST 50 MB: kubegate RSS growth < 30 MB (max of rounds)',
        l.rssGrowthMaxMB < 30,
        `${fmt(l.rssGrowthMaxMB, 1)} MB`,
        '< 30 MB',
      ),
    ]);
  }
  if (r.watch) {
    const w = r.watch;
    rows.push([
      `watch, ${w.changes} changes (${w.matched} matched)`,
      'kubegate − direct p50 ms',
      '',
      fmt(w.p50, 2),
      '',
      '',
      '',
    ]);
    if (w.quietHeaders) {
      const q = (/** @type {number} */ v) => (Number.isFinite(v) ? fmt(v, 1) : 'none in 1 s');
      rows.push([
        '',
        'headers before 1st event ms',
        q(w.quietHeaders.direct),
        q(w.quietHeaders.kubegate),
        '',
        '',
        '',
      ]);
    }
    rows.push([
      '',
      'kubegate − direct p99 ms',
      '',
      fmt(w.p99, 2),
      '',
      '',
      '',
      ...target(
        'watch delay within 5 ms of direct (p99)',
        w.matched === w.changes && w.p99 <= 5,
        `${fmt(w.p99, 2)} ms${w.matched === w.changes ? '' : `, only ${w.matched}/${w.changes} events matched`}`,
        '≤ 5 ms',
      ),
    ]);
  }
  if (r.mutation) {
    const f = r.mutation.c1?.fdatasync?.median;
    // the budget of a LOW change: the larger of its 1- and 32-client CPU per request
    const cpuOf = (/** @type {string} */ c) => r.mutation[c]?.kubegate.median.cpuUsPerReq?.kubegate;
    const cpuWorst = Math.max(...['c1', 'c32'].map(cpuOf).filter((v) => v !== undefined));
    for (const c of ['c1', 'c32']) {
      const g = r.mutation[c];
      if (!g) continue;
      const d = g.direct.median;
      const k = g.kubegate.median;
      const label = `LOW mutation (SSAR create), ${c.slice(1)} client${c === 'c1' ? '' : 's'}`;
      const tput =
        c === 'c32'
          ? target(
              'LOW mutation throughput ≥ 0.8× direct (32 clients)',
              k.rps / d.rps >= 0.8,
              ratio(k.rps, d.rps),
              '≥ 0.80× direct',
            )
          : ['', ''];
      const lat =
        c === 'c1' && f
          ? target(
              'LOW mutation added latency p99 ≤ fdatasync p99 + 1 ms (1 client)',
              k.p99 - d.p99 <= f.p99 + 1,
              `+${fmt(k.p99 - d.p99, 2)} ms vs ${fmt(f.p99 + 1, 2)}`,
              '≤ fdatasync p99 + 1 ms',
            )
          : ['', ''];
      rows.push([label, 'req/s', fmt(d.rps, 0), fmt(k.rps, 0), '', ratio(k.rps, d.rps), '', ...tput]);
      rows.push([
        '',
        `p50 ms (added ${fmt(k.p50 - d.p50, 2)})`,
        fmt(d.p50, 2),
        fmt(k.p50, 2),
        '',
        ratio(k.p50, d.p50),
        '',
      ]);
      rows.push([
        '',
        `p99 ms (added ${fmt(k.p99 - d.p99, 2)})`,
        fmt(d.p99, 2),
        fmt(k.p99, 2),
        '',
        ratio(k.p99, d.p99),
        '',
        ...lat,
      ]);
      if (c === 'c1' && f) {
        rows.push([
          '',
          'fdatasync beside the audit log, ms p50 | p99',
          '',
          `${fmt(f.p50, 2)} | ${fmt(f.p99, 2)}`,
          '',
          '',
          '',
        ]);
        rows.push([
          '',
          "fdatasync loop's own CPU µs per fsync: total (system)",
          '',
          `${fmt(f.cpuUsPerReq?.fdatasync, 0)} (${fmt(f.sysUsPerReq?.fdatasync, 0)})`,
          '',
          '',
          '',
        ]);
      }
      const cpu = cpuRows(g, ['direct', 'kubegate']);
      if (c === 'c32' && Number.isFinite(cpuWorst)) {
        cpu[0].splice(
          7,
          2,
          ...target(
            'LOW mutation kubegate CPU ≤ 300 µs/req (worse of 1 and 32 clients)',
            cpuWorst <= 300,
            `${fmt(cpuWorst, 0)} µs`,
            '≤ 300 µs (1 & 32)',
          ),
        );
      }
      rows.push(...cpu);
      const b = g.bare?.median;
      if (b) {
        const bareCpu = b.cpuUsPerReq?.['bare proxy'];
        rows.push([
          '',
          'bare Node https proxy (floor): req/s | p99 ms | CPU µs/req',
          '',
          `${fmt(b.rps, 0)} | ${fmt(b.p99, 2)} | ${fmt(bareCpu, 0)}`,
          '',
          ratio(b.rps, d.rps),
          '',
        ]);
        rows.push([
          '',
          'CPU µs/req, system part: kubegate | bare proxy',
          '',
          `${fmt(k.sysUsPerReq?.kubegate, 0)} | ${fmt(b.sysUsPerReq?.['bare proxy'], 0)}`,
          '',
          '',
          '',
        ]);
        rows.push([
          '',
          'CPU µs/req: kubegate − bare proxy',
          '',
          fmt((cpuOf(c) ?? NaN) - (bareCpu ?? NaN), 0),
          '',
          '',
          '',
        ]);
      }
    }
  }
  if (r.fsync) {
    const g = r.fsync.group.median;
    const e = r.fsync.each.median;
    const d = r.mutation?.c32?.direct.median;
    rows.push([
      'audited LOW mutations, 32 clients',
      'req/s, fsync=group',
      d ? fmt(d.rps, 0) : '',
      fmt(g.rps, 0),
      '',
      ratio(g.rps, d?.rps),
      '',
      '',
      '',
    ]);
    rows.push([
      '',
      'req/s, fsync=each',
      '',
      fmt(e.rps, 0),
      '',
      ratio(e.rps, d?.rps),
      '',
      '',
      `group/each ${ratio(g.rps, e.rps)}`,
    ]);
    rows.push(['', 'p99 ms group | each', '', `${fmt(g.p99, 1)} | ${fmt(e.p99, 1)}`, '', '', '']);
    rows.push([
      '',
      'CPU µs/req kubegate: group | each',
      '',
      `${fmt(g.cpuUsPerReq?.kubegate, 0)} | ${fmt(e.cpuUsPerReq?.['kubegate each'], 0)}`,
      '',
      '',
      '',
    ]);
  }
  if (r.policy) {
    let first = true;
    for (const [name, p] of Object.entries(r.policy)) {
      const v = /** @type {any} */ (p);
      // the floor: an empty policy on the same input, or this machine's tail at the same median
      const floor = Math.max(v.emptyPolicy?.p99 ?? 0, v.cpuNoise?.p99 ?? 0);
      const over = floor > 0 ? v.p99 / floor : Number.NaN;
      rows.push([
        first ? 'policy evaluation (in process)' : '',
        `${name} (${v.risk}) µs p50 | p99`,
        '',
        `${fmt(v.p50, 0)} | ${fmt(v.p99, 0)}`,
        '',
        '',
        '',
        ...target(
          `policy evaluation p99 ≤ 1.25× the larger floor: ${name}`,
          over <= 1.25,
          `${fmt(over, 2)}× of ${fmt(floor, 0)} µs`,
          '≤ 1.25× floor p99',
        ),
      ]);
      if (v.emptyPolicy && v.cpuNoise) {
        rows.push([
          '',
          '  floors: empty policy | CPU loop, µs p50/p99',
          '',
          `${fmt(v.emptyPolicy.p50, 0)}/${fmt(v.emptyPolicy.p99, 0)} | ${fmt(v.cpuNoise.p50, 0)}/${fmt(v.cpuNoise.p99, 0)}`,
          '',
          '',
          '',
        ]);
      }
      first = false;
    }
  }
  if (r.held) {
    const h = r.held;
    const all = h.held >= h.requested;
    rows.push([
      `${fmt(h.requested, 0)} held requests`,
      `RSS MB (idle ${fmt(h.rssIdleMB, 0)})`,
      '',
      fmt(h.rssHeldMB, 0),
      '',
      '',
      '',
    ]);
    if (r.heldBaseline) {
      const b = r.heldBaseline;
      const ok = all && b.held >= b.requested && h.rssHeldMB <= 1.2 * b.rssHeldMB;
      rows.push([
        '',
        `bare Node https server, same client: RSS MB (idle ${fmt(b.rssIdleMB, 0)})`,
        '',
        `${fmt(b.rssHeldMB, 0)}${b.held >= b.requested ? '' : ` (${b.held} held)`}`,
        '',
        '',
        '',
        ...target(
          `${h.requested} held requests: RSS ≤ 1.2× a bare Node https server`,
          ok,
          `kubegate/bare ${ratio(h.rssHeldMB, b.rssHeldMB)}${all ? '' : `, only ${h.held} held`}`,
          '≤ 1.20× bare',
        ),
      ]);
    }
    const cc = r.heldClientCertBaseline;
    if (cc)
      rows.push([
        '',
        `the same, asking for a client certificate as kubegate does: RSS MB`,
        '',
        `${fmt(cc.rssHeldMB, 0)}${cc.held >= cc.requested ? '' : ` (${cc.held} held)`}`,
        '',
        `kubegate/that ${ratio(h.rssHeldMB, cc.rssHeldMB)}`,
        '',
      ]);
    rows.push([
      '',
      'held/s while filling | KB per held',
      '',
      `${fmt(h.heldPerSecond, 0)} | ${fmt(h.rssPerHeldKB, 1)}`,
      '',
      '',
      '',
    ]);
  }
  if (r.heldH2) {
    const h = r.heldH2;
    const all = h.held >= h.requested;
    rows.push([
      `${fmt(h.requested, 0)} held over ${h.connections}`,
      `RSS MB (idle ${fmt(h.rssIdleMB, 0)})`,
      '',
      fmt(h.rssHeldMB, 0),
      '',
      '',
      '',
      ...target(
        `${h.requested} held requests over HTTP/2: RSS < 200 MB`,
        all && h.rssHeldMB < 200,
        `${fmt(h.rssHeldMB, 0)} MB${all ? '' : `, only ${h.held} held`}`,
        '< 200 MB',
      ),
    ]);
    const b = r.heldH2Baseline;
    if (b)
      rows.push([
        '',
        `bare Node HTTP/2 server, same client: RSS MB (idle ${fmt(b.rssIdleMB, 0)})`,
        '',
        `${fmt(b.rssHeldMB, 0)}${b.held >= b.requested ? '' : ` (${b.held} held)`}`,
        '',
        `kubegate/bare ${ratio(h.rssHeldMB, b.rssHeldMB)}`,
        '',
      ]);
    rows.push([
      '',
      'held/s while filling | KB per held',
      '',
      `${fmt(h.heldPerSecond, 0)} | ${fmt(h.rssPerHeldKB, 1)}`,
      '',
      '',
      '',
    ]);
  }
  if (r.flood) {
    const a = r.flood.anonymous;
    const u = r.flood.authenticated;
    const codes = (/** @type {any} */ p) =>
      Object.entries(p.statuses)
        .map(([k, n]) => `${n}× ${k}`)
        .join(', ');
    const anonAudit = a.apiserverAudit ? a.apiserverAudit.anonymous : 'no audit log';
    rows.push([`${a.connections} anonymous 3 MiB writes`, 'answers', '', codes(a), '', '', '']);
    rows.push([
      '',
      'body KB sent before the answer or close: median | max',
      '',
      `${fmt(a.acceptedMedianKB, 0)} | ${fmt(a.acceptedMaxKB, 0)}`,
      '',
      '',
      '',
    ]);
    rows.push([
      '',
      'kubegate RSS growth MB',
      '',
      fmt(a.rssGrowthMB, 1),
      '',
      '',
      '',
      ...target(
        'anonymous flood: kubegate RSS growth < 50 MB',
        a.rssGrowthMB < 50,
        `${fmt(a.rssGrowthMB, 1)} MB`,
        '< 50 MB',
      ),
    ]);
    rows.push([
      '',
      'forwarded: ConfigMaps created | apiserver anonymous creates',
      '',
      `${a.created} | ${anonAudit}`,
      '',
      '',
      '',
      ...target(
        'anonymous flood: nothing forwarded',
        a.created === 0 && a.apiserverAudit?.anonymous === 0,
        `${a.created} created, ${anonAudit} anonymous creates in the apiserver audit log`,
        'none',
      ),
    ]);
    rows.push([
      '',
      `another user's GET ms: p99 | max (${a.reads} reads)`,
      '',
      `${fmt(a.readP99Ms, 0)} | ${fmt(a.readMaxMs, 0)}`,
      '',
      '',
      '',
      ...target(
        "anonymous flood: another user's read within 0.5 s",
        a.readsFailed === 0 && a.readMaxMs <= 500,
        `max ${fmt(a.readMaxMs, 0)} ms${a.readsFailed ? `, ${a.readsFailed} failed` : ''}`,
        '≤ 500 ms max',
      ),
    ]);
    const n429 = u.statuses['429'] ?? 0;
    const clear = /TooManyRequests/.test(u.messages['429'] ?? '');
    rows.push([
      `${u.connections} authenticated 3 MiB writes, one caller`,
      'answers',
      '',
      codes(u),
      '',
      '',
      '',
      ...target(
        'authenticated writes: 429 Status past the body cap',
        n429 > 0 && clear,
        `${n429}× 429${n429 && !clear ? ' without a TooManyRequests Status' : ''}`,
        '429 past the cap',
      ),
    ]);
    rows.push([
      '',
      'kubegate RSS growth MB (peak − RSS before the flood) | GET max ms',
      '',
      `${fmt(u.rssGrowthMB, 1)} (${fmt(u.rssPeakMB - a.rssBaseMB, 1)}) | ${fmt(u.readMaxMs, 0)}`,
      '',
      '',
      '',
    ]);
  }
  const missed = targets.filter((t) => !t.ok);
  const summary = `targets: ${targets.length - missed.length}/${targets.length} PASS${missed.length ? `; MISS: ${missed.map((t) => t.name).join('; ')}` : ''}`;
  return { text: `${table(rows)}\n\n${summary}`, targets };
}
