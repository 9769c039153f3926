import { describe, expect, it } from 'vitest';
import { Deadlines, type Timed } from '../../../src/approval/deadlines.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function timed(name: string, inMs: number): Timed & { name: string } {
  return { name, due: performance.now() + inMs, at: -1 };
}

describe('Deadlines: one timer for every held request', () => {
  it('ends each at its deadline, earliest first, whatever order they came in', async () => {
    const ended: string[] = [];
    const d = new Deadlines<Timed & { name: string }>((t) => ended.push(t.name));
    d.add(timed('c', 60));
    d.add(timed('a', 10));
    d.add(timed('b', 35));
    await tick(25);
    expect(ended).toEqual(['a']);
    await tick(60);
    expect(ended).toEqual(['a', 'b', 'c']);
    expect(d.size).toBe(0);
  });

  it('never ends one taken out, and keeps the others in order', async () => {
    const ended: string[] = [];
    const d = new Deadlines<Timed & { name: string }>((t) => ended.push(t.name));
    const all = Array.from({ length: 200 }, (_, i) => timed(`t${i}`, 5 + ((i * 37) % 50)));
    for (const t of all) d.add(t);
    for (const t of all.filter((_, i) => i % 3 === 0)) d.remove(t);
    d.remove(all[0] as Timed & { name: string }); // twice: nothing
    await tick(120);
    const kept = all.filter((_, i) => i % 3 !== 0);
    expect(ended.sort()).toEqual(kept.map((t) => t.name).sort());
    expect(all.every((t) => t.at === -1)).toBe(true);
  });

  it('one added earlier than the armed timer is ended at its own time', async () => {
    const ended: string[] = [];
    const d = new Deadlines<Timed & { name: string }>((t) => ended.push(t.name));
    const late = timed('late', 10_000);
    d.add(late);
    const t0 = performance.now();
    d.add(timed('soon', 20));
    await tick(60);
    expect(ended).toEqual(['soon']);
    expect(performance.now() - t0).toBeLessThan(5000);
    d.remove(late);
    expect(d.size).toBe(0);
    // nothing left: no timer keeps the process alive
    expect((d as unknown as { timer: unknown }).timer).toBeUndefined();
  });
});
