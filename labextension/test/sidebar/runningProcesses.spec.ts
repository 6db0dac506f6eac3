import { afterEach, describe, expect, it, vi } from 'vitest';

import { ProcessFleet } from '../../src/sidebar/processFleet';
import {
  firstData,
  RUNNING_ITEM_CLASS,
  RUNNING_MORE_CLASS,
  RunningProcesses
} from '../../src/sidebar/runningProcesses';
import { delta, FakeChannel, snapshot, state } from './fixtures';

const icon = { name: 'syft-pm:icon' } as any;
const disposables: { dispose(): void }[] = [];

function harness() {
  const server = new FakeChannel('server');
  const fleet = new ProcessFleet({
    serverChannel: server,
    api: vi.fn() as any,
    kernelChannel: () => new FakeChannel('kernel')
  });
  fleet.open();
  const open = vi.fn();
  const stopped: string[] = [];
  const stop = vi.fn(async (key: string) => {
    stopped.push(key);
  });
  const showAll = vi.fn();
  const section = new RunningProcesses({ fleet, open, stop, icon, showAll });
  const changes = vi.fn();
  section.runningChanged.connect(changes);
  disposables.push(section, fleet);
  return { server, fleet, section, open, stop, stopped, changes, showAll };
}

afterEach(() => {
  vi.useRealTimers();
  while (disposables.length) {
    disposables.pop()!.dispose();
  }
});

describe('RunningProcesses (the Running panel section)', () => {
  it('lists one item per process, active ones first, with name, status and icon', () => {
    const { server, section } = harness();
    expect(section.name).toBe('Processes');
    expect(section.running()).toEqual([]);
    server.deliver(
      snapshot([
        state('zeta', { status: 'running' }),
        state('alpha', { status: 'exited', exit_code: 0 }),
        state('mid', { status: 'queued' })
      ])
    );
    const items = section.running();
    expect(items.map(i => i.label())).toEqual(['mid', 'zeta', 'alpha']);
    expect(items.map(i => i.detail?.())).toEqual([
      'queued',
      'running',
      'exited'
    ]);
    expect(items.map(i => i.context)).toEqual(['mid', 'zeta', 'alpha']);
    expect(items[1].className).toBe(
      `${RUNNING_ITEM_CLASS} syft-pm-running-running syft-pm-tone-ok`
    );
    expect(items[1].icon()).toBe(icon);
    expect(items[1].labelTitle?.()).toBe('zeta\nrunning\npython zeta.py');
    expect(section.shutdownLabel(items[1])).toBe('Stop zeta');
  });

  it('lists at most LIMIT processes, the active ones and those that ended last, and one item for the others', async () => {
    const { server, section, showAll, stopped } = harness();
    const limit = RunningProcesses.LIMIT;
    const finished = Array.from({ length: 1000 }, (_, i) =>
      state(`done-${String(i).padStart(4, '0')}`, {
        status: 'exited',
        exit_code: 0,
        ended_at: 10_000 + i
      })
    );
    server.deliver(
      snapshot([
        ...finished,
        state('web', { status: 'running' }),
        state('api', { status: 'starting' })
      ])
    );
    const items = section.running();
    // The panel draws every item it is given, hidden or not: a few dozen.
    expect(items.length).toBe(limit + 1);
    const labels = items.map(i => String(i.label()));
    expect(labels.slice(0, 2)).toEqual(['api', 'web']);
    // The ones that ended last (by name among themselves).
    expect(labels.slice(2, limit)).toEqual(
      finished
        .slice(-(limit - 2))
        .map(s => s.name)
        .sort()
    );
    const more = items[limit];
    expect(more.className).toBe(RUNNING_MORE_CLASS);
    expect(more.label()).toBe('952 more in the Processes sidebar');
    expect(more.shutdown).toBeUndefined();
    more.open!();
    expect(showAll).toHaveBeenCalledTimes(1);
    // "Stop All" still stops every active process, listed or not.
    section.shutdownAll();
    await Promise.resolve();
    expect(stopped.sort()).toEqual(['api', 'web']);

    // Up to LIMIT, every process and no extra item.
    server.deliver(snapshot(finished.slice(0, limit), { seq: 2 }));
    expect(section.running().length).toBe(limit);
    expect(
      section.running().every(i => i.className!.startsWith(RUNNING_ITEM_CLASS))
    ).toBe(true);
  });

  it('offers a stop button on active processes (queued included) only', async () => {
    const { server, section, stop, stopped } = harness();
    server.deliver(
      snapshot([
        state('web'),
        state('job', { status: 'queued' }),
        state('old', { status: 'stopped' })
      ])
    );
    const byName = new Map(section.running().map(i => [i.label(), i]));
    expect(byName.get('old')!.shutdown).toBeUndefined();
    byName.get('job')!.shutdown!();
    byName.get('web')!.shutdown!();
    await vi.waitFor(() => expect(stopped).toEqual(['job', 'web']));
    expect(stop).toHaveBeenCalledTimes(2);
  });

  it('opens the detail view on click', () => {
    const { server, section, open } = harness();
    server.deliver(snapshot([state('web')]));
    section.running()[0].open!();
    expect(open).toHaveBeenCalledWith('web');
  });

  it('"Stop All" stops every active process and says how many', async () => {
    const { server, section, stopped } = harness();
    server.deliver(
      snapshot([
        state('a'),
        state('b', { status: 'unhealthy' }),
        state('c', { status: 'failed' })
      ])
    );
    expect(section.shutdownAllLabel).toBe('Stop All');
    expect(section.shutdownAllConfirmationText()).toBe(
      'Stop 2 active processes (and their process trees)?'
    );
    section.shutdownAll();
    await vi.waitFor(() => expect(stopped.sort()).toEqual(['a', 'b']));
  });

  it('keeps going when one stop fails', async () => {
    const { server, section, stop } = harness();
    server.deliver(snapshot([state('a'), state('b')]));
    stop.mockImplementationOnce(async () => {
      throw new Error('409');
    });
    section.shutdownAll();
    section.running()[0].shutdown!();
    await vi.waitFor(() => expect(stop).toHaveBeenCalledTimes(3));
  });

  it('tells the panel when the list or a status changed, not on metrics', () => {
    const { server, section, changes } = harness();
    server.deliver(snapshot([state('web')]));
    expect(changes).toHaveBeenCalledTimes(1);
    // A metrics update changes the state object, not what an item shows.
    server.deliver(
      delta(2, {
        changed: {
          web: {
            metrics: {
              cpu_percent: 50,
              rss_bytes: 1,
              threads: 1,
              children: 0,
              ports: []
            }
          }
        }
      })
    );
    expect(changes).toHaveBeenCalledTimes(1);
    server.deliver(delta(3, { changed: { web: { status: 'stopping' } } }));
    expect(changes).toHaveBeenCalledTimes(2);
    expect(section.running()[0].detail?.()).toBe('stopping');
    server.deliver(delta(4, { added: { api: state('api') } }));
    expect(changes).toHaveBeenCalledTimes(3);
    server.deliver(delta(5, { removed: ['web'] }));
    expect(changes).toHaveBeenCalledTimes(4);
    expect(section.running().map(i => i.label())).toEqual(['api']);
    // A new snapshot that drops a process (a reconnect) is a change too.
    server.deliver(snapshot([], { seq: 6 }));
    expect(changes).toHaveBeenCalledTimes(5);
    expect(section.running()).toEqual([]);
  });

  it('signals a burst of changes once more a second later (a panel view that mounted late)', () => {
    vi.useFakeTimers();
    const { server, changes } = harness();
    server.deliver(snapshot([state('web')]));
    server.deliver(delta(2, { changed: { web: { status: 'stopping' } } }));
    expect(changes).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(RunningProcesses.REPEAT_MS - 1);
    expect(changes).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1);
    expect(changes).toHaveBeenCalledTimes(3);
    vi.advanceTimersByTime(10 * RunningProcesses.REPEAT_MS);
    expect(changes).toHaveBeenCalledTimes(3);
  });

  it('is added once the fleet has data, or after a timeout', async () => {
    const { server, fleet } = harness();
    let ready = false;
    const first = firstData(fleet).then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    server.deliver(snapshot([]));
    await first;
    expect(ready).toBe(true);

    vi.useFakeTimers();
    let late = false;
    const timedOut = firstData(fleet, 5000).then(() => (late = true));
    vi.advanceTimersByTime(5000);
    await timedOut;
    expect(late).toBe(true);
  });

  it('uses the fleet it is given: no connection of its own', () => {
    const { server, section } = harness();
    expect(server.opens).toBe(1);
    section.refreshRunning();
    expect(server.opens).toBe(1);
  });

  it('stops listening when disposed', () => {
    const { server, section, changes } = harness();
    section.dispose();
    expect(section.isDisposed).toBe(true);
    server.deliver(snapshot([state('web')]));
    expect(changes).not.toHaveBeenCalled();
  });
});
