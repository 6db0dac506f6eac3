import { describe, expect, it } from 'vitest';

import {
  INotice,
  INotifier,
  noticeFor,
  ProcessNotifier
} from '../../src/sidebar/notifications';
import { state } from './fixtures';

describe('noticeFor', () => {
  it('says nothing about ordinary changes', () => {
    expect(noticeFor(state('a'), state('a', { pid: 3 }))).toBeNull();
    expect(
      noticeFor(
        state('a'),
        state('a', { status: 'stopped', stop_reason: 'requested' })
      )
    ).toBeNull();
    expect(
      noticeFor(state('a'), state('a', { status: 'exited', exit_code: 0 }))
    ).toBeNull();
    expect(noticeFor(undefined, state('a'))).toBeNull();
  });

  it('reports an exit with an error code or a signal', () => {
    const n = noticeFor(
      state('a'),
      state('a', { status: 'failed', exit_code: 3, reason: 'exit code 3' })
    )!;
    expect(n.kind).toBe('failed');
    expect(n.type).toBe('error');
    expect(n.message).toBe('a exited with code 3');
    const k = noticeFor(
      state('a'),
      state('a', {
        status: 'failed',
        signal: 'SIGKILL',
        reason: 'killed by SIGKILL'
      })
    )!;
    expect(k.message).toBe('a was killed by SIGKILL');
  });

  it('reports a failure to start with its reason', () => {
    const n = noticeFor(
      state('a', { status: 'starting' }),
      state('a', {
        status: 'failed',
        reason: "cannot start 'nope': No such file"
      })
    )!;
    expect(n.message).toBe("a failed: cannot start 'nope': No such file");
  });

  it('reports giving up restarting', () => {
    const n = noticeFor(
      state('a', { status: 'starting' }),
      state('a', {
        status: 'failed',
        exit_code: 1,
        reason: 'gave up after 10 restarts (last: exit code 1)'
      })
    )!;
    expect(n.kind).toBe('gave-up');
    expect(n.message).toContain('gave up after 10 restarts');
  });

  it('reports turning unhealthy, with the probe message', () => {
    const n = noticeFor(
      state('a'),
      state('a', {
        status: 'unhealthy',
        health: {
          status: 'unhealthy',
          message: 'HTTP 500',
          checked_at: 1,
          source: 'http',
          consecutive_failures: 3
        }
      })
    )!;
    expect(n).toEqual({
      kind: 'unhealthy',
      type: 'warning',
      message: 'a is unhealthy: HTTP 500'
    });
    // Staying unhealthy is not news.
    expect(
      noticeFor(
        state('a', { status: 'unhealthy' }),
        state('a', { status: 'unhealthy' })
      )
    ).toBeNull();
  });

  it('reports a crash the supervisor restarts', () => {
    const n = noticeFor(
      state('a'),
      state('a', {
        status: 'starting',
        exit_code: 2,
        next_restart_at: 123,
        reason: 'restarting in 1s after exit code 2'
      })
    )!;
    expect(n.kind).toBe('crashed');
    expect(n.message).toBe('a crashed (exit code 2); restarting in 1s');
    // A plain (re)start is not a crash.
    expect(
      noticeFor(
        state('a', { status: 'stopped' }),
        state('a', { status: 'starting' })
      )
    ).toBeNull();
  });

  it('reports a process first seen already failed', () => {
    expect(
      noticeFor(undefined, state('a', { status: 'failed', exit_code: 1 }))!.kind
    ).toBe('failed');
  });
});

function recorder(): INotifier & {
  emitted: INotice[];
  updated: [string, INotice][];
  gone: Set<string>;
} {
  let n = 0;
  const emitted: INotice[] = [];
  const updated: [string, INotice][] = [];
  const gone = new Set<string>();
  return {
    emitted,
    updated,
    gone,
    emit: notice => {
      emitted.push(notice);
      return `id${++n}`;
    },
    update: (id, notice) => {
      if (gone.has(id)) {
        return false;
      }
      updated.push([id, notice]);
      return true;
    }
  };
}

describe('ProcessNotifier', () => {
  it('remembers first-snapshot states without notifying', () => {
    const r = recorder();
    const notifier = new ProcessNotifier(r);
    expect(
      notifier.observe(
        'a',
        state('a', { status: 'failed', exit_code: 1 }),
        true
      )
    ).toBeNull();
    expect(r.emitted).toEqual([]);
    expect(notifier.has('a')).toBe(true);
  });

  it('notifies on transitions and updates one notification per process', () => {
    const r = recorder();
    const notifier = new ProcessNotifier(r, {
      actions: (key, name) => [
        { label: `logs ${name}`, callback: () => undefined }
      ]
    });
    notifier.observe('a', state('a'), true);
    notifier.observe(
      'a',
      state('a', {
        status: 'starting',
        exit_code: 1,
        next_restart_at: 5,
        reason: 'restarting'
      })
    );
    expect(r.emitted).toHaveLength(1);
    notifier.observe(
      'a',
      state('a', { status: 'running', next_restart_at: null })
    );
    notifier.observe(
      'a',
      state('a', {
        status: 'failed',
        exit_code: 1,
        reason: 'gave up after 1 restarts'
      })
    );
    expect(r.emitted).toHaveLength(1);
    expect(r.updated).toHaveLength(1);
    expect(r.updated[0][0]).toBe('id1');
    expect(r.updated[0][1].kind).toBe('gave-up');
  });

  it('does not repeat the same news of a crash loop for a while; other trouble shows', () => {
    const r = recorder();
    let now = 0;
    const notifier = new ProcessNotifier(r, { now: () => now });
    const crash = (at: number) =>
      state('a', {
        status: 'starting',
        exit_code: 1,
        next_restart_at: at,
        reason: 'restarting'
      });
    notifier.observe('a', state('a'), true);
    notifier.observe('a', crash(1));
    now += 5000;
    notifier.observe('a', state('a'));
    expect(notifier.observe('a', crash(2))).toBeNull();
    expect(r.emitted).toHaveLength(1);
    expect(r.updated).toHaveLength(0);
    notifier.observe(
      'a',
      state('a', {
        status: 'failed',
        exit_code: 1,
        reason: 'gave up after 3 restarts'
      })
    );
    expect(r.emitted.map(n => n.kind)).toEqual(['crashed']);
    expect(r.updated.map(([id, n]) => [id, n.kind])).toEqual([
      ['id1', 'gave-up']
    ]);
    // Much later, a new crash is news again.
    now += ProcessNotifier.REPEAT_QUIET_MS;
    notifier.observe('a', state('a'));
    expect(notifier.observe('a', crash(3))!.kind).toBe('crashed');
  });

  it('emits a new notification when the old one is gone', () => {
    const r = recorder();
    const notifier = new ProcessNotifier(r);
    notifier.observe('a', state('a'), true);
    notifier.observe('a', state('a', { status: 'unhealthy' }));
    r.gone.add('id1');
    notifier.observe('a', state('a', { status: 'failed', exit_code: 1 }));
    expect(r.emitted).toHaveLength(2);
  });

  it('stays quiet when disabled, but keeps tracking states', () => {
    const r = recorder();
    const notifier = new ProcessNotifier(r, { enabled: false });
    notifier.observe('a', state('a'), true);
    expect(
      notifier.observe('a', state('a', { status: 'failed', exit_code: 1 }))
    ).toBeNull();
    notifier.enabled = true;
    // Still failed: no new transition, no notice.
    expect(
      notifier.observe('a', state('a', { status: 'failed', exit_code: 1 }))
    ).toBeNull();
    expect(r.emitted).toEqual([]);
  });

  it('forgets removed rows', () => {
    const r = recorder();
    const notifier = new ProcessNotifier(r);
    notifier.observe('a', state('a'), true);
    notifier.forget('a');
    expect(notifier.has('a')).toBe(false);
  });
});
