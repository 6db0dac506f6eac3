/**
 * The DOM view of one process: status, facts, log tails and action buttons.
 *
 * It renders from a `ProcessStore` and a process name and knows nothing about
 * where the store's data comes from (kernel comm, server websocket, a test), so
 * the cell output and the sidebar's detail view can both use it. It never
 * writes to the store and never sends anything back but the actions a user
 * clicks.
 */
import { IDisposable } from '@lumino/disposable';

import { formatBytes, formatUptime, PLACEHOLDER, statusClass } from './format';
import { LogPane } from './logPane';
import {
  Action,
  IHealth,
  IProcessState,
  LOG_STREAMS,
  LogStreamName
} from './protocol';
import { IStoreChange, isUp, ProcessStore } from './store';
import { isProcessStatus, UNKNOWN_STATUS } from './types';

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
 * Runs an action for the view; rejects with an `Error` whose message the
 * view shows.
 */
export type ActionRunner = (action: Action, name: string) => Promise<unknown>;

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
 * Statuses in which a process can be asked to stop.
 */
const STOPPABLE = new Set(['starting', 'running', 'unhealthy']);

/**
 * The live view of one process.
 */
export class ProcessView implements IDisposable {
  constructor(options: ProcessView.IOptions) {
    this.store = options.store;
    this.name = options.name;
    this._actions = options.actions ?? null;
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
    const buttons = doc.createElement('div');
    buttons.className = 'syft-pm-actions';
    this._stopButton = this._button(doc, 'stop', 'Stop');
    this._restartButton = this._button(doc, 'restart', 'Restart');
    buttons.append(this._stopButton, this._restartButton);
    header.append(nameNode, this._badge, this._liveNode, spacer, buttons);

    this._commandNode = doc.createElement('div');
    this._commandNode.className = 'syft-pm-command';

    this._factsNode = doc.createElement('div');
    this._factsNode.className = 'syft-pm-facts';

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
    const maxLines = Math.max(1, this.store.logs(this.name, 'stdout').capacity);
    this._panes = LOG_STREAMS.map(s => new LogPane(doc, s, maxLines));
    logs.append(...this._panes.map(p => p.node));

    this.node.append(
      header,
      this._commandNode,
      this._factsNode,
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
    this._actions = actions;
    this._renderButtons(this.store.get(this.name));
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
    this._actions = null;
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
    this._renderButtons(this.store.get(this.name));
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
    this._renderFacts(state);
    const reason = this._reasonText(state);
    this._reasonNode.textContent = reason;
    this._reasonNode.hidden = reason === '';
    this._renderButtons(state);
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

  private _renderFacts(state: IProcessState | undefined): void {
    const facts = this._factsNode;
    facts.textContent = '';
    this._uptimeNode = null;
    this._healthAgeNode = null;
    if (!state) {
      facts.hidden = true;
      return;
    }
    facts.hidden = false;
    const up = isUp(state.status);
    if (state.pid !== null && (up || state.status === 'starting')) {
      this._fact('pid', 'pid', String(state.pid));
    }
    if (up) {
      this._uptimeNode = this._fact('uptime', 'up', this._uptimeText());
    }
    if (!up && state.status !== 'starting') {
      if (state.signal) {
        this._fact('exit', 'killed by', state.signal);
      } else if (state.exit_code !== null) {
        this._fact('exit', 'exit code', String(state.exit_code));
      }
    }
    if (state.restarts > 0 || restartsOnItsOwn(state.restart_policy)) {
      this._fact('restarts', 'restarts', String(state.restarts));
    }
    if (state.health) {
      const node = this._fact(
        'health',
        'health',
        healthLabel(state.health),
        state.health.message ?? ''
      );
      node.classList.add(healthClass(state.health));
      if (state.health.checked_at !== null) {
        this._healthAgeNode = node.ownerDocument.createElement('span');
        this._healthAgeNode.className = 'syft-pm-health-age';
        this._healthAgeNode.textContent = this._healthAgeText();
        node.appendChild(this._healthAgeNode);
      }
    }
    if (state.metrics && up) {
      const m = state.metrics;
      this._fact(
        'cpu',
        'cpu',
        Number.isFinite(m.cpu_percent)
          ? `${m.cpu_percent.toFixed(1)}%`
          : PLACEHOLDER
      );
      this._fact('memory', 'mem', formatBytes(m.rss_bytes));
      if (m.ports && m.ports.length > 0) {
        this._fact(
          'ports',
          m.ports.length > 1 ? 'ports' : 'port',
          m.ports.join(', ')
        );
      }
    }
    facts.hidden = facts.childElementCount === 0;
  }

  private _fact(
    key: string,
    label: string,
    value: string,
    title = ''
  ): HTMLElement {
    const doc = this._factsNode.ownerDocument;
    const item = doc.createElement('span');
    item.className = 'syft-pm-fact';
    item.dataset.fact = key;
    const labelNode = doc.createElement('span');
    labelNode.className = 'syft-pm-fact-label';
    labelNode.textContent = label;
    const valueNode = doc.createElement('span');
    valueNode.className = 'syft-pm-fact-value';
    valueNode.textContent = value;
    if (title) {
      valueNode.title = title;
    }
    item.append(labelNode, valueNode);
    this._factsNode.appendChild(item);
    return valueNode;
  }

  private _uptimeText(): string {
    return formatUptime(this.store.uptime(this.name, this._now()));
  }

  private _healthAgeText(): string {
    const checked = this.store.get(this.name)?.health?.checked_at;
    if (checked === null || checked === undefined) {
      return '';
    }
    const age = this._now() / 1000 - (checked + this.store.clockOffset);
    return ` \u00b7 ${formatUptime(Math.max(0, age))} ago`;
  }

  private _tick(): void {
    if (this._uptimeNode) {
      this._uptimeNode.textContent = this._uptimeText();
    }
    if (this._healthAgeNode) {
      this._healthAgeNode.textContent = this._healthAgeText();
    }
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

  private _button(
    doc: Document,
    action: string,
    label: string
  ): HTMLButtonElement {
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'syft-pm-action';
    button.dataset.action = action;
    button.textContent = label;
    button.addEventListener('click', () => {
      const which = button.dataset.action as Action | undefined;
      if (which) {
        void this._run(which);
      }
    });
    return button;
  }

  private _renderButtons(state: IProcessState | undefined): void {
    const busy = this._busy !== null;
    const can = this._actions !== null && state !== undefined && !busy;
    const status = state?.status ?? '';
    this._stopButton.disabled = !can || !STOPPABLE.has(status);
    this._stopButton.title = `Stop ${this.name}`;
    const restart = isUp(status) || status === 'starting';
    this._restartButton.dataset.action = restart ? 'restart' : 'start';
    this._restartButton.textContent = restart ? 'Restart' : 'Start';
    this._restartButton.title = `${restart ? 'Restart' : 'Start'} ${this.name}`;
    this._restartButton.disabled =
      !can || status === 'stopping' || status === 'error';
    for (const button of [this._stopButton, this._restartButton]) {
      button.setAttribute(
        'aria-busy',
        String(busy && this._busy === button.dataset.action)
      );
    }
  }

  private async _run(action: Action): Promise<void> {
    const actions = this._actions;
    if (!actions || this._busy !== null) {
      return;
    }
    this._busy = action;
    this.clearError();
    this._renderButtons(this.store.get(this.name));
    try {
      await actions(action, this.name);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.showError(`Could not ${action} \u201c${this.name}\u201d: ${reason}`);
    } finally {
      this._busy = null;
      if (!this._disposed) {
        this._renderButtons(this.store.get(this.name));
      }
    }
  }

  private _pane(stream: LogStreamName): LogPane {
    return this._panes.find(p => p.stream === stream)!;
  }

  private _disposed = false;
  private _actions: ActionRunner | null;
  private _busy: Action | null = null;
  private _tickMs: number;
  private _now: () => number;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _connection: IConnectionInfo = { via: null, reason: null };
  private _lastUpdate: number | null;
  private _badge: HTMLSpanElement;
  private _liveNode: HTMLSpanElement;
  private _stopButton: HTMLButtonElement;
  private _restartButton: HTMLButtonElement;
  private _commandNode: HTMLDivElement;
  private _factsNode: HTMLDivElement;
  private _reasonNode: HTMLDivElement;
  private _noteNode: HTMLDivElement;
  private _errorNode: HTMLDivElement;
  private _errorText: HTMLSpanElement;
  private _panes: LogPane[];
  private _uptimeNode: HTMLElement | null = null;
  private _healthAgeNode: HTMLElement | null = null;
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

function healthLabel(health: IHealth): string {
  const status = health.status ?? 'unknown';
  const failures = health.consecutive_failures ?? 0;
  return failures > 1 && status !== 'healthy' && status !== 'ok'
    ? `${status} (${failures}\u00d7)`
    : status;
}

function healthClass(health: IHealth): string {
  switch (health.status) {
    case 'healthy':
    case 'ok':
    case 'passing':
      return 'syft-pm-tone-ok';
    case 'unhealthy':
    case 'failing':
    case 'failed':
      return 'syft-pm-tone-error';
    default:
      return 'syft-pm-tone-unknown';
  }
}

/** Whether a restart policy restarts the process by itself. */
function restartsOnItsOwn(policy: string | null): boolean {
  return !!policy && policy !== 'no' && policy !== 'never';
}
