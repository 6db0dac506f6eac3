/**
 * Notifications of process trouble: a process exits with an error, turns
 * unhealthy, or its supervisor gives up restarting it.
 *
 * `noticeFor` decides from two consecutive states (pure, unit-tested);
 * `ProcessNotifier` remembers what it saw per row and hands notices to a
 * `notify` function (JupyterLab's `Notification` API in the app). One
 * notification per process is updated in place, so a crash loop does not
 * stack up toasts.
 */
import { IProcessState } from '../live/protocol';

export type NoticeKind = 'failed' | 'crashed' | 'unhealthy' | 'gave-up';

export interface INotice {
  kind: NoticeKind;
  /** `error` or `warning`, as JupyterLab's notification types. */
  type: 'error' | 'warning';
  message: string;
}

/**
 * What a notice needs to know of a state (a subset, so a delta can be
 * compared without the whole state).
 */
export type NoticeState = Pick<
  IProcessState,
  | 'name'
  | 'status'
  | 'reason'
  | 'exit_code'
  | 'signal'
  | 'restarts'
  | 'next_restart_at'
  | 'health'
>;

function exitDescription(state: NoticeState): string {
  if (state.exit_code !== null && state.exit_code !== undefined) {
    return `exit code ${state.exit_code}`;
  }
  if (state.signal) {
    return `killed by ${state.signal}`;
  }
  return 'an error';
}

function exitMessage(state: NoticeState): string {
  if (state.exit_code !== null && state.exit_code !== undefined) {
    return `${state.name} exited with code ${state.exit_code}`;
  }
  if (state.signal) {
    return `${state.name} was killed by ${state.signal}`;
  }
  return `${state.name} failed`;
}

/**
 * The notice a change from `prev` to `next` deserves, if any. `prev` is
 * undefined for a process seen for the first time (it only deserves a notice
 * when it is already in trouble, e.g. failed right after it was started).
 */
export function noticeFor(
  prev: NoticeState | undefined,
  next: NoticeState
): INotice | null {
  const was = prev?.status;
  if (next.status === 'failed' && was !== 'failed') {
    if (next.reason && /^gave up/i.test(next.reason)) {
      return {
        kind: 'gave-up',
        type: 'error',
        message: `${next.name}: ${next.reason}`
      };
    }
    if (next.reason && next.exit_code === null && !next.signal) {
      // Could not start, or the supervisor itself failed.
      return {
        kind: 'failed',
        type: 'error',
        message: `${next.name} failed: ${next.reason}`
      };
    }
    return { kind: 'failed', type: 'error', message: exitMessage(next) };
  }
  if (next.status === 'unhealthy' && was !== 'unhealthy') {
    const detail = next.health?.message || next.reason;
    return {
      kind: 'unhealthy',
      type: 'warning',
      message: `${next.name} is unhealthy${detail ? `: ${detail}` : ''}`
    };
  }
  // A crash under a restart policy: the supervisor records the exit and
  // schedules the next start (status back to `starting`).
  if (
    next.status === 'starting' &&
    prev !== undefined &&
    (was === 'running' || was === 'unhealthy' || was === 'starting') &&
    next.next_restart_at !== null &&
    next.next_restart_at !== undefined &&
    next.next_restart_at !== prev.next_restart_at &&
    ((next.exit_code !== null &&
      next.exit_code !== undefined &&
      next.exit_code !== 0) ||
      !!next.signal)
  ) {
    const restarting = (next.reason ?? 'restarting').replace(/ after .*$/, '');
    return {
      kind: 'crashed',
      type: 'warning',
      message: `${next.name} crashed (${exitDescription(next)}); ${restarting}`
    };
  }
  return null;
}

/**
 * A notification action (a button on the toast).
 */
export interface INoticeAction {
  label: string;
  callback: () => void;
}

/**
 * Shows a notice; returns an id that `update` can reuse. The app passes
 * JupyterLab's `Notification`.
 */
export interface INotifier {
  emit(notice: INotice, actions: INoticeAction[]): string;
  /** Replace an existing notification; false if it is gone (dismissed). */
  update(id: string, notice: INotice, actions: INoticeAction[]): boolean;
}

/**
 * Remembers the last state of every row and notifies on trouble.
 */
export class ProcessNotifier {
  constructor(
    private readonly _notifier: INotifier,
    options: {
      enabled?: boolean;
      actions?: (key: string, name: string) => INoticeAction[];
      now?: () => number;
    } = {}
  ) {
    this.enabled = options.enabled ?? true;
    this._actions = options.actions ?? (() => []);
    this._now = options.now ?? Date.now;
  }

  /** Within this time, the same kind of news about a process is not repeated. */
  static REPEAT_QUIET_MS = 5 * 60 * 1000;

  /** Whether notices are shown (the `notifications` setting). */
  enabled: boolean;

  /**
   * Look at a row's current state. `initial` marks states of a first
   * snapshot: remembered, never notified about.
   */
  observe(key: string, state: NoticeState, initial = false): INotice | null {
    const prev = this._seen.get(key);
    this._seen.set(key, pick(state));
    if (initial && prev === undefined) {
      return null;
    }
    const notice = noticeFor(prev, state);
    if (!notice || !this.enabled) {
      return null;
    }
    const now = this._now();
    const last = this._last.get(key);
    if (
      last &&
      last.kind === notice.kind &&
      now - last.at < ProcessNotifier.REPEAT_QUIET_MS
    ) {
      // The same news again (a crash loop): the row shows the restarts; a
      // toast at every crash would only nag. Other trouble still shows.
      return null;
    }
    this._last.set(key, { kind: notice.kind, at: now });
    const actions = this._actions(key, state.name);
    const id = this._ids.get(key);
    if (id === undefined || !this._notifier.update(id, notice, actions)) {
      this._ids.set(key, this._notifier.emit(notice, actions));
    }
    return notice;
  }

  /** Forget a row (removed). */
  forget(key: string): void {
    this._seen.delete(key);
    this._ids.delete(key);
    this._last.delete(key);
  }

  /** Whether a row was seen. */
  has(key: string): boolean {
    return this._seen.has(key);
  }

  private _actions: (key: string, name: string) => INoticeAction[];
  private _seen = new Map<string, NoticeState>();
  private _ids = new Map<string, string>();
  private _last = new Map<string, { kind: NoticeKind; at: number }>();
  private _now: () => number;
}

function pick(s: NoticeState): NoticeState {
  return {
    name: s.name,
    status: s.status,
    reason: s.reason,
    exit_code: s.exit_code,
    signal: s.signal,
    restarts: s.restarts,
    next_restart_at: s.next_restart_at,
    health: s.health
  };
}
