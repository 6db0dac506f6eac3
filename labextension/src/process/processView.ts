/**
 * The DOM view of one process: status, facts, log tails and action buttons.
 *
 * It renders from a `ProcessStore` and a process name and knows nothing about
 * where the store's data comes from (kernel comm, server websocket, a test), so
 * the cell output and the sidebar's detail view can both use it. It never
 * writes to the store and never sends anything back but the actions a user
 * clicks.
 *
 * This module is the view: header, status, reason, whether the state is
 * live, errors, ticking. Its parts: the facts line (`processFacts.ts`), the
 * buttons (`processButtons.ts`) and a log pane per stream (`logs/logPane.ts`).
 */
import { IDisposable } from '@lumino/disposable';

import { formatUptime, statusClass } from './format';
import { LogPane } from '../logs/logPane';
import { ActionRunner, ProcessButtons } from './processButtons';
import { ProcessFacts } from './processFacts';
import {
  IProcessState,
  isProcessStatus,
  LOG_STREAMS,
  LogStreamName,
  UNKNOWN_STATUS
} from '../live/protocol';
import { IStoreChange, ProcessStore } from '../live/processStore';

export type { ActionRunner } from './processButtons';

/**
 * The CSS class of a process view's root element.
 */
export const PROCESS_CLASS = 'syft-pm-process';

/**
 * `data-status` of a process the live state says does not exist (removed,
 * or never created in this registry).
 */
export const MISSING_STATUS = 'removed';

/**
 * Where the view's live state comes from, as told by its owner.
 */
export interface IConnectionInfo {
  /** A short name of the transport (`kernel`, `server`), or null for none. */
  via: string | null;
  /** Why the state is not live; shown while the store is not live. */
  reason: string | null;
}

/**
 * The live view of one process.
 */
export class ProcessView implements IDisposable {
  constructor(options: ProcessView.IOptions) {
    this.store = options.store;
    this.name = options.name;
    this._tickMs = options.tickMs ?? 1000;
    this._now = options.now ?? Date.now;
    const doc = options.node?.ownerDocument ?? document;
    this.node = options.node ?? doc.createElement('div');
    this.node.classList.add(PROCESS_CLASS);
    this.node.textContent = '';
    this.node.dataset.processName = this.name;

    // Header: name, status badge, live indicator, buttons.
    const header = doc.createElement('div');
    header.className = 'syft-pm-process-header';
    const nameNode = doc.createElement('span');
    nameNode.className = 'syft-pm-process-name';
    nameNode.textContent = this.name;
    this._badge = doc.createElement('span');
    this._liveNode = doc.createElement('span');
    this._liveNode.className = 'syft-pm-live';
    const spacer = doc.createElement('span');
    spacer.className = 'syft-pm-spacer';
    this._buttons = new ProcessButtons(doc, {
      name: this.name,
      actions: options.actions ?? null,
      state: () => this.store.get(this.name),
      showError: message => this.showError(message),
      clearError: () => this.clearError()
    });
    header.append(
      nameNode,
      this._badge,
      this._liveNode,
      spacer,
      this._buttons.node
    );

    this._commandNode = doc.createElement('div');
    this._commandNode.className = 'syft-pm-command';

    this._facts = new ProcessFacts(doc, this.store, this.name, this._now);

    this._reasonNode = doc.createElement('div');
    this._reasonNode.className = 'syft-pm-reason';

    this._noteNode = doc.createElement('div');
    this._noteNode.className = 'syft-pm-note syft-pm-not-live';
    this._noteNode.setAttribute('role', 'status');

    this._errorNode = doc.createElement('div');
    this._errorNode.className = 'syft-pm-error';
    this._errorNode.setAttribute('role', 'alert');
    this._errorNode.hidden = true;
    this._errorText = doc.createElement('span');
    this._errorText.className = 'syft-pm-error-message';
    const dismiss = doc.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'syft-pm-error-dismiss';
    dismiss.title = 'Dismiss';
    dismiss.setAttribute('aria-label', 'Dismiss the error');
    dismiss.textContent = '\u00d7';
    dismiss.addEventListener('click', () => this.clearError());
    this._errorNode.append(this._errorText, dismiss);

    const logs = doc.createElement('div');
    logs.className = 'syft-pm-logs';
    this._panes = LOG_STREAMS.map(s => new LogPane(doc, s));
    logs.append(...this._panes.map(p => p.node));

    this.node.append(
      header,
      this._commandNode,
      this._facts.node,
      this._reasonNode,
      this._noteNode,
      this._errorNode,
      logs
    );

    this.store.changed.connect(this._onChanged, this);
    this.store.liveChanged.connect(this._onLiveChanged, this);
    this._lastUpdate = this.store.live ? this._now() : null;
    this.render();
  }

  readonly node: HTMLElement;
  readonly store: ProcessStore;
  readonly name: string;

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The status shown (also `data-status`). */
  get status(): string {
    return this.node.dataset.status ?? UNKNOWN_STATUS;
  }

  /** The log pane of one stream (for tests and embedding). */
  logPane(stream: LogStreamName): HTMLElement {
    return this._pane(stream).linesNode;
  }

  /** Whether the clock-driven parts (uptime, health age) are being refreshed. */
  get ticking(): boolean {
    return this._timer !== null;
  }

  /** How often the clock-driven parts are refreshed, in ms. */
  get tickMs(): number {
    return this._tickMs;
  }

  /** Refresh every `ms` from now on (the `tick` setting). */
  setTickMs(ms: number): void {
    if (this._disposed || ms === this._tickMs) {
      return;
    }
    this._tickMs = ms;
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = setInterval(() => this._tick(), this._tickMs);
    }
  }

  /**
   * Refresh the clock-driven parts every `tickMs` while on (the owner turns it
   * on while the view is visible).
   */
  setTicking(on: boolean): void {
    if (this._disposed) {
      return;
    }
    if (on && this._timer === null) {
      this._timer = setInterval(() => this._tick(), this._tickMs);
      this._tick();
    } else if (!on && this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  /** Tell the view where its state comes from and why it is not live. */
  setConnection(info: IConnectionInfo): void {
    this._connection = { ...info };
    this._renderLive();
  }

  /** How actions are carried out (null: buttons disabled). */
  setActions(actions: ActionRunner | null): void {
    this._buttons.actions = actions;
    this._buttons.render(this.store.get(this.name));
  }

  /** Show an error inside the view until dismissed or replaced. */
  showError(message: string): void {
    if (this._disposed) {
      return;
    }
    this._errorText.textContent = message;
    this._errorNode.hidden = false;
  }

  clearError(): void {
    this._errorText.textContent = '';
    this._errorNode.hidden = true;
  }

  /** The error shown, or null. */
  get error(): string | null {
    return this._errorNode.hidden ? null : this._errorText.textContent;
  }

  /** Re-render everything from the store. */
  render(): void {
    if (this._disposed) {
      return;
    }
    this._renderState();
    for (const pane of this._panes) {
      pane.update(this.store.logs(this.name, pane.stream), true);
    }
    this._renderLive();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this.setTicking(false);
    this._disposed = true;
    this.store.changed.disconnect(this._onChanged, this);
    this.store.liveChanged.disconnect(this._onLiveChanged, this);
    this._buttons.dispose();
  }

  private _onChanged(_: ProcessStore, change: IStoreChange): void {
    this._lastUpdate = this._now();
    if (change.reset) {
      this.render();
      return;
    }
    if (change.changed.has(this.name) || change.removed.has(this.name)) {
      this._renderState();
    }
    if (change.logs.has(this.name) || change.removed.has(this.name)) {
      const reset = change.removed.has(this.name);
      for (const pane of this._panes) {
        pane.update(this.store.logs(this.name, pane.stream), reset);
      }
    }
  }

  private _onLiveChanged(): void {
    if (this.store.live) {
      this._lastUpdate = this._now();
    }
    this._renderLive();
    this._buttons.render(this.store.get(this.name));
  }

  private _renderState(): void {
    const state = this.store.get(this.name);
    const status = this._statusOf(state);
    this.node.dataset.status = status;
    this._badge.className = `syft-pm-status ${
      status === 'error' ? 'syft-pm-tone-error' : statusClass(status)
    }`;
    this._badge.textContent = status;
    this._badge.title = state?.reason ?? '';
    this._commandNode.textContent = state?.command ?? '';
    this._commandNode.title = state?.cwd ? `in ${state.cwd}` : '';
    this._commandNode.hidden = !state?.command;
    this._facts.render(state);
    const reason = this._reasonText(state);
    this._reasonNode.textContent = reason;
    this._reasonNode.hidden = reason === '';
    this._buttons.render(state);
  }

  private _reasonText(state: IProcessState | undefined): string {
    if (state === undefined) {
      return this._seenSnapshot()
        ? `No process named \u201c${this.name}\u201d in the registry (removed?).`
        : '';
    }
    if (state.error) {
      return state.error;
    }
    // Why it stopped or failed, or why it is (re)starting.
    return state.reason ?? state.stop_reason ?? '';
  }

  private _seenSnapshot(): boolean {
    return this.store.registryId !== null;
  }

  private _statusOf(state: IProcessState | undefined): string {
    if (!state) {
      return this._seenSnapshot() ? MISSING_STATUS : UNKNOWN_STATUS;
    }
    if (state.status === 'error' || isProcessStatus(state.status)) {
      return state.status;
    }
    return UNKNOWN_STATUS;
  }

  private _tick(): void {
    this._facts.tick();
    if (!this.store.live) {
      this._renderLive();
    }
  }

  private _renderLive(): void {
    const live = this.store.live;
    this.node.dataset.live = String(live);
    const via = this._connection.via;
    this._liveNode.className = `syft-pm-live ${live ? 'syft-pm-mod-live' : 'syft-pm-mod-stale'}`;
    this._liveNode.textContent = live ? 'live' : 'not live';
    this._liveNode.title = live
      ? `Live state${via ? ` from the ${via === 'server' ? 'Jupyter server' : via}` : ''}`
      : 'Not live: showing the last known state';
    if (live) {
      this._noteNode.hidden = true;
      this._noteNode.textContent = '';
      return;
    }
    const parts: string[] = [];
    parts.push(
      this._connection.reason
        ? `Not live: ${this._connection.reason}.`
        : 'Not live.'
    );
    if (this._lastUpdate !== null) {
      const ago = Math.max(0, (this._now() - this._lastUpdate) / 1000);
      parts.push(
        `Showing the last known state, from ${formatUptime(ago)} ago.`
      );
    } else {
      parts.push('No state received yet.');
    }
    this._noteNode.textContent = parts.join(' ');
    this._noteNode.hidden = false;
  }

  private _pane(stream: LogStreamName): LogPane {
    return this._panes.find(p => p.stream === stream)!;
  }

  private _disposed = false;
  private _tickMs: number;
  private _now: () => number;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _connection: IConnectionInfo = { via: null, reason: null };
  private _lastUpdate: number | null;
  private _badge: HTMLSpanElement;
  private _liveNode: HTMLSpanElement;
  private _buttons: ProcessButtons;
  private _commandNode: HTMLDivElement;
  private _facts: ProcessFacts;
  private _reasonNode: HTMLDivElement;
  private _noteNode: HTMLDivElement;
  private _errorNode: HTMLDivElement;
  private _errorText: HTMLSpanElement;
  private _panes: LogPane[];
}

export namespace ProcessView {
  export interface IOptions {
    /** Where the state comes from. */
    store: ProcessStore;
    /** The process shown. */
    name: string;
    /** The element to render into (a new `div` by default). */
    node?: HTMLElement;
    /** How the buttons act (buttons are disabled without it). */
    actions?: ActionRunner | null;
    /** Refresh period of uptime and health age, in ms. */
    tickMs?: number;
    /** The clock (ms since the epoch); for tests. */
    now?: () => number;
  }
}
