// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Action, LogLine } from '../../src/live/protocol';
import { ProcessView } from '../../src/process/processView';
import { ProcessStore } from '../../src/live/processStore';
import { delta, snapshot, state } from '../fixtures';

/** Browser clock = Python clock + 1000 s (see `now`). */
const OFFSET_S = 1000;

function setup(
  options: {
    logLines?: number;
    actions?: (action: Action, name: string) => Promise<unknown>;
  } = {}
): { store: ProcessStore; view: ProcessView; clock: { ms: number } } {
  const store = new ProcessStore({ logLines: options.logLines ?? 500 });
  const clock = { ms: (1_010 + OFFSET_S) * 1000 };
  const view = new ProcessView({
    store,
    name: 'web',
    actions: options.actions ?? null,
    now: () => clock.ms
  });
  document.body.appendChild(view.node);
  return { store, view, clock };
}

function apply(
  store: ProcessStore,
  msg: Parameters<ProcessStore['apply']>[0],
  clock: { ms: number }
): void {
  store.apply(msg, clock.ms);
}

function text(view: ProcessView, selector: string): string | null {
  return view.node.querySelector(selector)?.textContent ?? null;
}

function logRows(view: ProcessView, stream = 'stdout'): string[] {
  return Array.from(
    view.node.querySelectorAll(
      `.syft-pm-log[data-stream="${stream}"] .syft-pm-log-lines > *`
    )
  ).map(n => n.textContent ?? '');
}

function lines(from: number, count: number): LogLine[] {
  return Array.from(
    { length: count },
    (_, i) => [1_010, `tick ${from + i}`] as LogLine
  );
}

afterEach(() => {
  document.body.textContent = '';
});

describe('ProcessView', () => {
  it('shows an unknown, not-live process before any state arrives', () => {
    const { view } = setup();
    expect(view.node.classList.contains('syft-pm-process')).toBe(true);
    expect(view.node.dataset.processName).toBe('web');
    expect(view.node.dataset.status).toBe('unknown');
    expect(view.node.dataset.live).toBe('false');
    expect(text(view, '.syft-pm-not-live')).toMatch(/No state received yet/);
    const stop = view.node.querySelector<HTMLButtonElement>(
      '[data-action="stop"]'
    )!;
    expect(stop.disabled).toBe(true);
    view.dispose();
  });

  it('renders the state of a snapshot', () => {
    const { store, view, clock } = setup({ actions: async () => null });
    apply(
      store,
      snapshot({
        processes: {
          web: state('web', {
            pid: 31337,
            started_at: 1_000,
            restarts: 2,
            restart_policy: 'on-failure',
            health: {
              status: 'healthy',
              message: 'HTTP 200',
              checked_at: 1_007,
              source: 'probe:http',
              consecutive_failures: 0
            },
            metrics: {
              cpu_percent: 12.345,
              rss_bytes: 50 * 1024 * 1024,
              threads: 3,
              children: 0,
              ports: [8000, 8001]
            }
          })
        }
      }),
      clock
    );
    const node = view.node;
    expect(node.dataset.status).toBe('running');
    expect(node.dataset.live).toBe('true');
    const badge = node.querySelector('.syft-pm-status')!;
    expect(badge.textContent).toBe('running');
    expect(badge.classList.contains('syft-pm-tone-ok')).toBe(true);
    const fact = (key: string): string | null =>
      text(view, `[data-fact="${key}"] .syft-pm-fact-value`);
    expect(fact('pid')).toBe('31337');
    expect(fact('uptime')).toBe('10s');
    expect(fact('restarts')).toBe('2');
    expect(fact('health')).toBe('healthy \u00b7 3s ago');
    expect(fact('cpu')).toBe('12.3%');
    expect(fact('memory')).toBe('50 MiB');
    expect(fact('ports')).toBe('8000, 8001');
    expect(fact('exit')).toBeNull();
    expect(text(view, '.syft-pm-command')).toBe('python -u ticker.py');
    expect(node.querySelector<HTMLElement>('.syft-pm-not-live')!.hidden).toBe(
      true
    );
    expect(logRows(view)).toEqual(['hello']);
    // No stderr yet: its pane is hidden.
    expect(
      node.querySelector<HTMLElement>('.syft-pm-log[data-stream="stderr"]')!
        .hidden
    ).toBe(true);
    const stop = node.querySelector<HTMLButtonElement>('[data-action="stop"]')!;
    expect(stop.disabled).toBe(false);
    view.dispose();
  });

  it('shows waiting until ready, then the ready time, binding, limit and restart reason', () => {
    const { store, view, clock } = setup();
    apply(
      store,
      snapshot({
        processes: {
          web: state('web', {
            status: 'starting',
            reason: 'waiting until ready',
            bind: {
              to: 'kernel',
              kernel_id: '1a2b3c4d-5e6f',
              pid: 4242,
              lost_at: null,
              grace: 30
            },
            max_memory: 2 * 1024 ** 3
          })
        }
      }),
      clock
    );
    const fact = (key: string): string | null =>
      text(view, `[data-fact="${key}"] .syft-pm-fact-value`);
    expect(view.node.dataset.status).toBe('starting');
    expect(text(view, '.syft-pm-reason')).toBe('waiting until ready');
    expect(fact('ready')).toBeNull();
    expect(fact('bind')).toBe('kernel 1a2b3c4d');
    const readyAt = 1_700_000_000;
    apply(
      store,
      delta(2, {
        changed: {
          web: {
            status: 'running',
            reason: null,
            ready_at: readyAt,
            restarts: 1,
            restart_reason: 'memory limit 2 GiB exceeded: 2.3 GiB',
            metrics: {
              cpu_percent: 1,
              rss_bytes: 1024,
              threads: 1,
              children: 0,
              ports: []
            }
          }
        }
      }),
      clock
    );
    const d = new Date(readyAt * 1000);
    const two = (n: number): string => String(n).padStart(2, '0');
    expect(fact('ready')).toBe(
      `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
    );
    expect(fact('restart-reason')).toBe('memory limit 2 GiB exceeded: 2.3 GiB');
    expect(fact('max-memory')).toBe('2.0 GiB');
    apply(
      store,
      delta(3, {
        changed: {
          web: {
            bind: {
              to: 'kernel',
              kernel_id: '1a2b3c4d-5e6f',
              pid: null,
              lost_at: 1_700_000_100,
              grace: 30
            }
          }
        }
      }),
      clock
    );
    expect(fact('bind')).toBe('kernel 1a2b3c4d (gone)');
    view.dispose();
  });

  it('keeps data-status current and shows how a process ended', () => {
    const { store, view, clock } = setup({ actions: async () => null });
    apply(store, snapshot(), clock);
    apply(store, delta(2, { changed: { web: { status: 'stopping' } } }), clock);
    expect(view.node.dataset.status).toBe('stopping');
    apply(
      store,
      delta(3, {
        changed: {
          web: {
            status: 'failed',
            exit_code: 3,
            metrics: null,
            reason: 'exited with code 3'
          }
        }
      }),
      clock
    );
    expect(view.node.dataset.status).toBe('failed');
    const badge = view.node.querySelector('.syft-pm-status')!;
    expect(badge.classList.contains('syft-pm-tone-error')).toBe(true);
    expect(text(view, '[data-fact="exit"] .syft-pm-fact-value')).toBe('3');
    expect(view.node.querySelector('[data-fact="uptime"]')).toBeNull();
    expect(text(view, '.syft-pm-reason')).toBe('exited with code 3');
    // The second button now starts it again.
    const start = view.node.querySelector<HTMLButtonElement>(
      '[data-action="start"]'
    )!;
    expect(start.textContent).toBe('Start');
    expect(start.disabled).toBe(false);
    expect(
      view.node.querySelector<HTMLButtonElement>('[data-action="stop"]')!
        .disabled
    ).toBe(true);

    apply(
      store,
      delta(4, { changed: { web: { status: 'exited', signal: 'SIGKILL' } } }),
      clock
    );
    expect(text(view, '[data-fact="exit"] .syft-pm-fact-value')).toBe(
      'SIGKILL'
    );

    apply(store, delta(5, { removed: ['web'] }), clock);
    expect(view.node.dataset.status).toBe('removed');
    expect(text(view, '.syft-pm-reason')).toMatch(/No process named/);
    view.dispose();
  });

  it('appends new log lines without rebuilding the ones shown', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    const pane = view.logPane('stdout');
    const first = pane.firstElementChild;
    apply(
      store,
      delta(2, {
        logs: { web: { stdout: { lines: lines(0, 2), skipped: 0 } } }
      }),
      clock
    );
    expect(logRows(view)).toEqual(['hello', 'tick 0', 'tick 1']);
    expect(pane.firstElementChild).toBe(first);
    const second = pane.children[1];
    apply(
      store,
      delta(3, {
        logs: {
          web: {
            stdout: { lines: lines(2, 1), skipped: 0 },
            stderr: { lines: [[1_010, 'oops']], skipped: 0 }
          }
        }
      }),
      clock
    );
    expect(logRows(view)).toEqual(['hello', 'tick 0', 'tick 1', 'tick 2']);
    expect(pane.children[1]).toBe(second);
    expect(logRows(view, 'stderr')).toEqual(['oops']);
    expect(
      view.node.querySelector<HTMLElement>(
        '.syft-pm-log[data-stream="stderr"]'
      )!.hidden
    ).toBe(false);
    // A delta about other things leaves the logs alone.
    apply(store, delta(4, { changed: { web: { pid: 1 } } }), clock);
    expect(pane.firstElementChild).toBe(first);
    view.dispose();
  });

  it('shows a carriage-return progress bar as one updating line', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    const pane = view.logPane('stdout');
    const bar = Array.from({ length: 1000 }, (_, i) => `\rprogress ${i}`);
    apply(
      store,
      delta(2, {
        logs: {
          web: { stdout: { lines: [[1_010, bar.join('')]], skipped: 0 } }
        }
      }),
      clock
    );
    expect(logRows(view)).toEqual(['hello', 'progress 999']);
    const row = pane.lastElementChild;
    // The writer cut the line: the next piece continues it, drawn over it in
    // place (the same node, nothing else touched).
    apply(
      store,
      delta(3, {
        logs: {
          web: {
            stdout: {
              lines: [[1_011, '\rprogress 1000\rprogress 1001', 1]],
              skipped: 0
            }
          }
        }
      }),
      clock
    );
    expect(logRows(view)).toEqual(['hello', 'progress 1001']);
    expect(pane.lastElementChild).toBe(row);
    // A continuation and a new line in one delta: both land.
    apply(
      store,
      delta(4, {
        logs: {
          web: {
            stdout: {
              lines: [
                [1_012, '\rprogress 1002', 1],
                [1_012, 'done']
              ],
              skipped: 0
            }
          }
        }
      }),
      clock
    );
    expect(logRows(view)).toEqual(['hello', 'progress 1002', 'done']);
    expect(pane.children[1]).toBe(row);
    view.dispose();
  });

  it('marks skipped lines and keeps the DOM bounded like the ring', () => {
    const { store, view, clock } = setup({ logLines: 5 });
    apply(store, snapshot(), clock);
    apply(
      store,
      delta(2, {
        logs: { web: { stdout: { lines: lines(1000, 3), skipped: 997 } } }
      }),
      clock
    );
    expect(logRows(view)).toEqual([
      'hello',
      '\u2026 997 lines skipped',
      'tick 1000',
      'tick 1001',
      'tick 1002'
    ]);
    // More new lines than the ring keeps: only the last ones, and a marker.
    apply(
      store,
      delta(3, {
        logs: { web: { stdout: { lines: lines(2000, 8), skipped: 0 } } }
      }),
      clock
    );
    const rows = logRows(view);
    expect(rows.length).toBeLessThanOrEqual(5);
    expect(rows[rows.length - 1]).toBe('tick 2007');
    expect(text(view, '.syft-pm-log-count')).toMatch(
      /1009 lines, last 5 shown/
    );
    view.dispose();
  });

  it('rebuilds the logs from a new snapshot (resync, reconnect)', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    apply(
      store,
      delta(2, {
        logs: { web: { stdout: { lines: lines(0, 3), skipped: 0 } } }
      }),
      clock
    );
    apply(
      store,
      snapshot({
        seq: 1,
        logs: { web: { stdout: { lines: lines(1, 4), skipped: 0 } } }
      }),
      clock
    );
    expect(logRows(view)).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4']);
    view.dispose();
  });

  it('follows new lines only while the user is at the bottom', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    const pane = view.logPane('stdout');
    // 20 px per row, a 100 px window.
    Object.defineProperty(pane, 'scrollHeight', {
      get: () => pane.childElementCount * 20
    });
    Object.defineProperty(pane, 'clientHeight', { get: () => 100 });
    const more = (seq: number, from: number): void =>
      apply(
        store,
        delta(seq, {
          logs: { web: { stdout: { lines: lines(from, 10), skipped: 0 } } }
        }),
        clock
      );
    more(2, 0); // 11 rows
    pane.scrollTop = 220 - 100; // at the bottom
    pane.dispatchEvent(new Event('scroll'));
    more(3, 10); // 21 rows: follows
    expect(pane.scrollTop).toBe(420);
    // A layout change (theme, resize) that moves the pane is not the user.
    pane.scrollTop = 400;
    pane.dispatchEvent(new Event('scroll'));
    more(4, 20); // 31 rows: still follows
    expect(pane.scrollTop).toBe(620);
    pane.dispatchEvent(new Event('wheel'));
    pane.scrollTop = 100; // the user scrolled up to read
    pane.dispatchEvent(new Event('scroll'));
    more(5, 30);
    expect(pane.scrollTop).toBe(100);
    // Back at the bottom: following again.
    pane.scrollTop = 820 - 100;
    pane.dispatchEvent(new Event('scroll'));
    more(6, 40);
    expect(pane.scrollTop).toBe(1020);
    view.dispose();
  });

  it('says clearly when the state is not live, and why', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    view.setConnection({ via: 'kernel', reason: null });
    expect(view.node.dataset.live).toBe('true');
    expect(text(view, '.syft-pm-live')).toBe('live');
    view.setConnection({
      via: null,
      reason: 'the kernel restarted, and the server extension is not available'
    });
    store.setLive(false);
    expect(view.node.dataset.live).toBe('false');
    expect(text(view, '.syft-pm-live')).toBe('not live');
    const note = view.node.querySelector<HTMLElement>('.syft-pm-not-live')!;
    expect(note.hidden).toBe(false);
    expect(note.textContent).toMatch(
      /^Not live: the kernel restarted, and the server extension is not available\. Showing the last known state, from 0s ago\.$/
    );
    // The last known state stays.
    expect(view.node.dataset.status).toBe('running');
    expect(logRows(view)).toEqual(['hello']);
    view.dispose();
  });
});

describe('ProcessView clock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks the uptime locally while ticking, and stops on dispose', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    const uptime = (): string | null =>
      text(view, '[data-fact="uptime"] .syft-pm-fact-value');
    expect(uptime()).toBe('10s');
    view.setTicking(true);
    expect(vi.getTimerCount()).toBe(1);
    clock.ms += 65_000;
    vi.advanceTimersByTime(1000);
    expect(uptime()).toBe('1m 15s');
    view.setTicking(false);
    clock.ms += 10_000;
    vi.advanceTimersByTime(5000);
    expect(uptime()).toBe('1m 15s');
    view.setTicking(true);
    view.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(view.ticking).toBe(false);
  });
});

describe('ProcessView tick', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('follows a new tick period, with one timer, while ticking or not', () => {
    const { store, view, clock } = setup();
    apply(store, snapshot(), clock);
    const uptime = (): string | null =>
      text(view, '[data-fact="uptime"] .syft-pm-fact-value');
    expect(view.tickMs).toBe(1000);
    view.setTicking(true);
    view.setTickMs(5000);
    expect(view.tickMs).toBe(5000);
    expect(vi.getTimerCount()).toBe(1);
    clock.ms += 4000;
    vi.advanceTimersByTime(4000);
    expect(uptime()).toBe('10s');
    clock.ms += 1000;
    vi.advanceTimersByTime(1000);
    expect(uptime()).toBe('15s');
    // Set while not ticking: used when ticking starts again.
    view.setTicking(false);
    view.setTickMs(250);
    expect(vi.getTimerCount()).toBe(0);
    view.setTicking(true);
    clock.ms += 250;
    vi.advanceTimersByTime(250);
    expect(uptime()).toBe('15s');
    clock.ms += 1000;
    vi.advanceTimersByTime(250);
    expect(uptime()).toBe('16s');
    view.dispose();
    view.setTickMs(100);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ProcessView actions', () => {
  it('runs an action with the button disabled meanwhile', async () => {
    let finish: () => void = () => undefined;
    const calls: [Action, string][] = [];
    const { store, view, clock } = setup({
      actions: (action, name) => {
        calls.push([action, name]);
        return new Promise<void>(resolve => {
          finish = resolve;
        });
      }
    });
    apply(store, snapshot(), clock);
    const stop = view.node.querySelector<HTMLButtonElement>(
      '[data-action="stop"]'
    )!;
    const restart = view.node.querySelector<HTMLButtonElement>(
      '[data-action="restart"]'
    )!;
    stop.click();
    expect(calls).toEqual([['stop', 'web']]);
    expect(stop.disabled).toBe(true);
    expect(restart.disabled).toBe(true);
    expect(stop.getAttribute('aria-busy')).toBe('true');
    stop.click();
    expect(calls).toHaveLength(1);
    finish();
    await vi.waitFor(() => expect(stop.disabled).toBe(false));
    expect(view.error).toBeNull();
    view.dispose();
  });

  it('lets a queued (or stopping) process be stopped, not a stopped one', () => {
    const { store, view, clock } = setup({ actions: async () => undefined });
    const stop = () =>
      view.node.querySelector<HTMLButtonElement>('[data-action="stop"]')!;
    apply(
      store,
      snapshot({ processes: { web: state('web', { status: 'queued' }) } }),
      clock
    );
    expect(stop().disabled).toBe(false);
    apply(store, delta(2, { changed: { web: { status: 'stopping' } } }), clock);
    expect(stop().disabled).toBe(false);
    apply(store, delta(3, { changed: { web: { status: 'stopped' } } }), clock);
    expect(stop().disabled).toBe(true);
    view.dispose();
  });

  it('shows a failed action inside the output', async () => {
    const { store, view, clock } = setup({
      actions: async () => {
        throw new Error('409 process is stopping');
      }
    });
    apply(store, snapshot(), clock);
    view.node
      .querySelector<HTMLButtonElement>('[data-action="restart"]')!
      .click();
    await vi.waitFor(() => expect(view.error).not.toBeNull());
    const error = view.node.querySelector<HTMLElement>('.syft-pm-error')!;
    expect(error.hidden).toBe(false);
    expect(error.textContent).toMatch(
      /Could not restart \u201cweb\u201d: 409 process is stopping/
    );
    error.querySelector<HTMLButtonElement>('.syft-pm-error-dismiss')!.click();
    expect(view.error).toBeNull();
    view.dispose();
  });

  it('never writes to the store', () => {
    const { store, view, clock } = setup({ actions: async () => null });
    apply(store, snapshot(), clock);
    const seq = store.seq;
    const before = JSON.stringify(store.all());
    view.render();
    view.setTicking(true);
    view.setTicking(false);
    view.node.querySelector<HTMLButtonElement>('[data-action="stop"]')!.click();
    expect(store.seq).toBe(seq);
    expect(JSON.stringify(store.all())).toBe(before);
    view.dispose();
  });
});
