import { describe, expect, it } from 'vitest';

import { LogLine } from '../../src/live/protocol';
import { LogRing } from '../../src/live/logRing';
import { IStoreChange, ProcessStore } from '../../src/live/processStore';
import { delta, snapshot, state } from '../fixtures';

function lines(from: number, count: number): LogLine[] {
  return Array.from(
    { length: count },
    (_, i) => [null, `line ${from + i}`] as LogLine
  );
}

describe('LogRing', () => {
  it('keeps at most its capacity, oldest dropped first', () => {
    const ring = new LogRing(3);
    ring.append(lines(0, 2));
    expect(ring.lines.map(l => l[1])).toEqual(['line 0', 'line 1']);
    ring.append(lines(2, 3));
    expect(ring.lines.map(l => l[1])).toEqual(['line 2', 'line 3', 'line 4']);
    expect(ring.total).toBe(5);
    expect(ring.dropped).toBe(2);
    expect(ring.skipped).toBe(0);
  });

  it('counts lines the Python side skipped apart from evicted ones', () => {
    const ring = new LogRing(10);
    ring.append(lines(0, 2), 1000);
    expect(ring.total).toBe(1002);
    expect(ring.skipped).toBe(1000);
    expect(ring.dropped).toBe(1000);
    expect(ring.lines).toHaveLength(2);
    ring.clear();
    expect([ring.total, ring.skipped, ring.dropped, ring.lines.length]).toEqual(
      [0, 0, 0, 0]
    );
  });

  it('resizes: a smaller ring drops its oldest lines now, a larger one keeps more', () => {
    const ring = new LogRing(5);
    ring.append(lines(0, 5));
    ring.resize(3);
    expect(ring.capacity).toBe(3);
    expect(ring.lines.map(l => l[1])).toEqual(['line 2', 'line 3', 'line 4']);
    expect([ring.total, ring.dropped]).toEqual([5, 2]);
    ring.resize(6);
    ring.append(lines(5, 4));
    expect(ring.lines).toHaveLength(6);
    expect(ring.lines[0][1]).toBe('line 3');
  });

  it('stays bounded under a flood of appends', () => {
    const ring = new LogRing(100);
    for (let i = 0; i < 1000; i++) {
      ring.append(lines(i * 50, 50));
    }
    expect(ring.lines).toHaveLength(100);
    expect(ring.total).toBe(50_000);
    expect(ring.lines[99][1]).toBe('line 49999');
  });
});

describe('ProcessStore', () => {
  it('applies a snapshot: processes, logs, registry, seq, live', () => {
    const store = new ProcessStore();
    const changes: IStoreChange[] = [];
    const lives: boolean[] = [];
    store.changed.connect((_, c) => changes.push(c));
    store.liveChanged.connect((_, l) => lives.push(l));
    expect(store.apply(snapshot(), 1_010_000)).toBe('ok');
    expect(store.live).toBe(true);
    expect(lives).toEqual([true]);
    expect(store.registryId).toBe('reg-1');
    expect(store.seq).toBe(1);
    expect(store.names()).toEqual(['web']);
    expect(store.get('web')?.status).toBe('running');
    expect(store.logs('web', 'stdout').lines).toEqual([[1_005, 'hello']]);
    expect(changes).toHaveLength(1);
    expect(changes[0].reset).toBe(true);
    expect([...changes[0].changed]).toEqual(['web']);
  });

  it('applies deltas: changed fields merge, added, removed, logs appended', () => {
    const store = new ProcessStore();
    store.apply(snapshot());
    const changes: IStoreChange[] = [];
    store.changed.connect((_, c) => changes.push(c));
    expect(
      store.apply(
        delta(2, {
          changed: { web: { status: 'stopping' } },
          added: { db: state('db', { pid: 7 }) },
          logs: { web: { stdout: { lines: [[1_011, 'bye']], skipped: 0 } } }
        })
      )
    ).toBe('ok');
    expect(store.get('web')?.status).toBe('stopping');
    expect(store.get('web')?.pid).toBe(4242);
    expect(store.get('db')?.pid).toBe(7);
    expect(store.logs('web', 'stdout').lines.map(l => l[1])).toEqual([
      'hello',
      'bye'
    ]);
    expect(changes[0].reset).toBe(false);
    expect([...changes[0].changed].sort()).toEqual(['db', 'web']);
    expect([...changes[0].logs]).toEqual(['web']);

    store.apply(delta(3, { removed: ['web'] }));
    expect(store.get('web')).toBeUndefined();
    expect(store.logs('web', 'stdout').total).toBe(0);
    expect(store.seq).toBe(3);
  });

  it('a gap in seq asks for a resync and ignores deltas until a snapshot', () => {
    const store = new ProcessStore();
    store.apply(snapshot({ seq: 5 }));
    expect(store.apply(delta(7, { changed: { web: { pid: 1 } } }))).toBe(
      'resync'
    );
    expect(store.live).toBe(false);
    expect(store.get('web')?.pid).toBe(4242);
    // The data stays visible, but nothing more is applied before the snapshot.
    expect(store.apply(delta(8, { changed: { web: { pid: 2 } } }))).toBe(
      'ignored'
    );
    expect(store.get('web')?.pid).toBe(4242);
    expect(
      store.apply(
        snapshot({ seq: 1, processes: { web: state('web', { pid: 3 }) } })
      )
    ).toBe('ok');
    expect(store.live).toBe(true);
    expect(store.get('web')?.pid).toBe(3);
    expect(store.apply(delta(2))).toBe('ok');
  });

  it('deltas before any snapshot are ignored', () => {
    const store = new ProcessStore();
    expect(store.apply(delta(1, { added: { x: state('x') } }))).toBe('ignored');
    expect(store.size).toBe(0);
  });

  it('a heartbeat whose seq is not the last applied one asks for a resync', () => {
    const store = new ProcessStore();
    store.apply(snapshot({ seq: 4 }));
    expect(store.apply({ type: 'heartbeat', seq: 4, time: 1_020 })).toBe('ok');
    expect(store.live).toBe(true);
    expect(store.apply({ type: 'heartbeat', seq: 5, time: 1_021 })).toBe(
      'resync'
    );
    expect(store.live).toBe(false);
  });

  it('a snapshot replaces logs and counts what was skipped', () => {
    const store = new ProcessStore({ logLines: 3 });
    store.apply(
      snapshot({
        logs: {
          web: { stdout: { lines: lines(0, 5), skipped: 0 } }
        }
      })
    );
    const ring = store.logs('web', 'stdout');
    expect(ring.lines.map(l => l[1])).toEqual(['line 2', 'line 3', 'line 4']);
    store.apply(
      delta(2, {
        logs: { web: { stdout: { lines: lines(5, 2), skipped: 500 } } }
      })
    );
    expect(ring.total).toBe(507);
    expect(ring.skipped).toBe(500);
    expect(ring.lines.map(l => l[1])).toEqual(['line 4', 'line 5', 'line 6']);
    store.apply(snapshot({ seq: 1 }));
    expect(store.logs('web', 'stdout')).not.toBe(ring);
    expect(store.logs('web', 'stdout').total).toBe(1);
  });

  it('an unknown protocol version is refused, not guessed at', () => {
    const store = new ProcessStore();
    expect(store.apply(snapshot({ protocol: 2 }))).toBe('unsupported');
    expect(store.live).toBe(false);
    expect(store.size).toBe(0);
  });

  it('computes uptime on the browser clock using the message time offset', () => {
    const store = new ProcessStore();
    // Python says it is t=1010 while the browser says t=2010: offset +1000 s.
    store.apply(
      snapshot({
        time: 1_010,
        processes: { web: state('web', { started_at: 1_000 }) }
      }),
      2_010_000
    );
    expect(store.clockOffset).toBe(1000);
    expect(store.uptime('web', 2_010_000)).toBe(10);
    expect(store.uptime('web', 2_015_500)).toBeCloseTo(15.5);
    // A later message refreshes the offset (clock drift).
    store.apply({ type: 'heartbeat', seq: 1, time: 1_020 }, 2_021_000);
    expect(store.clockOffset).toBe(1001);
    expect(store.uptime('web', 2_021_000)).toBe(20);
    // Never negative; null when not up or unknown.
    expect(store.uptime('web', 0)).toBe(0);
    store.apply(
      delta(2, { changed: { web: { status: 'stopped' } } }),
      2_022_000
    );
    expect(store.uptime('web')).toBeNull();
    expect(store.uptime('nope')).toBeNull();
  });
});

describe('ProcessStore.setLogLines', () => {
  it('resizes the rings it has and sizes the ones it makes', () => {
    const store = new ProcessStore({ logLines: 4 });
    store.apply(
      snapshot({
        logs: {
          web: {
            stdout: { lines: lines(0, 4), skipped: 0 },
            stderr: { lines: [], skipped: 0 }
          }
        }
      }),
      1_010_000
    );
    expect(store.logs('web', 'stdout').lines).toHaveLength(4);
    store.setLogLines(2);
    expect(store.logLines).toBe(2);
    expect(store.logs('web', 'stdout').lines.map(l => l[1])).toEqual([
      'line 2',
      'line 3'
    ]);
    expect(store.logs('web', 'stderr').capacity).toBe(2);
    expect(store.logs('other', 'stdout').capacity).toBe(2);
    store.setLogLines(0);
    expect(store.logLines).toBe(1);
  });
});

describe('LogRing, lines as a terminal shows them', () => {
  it('keeps a carriage-return bar as one line, its last state', () => {
    const ring = new LogRing(10);
    ring.append([[1, '\rprogress 1\rprogress 2\rprogress 3']]);
    expect(ring.lines).toEqual([[1, 'progress 3']]);
    expect(ring.total).toBe(1);
  });

  it('draws a continuation over the last line: no new line, one rewrite', () => {
    const ring = new LogRing(10);
    ring.append([
      [1, 'starting'],
      [2, '\rprogress 1']
    ]);
    ring.append([[3, '\rprogress 2\rprogress 3', 1]]);
    expect(ring.lines).toEqual([
      [1, 'starting'],
      [3, 'progress 3']
    ]);
    expect([ring.total, ring.rewrites]).toEqual([2, 1]);
  });

  it('does not join a continuation to a line from before skipped lines', () => {
    const ring = new LogRing(10);
    ring.append([[1, 'old']]);
    ring.append([[2, '\rprogress 9', 1]], 5);
    expect(ring.lines.map(l => l[1])).toEqual(['old', 'progress 9']);
    expect([ring.total, ring.rewrites]).toEqual([7, 0]);
  });

  it('caps a huge line', () => {
    const ring = new LogRing(10);
    ring.append([[1, 'y'.repeat(1_000_000)]]);
    expect(ring.lines[0][1].length).toBeLessThan(10_000);
  });
});
