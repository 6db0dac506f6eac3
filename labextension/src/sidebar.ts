/**
 * The Process Manager sidebar: every managed process on this host, live.
 *
 * Plain DOM on a Lumino widget. Data comes from a `ProcessFleet` (the server
 * extension's websocket, plus the comm of the active notebook's kernel for
 * processes the server does not see); the list (`ProcessList`) re-renders
 * only changed rows, batched per animation frame. One timer per panel ticks
 * uptimes and the reconnect countdown. Details and logs of a process open in
 * a main-area tab (`ProcessDetail`).
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { detailId, IDetailController, ProcessDetail } from './detailView';
import { processIcon } from './icons';
import { KernelLogSource, RestLogSource } from './logSource';
import { INotifier, ProcessNotifier } from './notifications';
import { ProcessFleet, IActiveNotebook, IRowsChange } from './processFleet';
import { PortUrl, ProcessList, RowAction } from './processList';
import { Action, LogStreamName } from './protocol';
import { portUrl as makePortUrl } from './ports';
import { isAbortError, requestAPI, SyftPmApiError } from './request';
import { DEFAULT_SETTINGS, ISyftPmSettings } from './settings';
import {
  DEFAULT_QUERY,
  IListQuery,
  IOriginContext,
  IProcessRow,
  isFromActiveNotebook,
  originChoices,
  queryRows,
  SORT_CHOICES,
  SortKey,
  STATUS_FILTERS,
  summarize
} from './sidebarModel';
import { iconButton } from './sidebarIcons';
import { isUp } from './store';
import { IServerStatus } from './types';

/**
 * The id of the sidebar widget (also its layout-restorer name).
 */
export const SIDEBAR_ID = 'syft-pm-sidebar';

/**
 * Reads `GET /syft-pm/api/status`; an option so tests can replace it.
 */
export type StatusFetcher = (signal: AbortSignal) => Promise<IServerStatus>;

const fetchServerStatus: StatusFetcher = signal =>
  requestAPI<IServerStatus>('status', { method: 'GET', signal });

/**
 * The snippet the empty state offers.
 */
export const START_SNIPPET = `import syft_pm
syft_pm.run("web", ["python", "-m", "http.server", "8000"])`;

/**
 * The user-facing explanation of a failed status request.
 */
export function describeConnectionError(error: unknown): string {
  let detail: string;
  if (error instanceof SyftPmApiError) {
    if (error.isNotFound) {
      detail = `${error.message} (is the syft_pm server extension enabled on this Jupyter server?)`;
    } else if (error.isNetworkError) {
      detail = `${error.message} (is the Jupyter server running?)`;
    } else {
      detail = error.message;
    }
  } else if (error instanceof Error) {
    detail = error.message;
  } else {
    detail = String(error);
  }
  return `Cannot reach the syft_pm server extension: ${detail}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The Process Manager sidebar.
 */
export class ProcessSidebar extends Widget {
  constructor(options: ProcessSidebar.IOptions = {}) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('syft-pm-sidebar');
    this.title.icon = processIcon;
    this.title.caption = 'Processes';
    this._fetchStatus = options.fetchStatus ?? fetchServerStatus;
    this._settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this._options = options;
    this._frame =
      options.requestFrame ??
      (typeof requestAnimationFrame === 'function'
        ? (cb: () => void) => requestAnimationFrame(cb)
        : (cb: () => void) => setTimeout(cb, 16) as unknown as number);
    this.fleet = options.fleet ?? new ProcessFleet();
    this._originCtx = {
      notebookPath: null,
      kernelId: null,
      serverRoot: options.serverRoot ?? null
    };
    this._portUrl = port =>
      makePortUrl(port, {
        proxy: this._proxy,
        baseUrl: options.baseUrl ?? '/',
        hostname:
          options.hostname ??
          (typeof location !== 'undefined' ? location.hostname : undefined)
      });
    this._notifier = options.notifier
      ? new ProcessNotifier(options.notifier, {
          enabled: this._settings.notifications,
          actions: key => [
            {
              label: 'Show logs',
              callback: () => {
                this.openDetail(key);
              }
            }
          ]
        })
      : null;

    const doc = this.node.ownerDocument;

    // Header: title and a summary of the fleet.
    const header = doc.createElement('header');
    header.className = 'syft-pm-sidebar-header';
    const heading = doc.createElement('h2');
    heading.className = 'syft-pm-sidebar-title';
    heading.textContent = 'Processes';
    this._summaryNode = doc.createElement('span');
    this._summaryNode.className = 'syft-pm-summary';
    this._liveNode = doc.createElement('span');
    this._liveNode.className = 'syft-pm-sidebar-live';
    header.append(heading, this._summaryNode);

    // Connection problems: what is wrong, when the next try is, Retry.
    this._errorNode = doc.createElement('div');
    this._errorNode.className = 'syft-pm-error';
    this._errorNode.setAttribute('role', 'alert');
    this._errorNode.hidden = true;
    this._errorMessageNode = doc.createElement('p');
    this._errorMessageNode.className = 'syft-pm-error-message';
    this._retryNode = doc.createElement('p');
    this._retryNode.className = 'syft-pm-retry-when';
    this._retryButton = doc.createElement('button');
    this._retryButton.type = 'button';
    this._retryButton.className = 'jp-mod-styled syft-pm-retry';
    this._retryButton.textContent = 'Retry';
    this._retryButton.addEventListener('click', this._onRetry);
    this._errorNode.append(
      this._errorMessageNode,
      this._retryNode,
      this._retryButton
    );

    // Toolbar: search, filters, sort.
    const toolbar = doc.createElement('div');
    toolbar.className = 'syft-pm-toolbar';
    this._searchInput = doc.createElement('input');
    this._searchInput.type = 'search';
    this._searchInput.className = 'syft-pm-search jp-mod-styled';
    this._searchInput.placeholder = 'Search name, command, port, label\u2026';
    this._searchInput.setAttribute('aria-label', 'Search processes');
    this._searchInput.addEventListener('input', () =>
      this.setQuery({ text: this._searchInput.value })
    );
    const filters = doc.createElement('div');
    filters.className = 'syft-pm-filters';
    this._statusSelect = select(
      doc,
      'syft-pm-filter-status',
      'Filter by status',
      STATUS_FILTERS
    );
    this._statusSelect.addEventListener('change', () =>
      this.setQuery({ status: this._statusSelect.value })
    );
    this._originSelect = select(
      doc,
      'syft-pm-filter-origin',
      'Filter by origin',
      originChoices([], this._originCtx)
    );
    this._originSelect.addEventListener('change', () =>
      this.setQuery({ origin: this._originSelect.value })
    );
    this._sortSelect = select(doc, 'syft-pm-sort', 'Sort by', SORT_CHOICES);
    this._sortSelect.addEventListener('change', () =>
      this.setQuery({ sort: this._sortSelect.value as SortKey })
    );
    filters.append(this._statusSelect, this._originSelect, this._sortSelect);
    toolbar.append(this._searchInput, filters);

    this._messageNode = doc.createElement('div');
    this._messageNode.className = 'syft-pm-sidebar-message';
    this._messageNode.setAttribute('role', 'status');
    this._messageNode.hidden = true;

    // Content: the list, or one of the states a user meets.
    this._contentNode = doc.createElement('div');
    this._contentNode.className = 'syft-pm-sidebar-content';
    this.list = new ProcessList(doc, {
      portUrl: this._portUrl,
      onAction: (key, action) => void this._onRowAction(key, action),
      onSelect: () => this._selectionChanged.emit(this.selectedName)
    });
    this._stateNode = doc.createElement('div');
    this._stateNode.className = 'syft-pm-state';
    this._contentNode.append(this.list.node, this._stateNode);

    const footer = doc.createElement('footer');
    footer.className = 'syft-pm-sidebar-footer';
    this._versionNode = doc.createElement('span');
    this._versionNode.className = 'syft-pm-server-version';
    this._kernelNode = doc.createElement('span');
    this._kernelNode.className = 'syft-pm-kernel-status';
    footer.append(this._versionNode, this._liveNode, this._kernelNode);

    this.node.append(
      header,
      this._errorNode,
      toolbar,
      this._messageNode,
      this._contentNode,
      footer
    );

    this.fleet.rowsChanged.connect(this._onRowsChanged, this);
    this.fleet.liveChanged.connect(this._onLiveChanged, this);
    this.fleet.serverChannel.statusChanged.connect(this._onChannelStatus, this);
    this._render();
    this._renderList();
  }

  /** The data behind the panel. */
  readonly fleet: ProcessFleet;
  /** The rows. */
  readonly list: ProcessList;

  /**
   * Where the sidebar is: not asked yet, asking, connected, or failed.
   */
  get connection(): ProcessSidebar.ConnectionState {
    return this._connection;
  }

  /**
   * Emitted when `connection` changes.
   */
  get connectionChanged(): ISignal<this, ProcessSidebar.ConnectionState> {
    return this._connectionChanged;
  }

  /** Emitted when the selected row changes (commands update their state). */
  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  /**
   * The version of the server extension, once known.
   */
  get serverVersion(): string | null {
    return this._serverVersion;
  }

  /**
   * The last connection error shown, if any.
   */
  get errorMessage(): string | null {
    return this._errorMessage;
  }

  /**
   * The area below the toolbar where the process list goes.
   */
  get contentNode(): HTMLDivElement {
    return this._contentNode;
  }

  /**
   * The current user settings.
   */
  get settings(): Readonly<ISyftPmSettings> {
    return this._settings;
  }

  /** The list's search, filters and sort. */
  get query(): Readonly<IListQuery> {
    return this._query;
  }

  /** The name of the selected row's process, if any. */
  get selectedName(): string | null {
    const key = this.list.selected;
    return key === null ? null : (this.fleet.row(key)?.name ?? null);
  }

  /** Open detail views, by row key. */
  get details(): ReadonlyMap<string, ProcessDetail> {
    return this._details;
  }

  /**
   * Apply new user settings (live: tick, log lines, notifications).
   */
  updateSettings(settings: ISyftPmSettings): void {
    const old = this._settings;
    this._settings = { ...settings };
    if (this._notifier) {
      this._notifier.enabled = settings.notifications;
    }
    if (old.tick !== settings.tick && this._timer !== null) {
      this._startTimer();
    }
    if (old.logLines !== settings.logLines) {
      for (const detail of this._details.values()) {
        detail.logCapacity = settings.logLines;
      }
    }
  }

  /**
   * Follow the active notebook ("this notebook", its kernel's processes).
   */
  setActiveNotebook(nb: IActiveNotebook | null): void {
    this._originCtx = {
      ...this._originCtx,
      notebookPath: nb?.path ?? null,
      kernelId: nb?.kernel?.id ?? null
    };
    this._activeNotebook = nb;
    this.fleet.setNotebook(nb);
    this._scheduleRender();
  }

  /** Change the search, filters or sort. */
  setQuery(query: Partial<IListQuery>): void {
    this._query = { ...this._query, ...query };
    if (query.text !== undefined && this._searchInput.value !== query.text) {
      this._searchInput.value = query.text;
    }
    if (query.status !== undefined) {
      this._statusSelect.value = query.status;
    }
    if (query.origin !== undefined) {
      this._ensureOriginChoice(query.origin);
      this._originSelect.value = query.origin;
    }
    if (query.sort !== undefined) {
      this._sortSelect.value = query.sort;
    }
    this._scheduleRender();
  }

  /** The row of a process name or row key. */
  resolve(nameOrKey: string | null | undefined): IProcessRow | undefined {
    if (!nameOrKey) {
      const key = this.list.selected;
      return key === null ? undefined : this.fleet.row(key);
    }
    return this.fleet.row(nameOrKey) ?? this.fleet.rowByName(nameOrKey);
  }

  /**
   * The row of a process, waiting up to `timeoutMs` for it to arrive (a
   * command issued right after a start can beat the websocket's delta).
   */
  whenKnown(
    nameOrKey: string | null | undefined,
    timeoutMs = 5000
  ): Promise<IProcessRow | undefined> {
    const row = this.resolve(nameOrKey);
    if (row || !nameOrKey || this.isDisposed) {
      return Promise.resolve(row);
    }
    return new Promise(resolve => {
      const done = (found: IProcessRow | undefined) => {
        clearTimeout(timer);
        this.fleet.rowsChanged.disconnect(check);
        resolve(found);
      };
      const check = () => {
        const found = this.resolve(nameOrKey);
        if (found) {
          done(found);
        }
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.fleet.rowsChanged.connect(check);
    });
  }

  /**
   * Open the detail view of a process on `stream`'s logs, waiting briefly
   * for a process that was only just started.
   */
  async showLogs(
    nameOrKey?: string | null,
    stream?: LogStreamName
  ): Promise<ProcessDetail | null> {
    await this.whenKnown(nameOrKey);
    return this.openDetail(nameOrKey, stream);
  }

  /** Select the row of a process (by name or key). */
  select(nameOrKey: string | null): void {
    const row = nameOrKey === null ? undefined : this.resolve(nameOrKey);
    this.list.select(row ? row.key : null, { focus: true });
  }

  /**
   * Stop, restart or start a process (the selected one by default); shows
   * failures in the panel and rethrows them.
   */
  async perform(
    nameOrKey: string | null | undefined,
    action: Exclude<Action, 'remove'>
  ): Promise<void> {
    const row = await this.whenKnown(nameOrKey);
    if (!row) {
      const error = new Error(`no process ${nameOrKey ?? '(none selected)'}`);
      this._flash(`Could not ${action}: ${error.message}`, true);
      throw error;
    }
    try {
      await this.fleet.perform(row.key, action);
    } catch (error) {
      this._flash(`Could not ${action} ${row.name}: ${errorText(error)}`, true);
      throw error;
    }
  }

  /**
   * Ask, then remove a process (stopping it first if it runs). Resolves to
   * whether it was removed.
   */
  async remove(nameOrKey: string | null | undefined): Promise<boolean> {
    const row = await this.whenKnown(nameOrKey);
    if (!row) {
      return false;
    }
    const running = isUp(row.state.status) || row.state.status === 'starting';
    const confirm = this._options.confirm ?? defaultConfirm;
    const ok = await confirm(
      `Remove ${row.name}?`,
      `${running ? `${row.name} is ${row.state.status}: it will be stopped first. ` : ''}Its registry entry and its logs are deleted; this cannot be undone.`,
      'Remove'
    );
    if (!ok) {
      return false;
    }
    try {
      await this.fleet.perform(row.key, 'remove', { force: running });
    } catch (error) {
      this._flash(`Could not remove ${row.name}: ${errorText(error)}`, true);
      throw error;
    }
    return true;
  }

  /**
   * Open (or reveal) the detail view of a process, on `stream`'s logs.
   */
  openDetail(
    nameOrKey?: string | null,
    stream?: LogStreamName
  ): ProcessDetail | null {
    const row = this.resolve(nameOrKey);
    if (!row) {
      if (nameOrKey) {
        this._flash(`No process named ${nameOrKey}.`, true);
      }
      return null;
    }
    let detail = this._details.get(row.key);
    if (detail && !detail.isDisposed) {
      if (stream) {
        detail.showStream(stream);
      }
    } else {
      detail = this._createDetail(row, stream);
    }
    this.list.select(row.key);
    this._options.addDetail?.(detail);
    return detail;
  }

  /**
   * Ask the server extension for its status again. Resolves when the
   * sidebar shows the answer; never rejects (failures are shown).
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    this._controller?.abort();
    const controller = new AbortController();
    this._controller = controller;
    this._statusPending = true;
    this._updateConnection();
    this._render();
    try {
      const status = await this._fetchStatus(controller.signal);
      if (controller.signal.aborted || this.isDisposed) {
        return;
      }
      if (
        typeof status !== 'object' ||
        status === null ||
        typeof status.version !== 'string'
      ) {
        throw new Error('the status answer has no "version"');
      }
      this._serverVersion = status.version;
      this._errorMessage = null;
    } catch (error) {
      if (controller.signal.aborted || this.isDisposed || isAbortError(error)) {
        return;
      }
      this._errorMessage = describeConnectionError(error);
    } finally {
      if (this._controller === controller) {
        this._controller = null;
        this._statusPending = false;
      }
    }
    this._updateConnection();
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._controller?.abort();
    this._controller = null;
    this._stopTimer();
    if (this._messageTimer !== null) {
      clearTimeout(this._messageTimer);
      this._messageTimer = null;
    }
    this._retryButton.removeEventListener('click', this._onRetry);
    for (const detail of [...this._details.values()]) {
      detail.dispose();
    }
    this.list.dispose();
    if (!this._options.fleet) {
      this.fleet.dispose();
    } else {
      this.fleet.rowsChanged.disconnect(this._onRowsChanged, this);
      this.fleet.liveChanged.disconnect(this._onLiveChanged, this);
      this.fleet.serverChannel.statusChanged.disconnect(
        this._onChannelStatus,
        this
      );
    }
    super.dispose();
    Signal.clearData(this);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this._connection === 'idle') {
      void this.refresh();
      this.fleet.open();
      void this._detectProxy();
    }
    this._startTimer();
  }

  protected onBeforeDetach(msg: Message): void {
    this._stopTimer();
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Opening the panel after a failure is a good moment to try again.
    if (this._connection === 'failed') {
      this._retryNow();
    }
    this._tick();
  }

  // -- connection ------------------------------------------------------------

  private _onRetry = (): void => {
    this._retryNow();
  };

  private _retryNow(): void {
    void this.refresh();
    const channel = this.fleet.serverChannel;
    if (channel.status !== 'open') {
      channel.open();
    }
  }

  private _onChannelStatus(): void {
    const status = this.fleet.serverChannel.status;
    if (status === 'open') {
      const wasLost = this._wsLost;
      this._wsLost = false;
      this._retryAt = null;
      if (
        wasLost ||
        this._errorMessage !== null ||
        (!this._serverVersion && !this._statusPending)
      ) {
        void this.refresh();
      }
    } else if (status === 'closed' && !this.isDisposed) {
      this._wsLost = true;
      // The channel schedules its next attempt right after saying "closed".
      void Promise.resolve().then(() => {
        const retry = (
          this.fleet.serverChannel as { retryInMs?: number | null }
        ).retryInMs;
        this._retryAt = typeof retry === 'number' ? Date.now() + retry : null;
        this._render();
      });
    }
    this._updateConnection();
    this._render();
  }

  private _updateConnection(): void {
    let state: ProcessSidebar.ConnectionState;
    if (this._errorMessage !== null || this._wsLost) {
      state = 'failed';
    } else if (this._serverVersion !== null && !this._statusPending) {
      state = 'connected';
    } else {
      state = 'connecting';
    }
    if (this._connection !== state) {
      this._connection = state;
      this._connectionChanged.emit(state);
    }
  }

  private _onLiveChanged(): void {
    this._render();
    this._scheduleRender();
  }

  private async _detectProxy(): Promise<void> {
    const detect = this._options.detectProxy;
    if (!detect) {
      return;
    }
    const proxy = await detect();
    if (proxy !== this._proxy && !this.isDisposed) {
      this._proxy = proxy;
      // Port links are written when a row's ports change: redraw them all.
      this.list.forget([...this.fleet.rows.keys()]);
      this._scheduleRender();
    }
  }

  /** Whether port links go through jupyter-server-proxy. */
  get usesServerProxy(): boolean {
    return this._proxy;
  }

  /** The URL a port's link opens. */
  portUrl(port: number): string {
    return this._portUrl(port);
  }

  // -- rows ----------------------------------------------------------------------

  private _onRowsChanged(_: ProcessFleet, change: IRowsChange): void {
    if (this._notifier) {
      for (const key of change.changed) {
        const row = this.fleet.row(key);
        if (row) {
          this._notifier.observe(key, row.state, change.initial);
        }
      }
      for (const key of change.removed) {
        this._notifier.forget(key);
      }
    }
    if (change.removed.size) {
      this.list.forget(change.removed);
    }
    this._rowsChanged.emit(change);
    this._scheduleRender();
  }

  /** Re-emitted for detail views. */
  get rowsChanged(): ISignal<this, IRowsChange> {
    return this._rowsChanged;
  }

  private _scheduleRender(): void {
    if (!this._renderScheduled && !this.isDisposed) {
      this._renderScheduled = true;
      this._frame(() => {
        this._renderScheduled = false;
        if (!this.isDisposed) {
          this._renderList();
        }
      });
    }
  }

  private _renderList(): void {
    const t0 = performance.now();
    const all = this.fleet.rows;
    const choices = originChoices(all.values(), this._originCtx);
    this._setOriginChoices(choices);
    const rows = queryRows(all.values(), this._query, this._originCtx);
    this.list.render(rows);
    this.lastRenderMs = performance.now() - t0;
    this.node.dataset.rows = String(rows.length);

    // Summary and states.
    const sum = summarize(all.values());
    this._summaryNode.textContent = sum.total
      ? `${sum.active}/${sum.total} active${sum.problems ? ` \u00b7 ${sum.problems} problem${sum.problems === 1 ? '' : 's'}` : ''}`
      : '';
    this._summaryNode.title = `${sum.total} processes: ${sum.active} active, ${sum.problems} failed or unhealthy`;
    this._summaryNode.classList.toggle(
      'syft-pm-mod-problems',
      sum.problems > 0
    );
    this._renderState(all.size, rows.length);
    this._renderKernel();
  }

  /** Milliseconds the last list render took (benchmarks). */
  lastRenderMs = 0;

  private _renderState(total: number, shown: number): void {
    const doc = this.node.ownerDocument;
    const node = this._stateNode;
    let state: string;
    if (total > 0 && shown === 0) {
      state = 'nomatch';
    } else if (total > 0) {
      state = 'list';
    } else if (this.fleet.serverStore.live || this.fleet.kernelLive) {
      state = 'empty';
    } else if (this._connection === 'failed') {
      state = 'offline';
    } else {
      state = 'loading';
    }
    this.node.dataset.state = state;
    if (this._shownState === state) {
      return;
    }
    this._shownState = state;
    node.textContent = '';
    node.className = `syft-pm-state syft-pm-state-${state}`;
    node.hidden = state === 'list';
    switch (state) {
      case 'nomatch': {
        const p = doc.createElement('p');
        p.textContent = 'No process matches the search and filters.';
        const clear = doc.createElement('button');
        clear.type = 'button';
        clear.className = 'jp-mod-styled syft-pm-clear-filters';
        clear.textContent = 'Clear filters';
        clear.addEventListener('click', () =>
          this.setQuery({ ...DEFAULT_QUERY, sort: this._query.sort })
        );
        node.append(p, clear);
        break;
      }
      case 'empty': {
        node.classList.add('syft-pm-empty');
        const title = doc.createElement('p');
        title.className = 'syft-pm-empty-title';
        title.textContent = 'No processes yet';
        const p = doc.createElement('p');
        p.textContent =
          'Start a long-running process from a notebook cell; it keeps running when the kernel restarts and shows up here, with its logs.';
        const pre = doc.createElement('pre');
        pre.className = 'syft-pm-snippet';
        const code = doc.createElement('code');
        code.textContent = START_SNIPPET;
        pre.appendChild(code);
        const copy = iconButton(
          doc,
          'copy',
          'Copy the snippet',
          'syft-pm-copy-snippet'
        );
        copy.addEventListener('click', () => {
          void this._copy(START_SNIPPET).then(
            () => this._flash('Snippet copied.'),
            error => this._flash(`Copy failed: ${errorText(error)}`, true)
          );
        });
        const wrap = doc.createElement('div');
        wrap.className = 'syft-pm-snippet-wrap';
        wrap.append(pre, copy);
        const cli = doc.createElement('p');
        cli.className = 'syft-pm-empty-cli';
        cli.append('From a terminal: ');
        const c = doc.createElement('code');
        c.textContent = 'syft-pm run web -- python -m http.server 8000';
        cli.appendChild(c);
        node.append(title, p, wrap, cli);
        break;
      }
      case 'offline': {
        const p = doc.createElement('p');
        p.textContent =
          'No process list yet: the server extension cannot be reached (see above). It is retried automatically.';
        node.appendChild(p);
        break;
      }
      case 'loading': {
        const p = doc.createElement('p');
        p.textContent = 'Loading processes\u2026';
        node.appendChild(p);
        break;
      }
    }
  }

  private _renderKernel(): void {
    const nb = this._activeNotebook;
    let text = '';
    let title = '';
    if (nb && this.fleet.kernelLive) {
      let only = 0;
      let mine = 0;
      for (const row of this.fleet.rows.values()) {
        if (row.source === 'kernel') {
          only += 1;
        }
        if (isFromActiveNotebook(row, this._originCtx)) {
          mine += 1;
        }
      }
      const name = nb.path.split('/').pop();
      text = `${name}: ${mine} here${only ? `, ${only} only in its kernel` : ''}`;
      title = `The kernel of ${nb.path} reports its processes too${only ? `; ${only} of them use a registry the server does not see` : ''}.`;
    } else if (nb) {
      const name = nb.path.split('/').pop();
      text = `${name}`;
      title = `${nb.path}: its kernel has not imported syft_pm (or has no kernel).`;
    }
    if (this._kernelNode.textContent !== text) {
      this._kernelNode.textContent = text;
      this._kernelNode.title = title;
    }
  }

  private _setOriginChoices(choices: { value: string; label: string }[]): void {
    const signature = choices.map(c => c.value).join('\n');
    if (signature === this._originSignature) {
      return;
    }
    this._originSignature = signature;
    const current = this._query.origin;
    fillSelect(this._originSelect, choices);
    if (!choices.some(c => c.value === current)) {
      this._ensureOriginChoice(current);
    }
    this._originSelect.value = current;
  }

  private _ensureOriginChoice(value: string): void {
    const options = [...this._originSelect.options];
    if (!options.some(o => o.value === value)) {
      const doc = this.node.ownerDocument;
      const option = doc.createElement('option');
      option.value = value;
      option.textContent = value.replace(/^(notebook|kernel):/, '');
      this._originSelect.appendChild(option);
    }
  }

  private async _onRowAction(key: string, action: RowAction): Promise<void> {
    if (action === 'open') {
      this.openDetail(key);
      return;
    }
    try {
      await this.perform(key, action);
    } catch {
      // Shown by perform().
    }
  }

  private _createDetail(
    row: IProcessRow,
    stream?: LogStreamName
  ): ProcessDetail {
    const key = row.key;
    const name = row.name;
    const fleet = this.fleet;
    const kernel = this._activeNotebook?.kernel ?? null;
    const controller: IDetailController = {
      row: k => fleet.row(k),
      rowsChanged: this._rowsChanged,
      perform: (k, action) => this.perform(k, action),
      remove: k => this.remove(k),
      info: k => fleet.info(k),
      openNotebook: path => this._options.openPath?.(path),
      serverRoot: this._originCtx.serverRoot
    };
    const createLogSource = () =>
      row.source === 'kernel' && kernel
        ? new KernelLogSource(name, kernel, this._settings.logLines)
        : new RestLogSource(name, fleet.api, {
            channel: this._options.logChannel
              ? this._options.logChannel(name)
              : undefined
          });
    const detail = new ProcessDetail({
      key,
      name,
      controller,
      portUrl: this._portUrl,
      logCapacity: this._settings.logLines,
      createLogSource,
      stream,
      copy: this._options.copy,
      requestFrame: this._options.requestFrame
    });
    detail.id = detailId(key);
    if (this._options.detailIcon !== undefined) {
      detail.title.icon = this._options.detailIcon;
    } else {
      detail.title.icon = processIcon;
    }
    this._details.set(key, detail);
    detail.disposed.connect(() => {
      if (this._details.get(key) === detail) {
        this._details.delete(key);
      }
    });
    return detail;
  }

  // -- clock -----------------------------------------------------------------------

  private _startTimer(): void {
    this._stopTimer();
    this._timer = setInterval(() => this._tick(), this._settings.tick);
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  /** Whether the panel's timer runs (tests). */
  get ticking(): boolean {
    return this._timer !== null;
  }

  private _tick(): void {
    const now = Date.now();
    if (this.isVisible) {
      this.list.tick(now);
    }
    for (const detail of this._details.values()) {
      if (detail.isVisible) {
        detail.tick(now);
      }
    }
    if (this._retryAt !== null) {
      this._renderRetry(now);
    }
  }

  // -- rendering -----------------------------------------------------------------

  private _render(): void {
    const state = this._connection;
    this.node.dataset.connection = state;
    const live = this.fleet.serverStore.live;
    this.node.dataset.live = String(live);

    const failed = state === 'failed';
    this._errorNode.hidden = !failed;
    let message = '';
    if (this._errorMessage !== null) {
      message = this._errorMessage;
    } else if (this._wsLost) {
      message = this._serverVersion
        ? 'Lost the connection to the syft_pm server extension (is the Jupyter server running?). The list below may be out of date.'
        : 'Cannot connect to the syft_pm server extension (is the Jupyter server running?).';
    }
    if (failed && this.fleet.kernelLive) {
      message +=
        ' Meanwhile the list shows what the active notebook\u2019s kernel reports.';
    }
    this._errorMessageNode.textContent = failed ? message : '';
    this._retryButton.disabled = this._statusPending;
    this._renderRetry(Date.now());

    const version = this._versionNode;
    if (this._serverVersion !== null && state !== 'failed') {
      version.hidden = false;
      version.textContent = `syft_pm server ${this._serverVersion}`;
    } else if (state === 'connecting' || state === 'idle') {
      version.hidden = false;
      version.textContent = 'Connecting to the syft_pm server\u2026';
    } else {
      version.hidden = true;
      version.textContent = '';
    }
    this._liveNode.textContent = live ? 'live' : '';
    this._liveNode.title = live
      ? 'Updates arrive as they happen'
      : 'Not receiving updates';
    if (this._shownState === 'loading' || this._shownState === 'offline') {
      this._renderState(this.fleet.rows.size, this.list.keys.length);
    }
  }

  private _renderRetry(now: number): void {
    const channel = this.fleet.serverChannel;
    let text = '';
    if (this._wsLost || this._errorMessage !== null) {
      if (channel.status === 'connecting') {
        text = 'Reconnecting\u2026';
      } else if (this._retryAt !== null) {
        const s = Math.max(0, Math.ceil((this._retryAt - now) / 1000));
        text = s > 0 ? `Retrying in ${s} s.` : 'Retrying\u2026';
      }
    }
    if (this._retryNode.textContent !== text) {
      this._retryNode.textContent = text;
    }
  }

  private _flash(text: string, error = false): void {
    const node = this._messageNode;
    node.textContent = text;
    node.hidden = false;
    node.classList.toggle('syft-pm-mod-error', error);
    if (this._messageTimer !== null) {
      clearTimeout(this._messageTimer);
    }
    this._messageTimer = setTimeout(
      () => {
        this._messageTimer = null;
        node.hidden = true;
        node.textContent = '';
      },
      error ? 10_000 : 3000
    );
  }

  private _copy(text: string): Promise<void> {
    const copy = this._options.copy;
    if (copy) {
      return Promise.resolve(copy(text));
    }
    return navigator.clipboard.writeText(text);
  }

  private _options: ProcessSidebar.IOptions;
  private _fetchStatus: StatusFetcher;
  private _settings: ISyftPmSettings;
  private _frame: (cb: () => void) => number;
  private _notifier: ProcessNotifier | null;
  private _portUrl: PortUrl;
  private _proxy = false;
  private _controller: AbortController | null = null;
  private _statusPending = false;
  private _wsLost = false;
  private _retryAt: number | null = null;
  private _connection: ProcessSidebar.ConnectionState = 'idle';
  private _connectionChanged = new Signal<this, ProcessSidebar.ConnectionState>(
    this
  );
  private _selectionChanged = new Signal<this, string | null>(this);
  private _rowsChanged = new Signal<this, IRowsChange>(this);
  private _serverVersion: string | null = null;
  private _errorMessage: string | null = null;
  private _query: IListQuery = { ...DEFAULT_QUERY };
  private _originCtx: IOriginContext;
  private _originSignature = '';
  private _activeNotebook: IActiveNotebook | null = null;
  private _renderScheduled = false;
  private _shownState = '';
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _messageTimer: ReturnType<typeof setTimeout> | null = null;
  private _details = new Map<string, ProcessDetail>();
  private _errorNode: HTMLDivElement;
  private _errorMessageNode: HTMLParagraphElement;
  private _retryNode: HTMLParagraphElement;
  private _retryButton: HTMLButtonElement;
  private _summaryNode: HTMLSpanElement;
  private _liveNode: HTMLSpanElement;
  private _searchInput: HTMLInputElement;
  private _statusSelect: HTMLSelectElement;
  private _originSelect: HTMLSelectElement;
  private _sortSelect: HTMLSelectElement;
  private _messageNode: HTMLDivElement;
  private _contentNode: HTMLDivElement;
  private _stateNode: HTMLDivElement;
  private _versionNode: HTMLSpanElement;
  private _kernelNode: HTMLSpanElement;
}

function select(
  doc: Document,
  className: string,
  label: string,
  choices: readonly { value: string; label: string }[]
): HTMLSelectElement {
  const el = doc.createElement('select');
  el.className = `${className} jp-mod-styled`;
  el.setAttribute('aria-label', label);
  el.title = label;
  fillSelect(el, choices);
  return el;
}

function fillSelect(
  el: HTMLSelectElement,
  choices: readonly { value: string; label: string }[]
): void {
  const doc = el.ownerDocument;
  el.textContent = '';
  for (const choice of choices) {
    const option = doc.createElement('option');
    option.value = choice.value;
    option.textContent = choice.label;
    el.appendChild(option);
  }
}

async function defaultConfirm(title: string, body: string): Promise<boolean> {
  return typeof window !== 'undefined' && window.confirm(`${title}\n\n${body}`);
}

/**
 * The statics of `ProcessSidebar`.
 */
export namespace ProcessSidebar {
  export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'failed';

  export interface IOptions {
    /**
     * Replace the status request (tests).
     */
    fetchStatus?: StatusFetcher;
    /**
     * Initial settings; defaults otherwise.
     */
    settings?: Partial<ISyftPmSettings>;
    /** The data source (tests pass one with fake channels). */
    fleet?: ProcessFleet;
    /** Ask the user to confirm (the app passes a JupyterLab dialog). */
    confirm?: (title: string, body: string, ok: string) => Promise<boolean>;
    /** Notifications (the app passes JupyterLab's Notification API). */
    notifier?: INotifier;
    /** Open a file by its JupyterLab path (the app runs `docmanager:open`). */
    openPath?: (path: string) => void;
    /** Show a detail view (the app adds it to the main area). */
    addDetail?: (detail: ProcessDetail) => void;
    /** Whether jupyter-server-proxy is there (port links). */
    detectProxy?: () => Promise<boolean>;
    /** The server's base URL (port links through the proxy). */
    baseUrl?: string;
    /** The host name of port links without the proxy. */
    hostname?: string;
    /** The server's root directory (notebook paths of origins). */
    serverRoot?: string | null;
    /** Put text on the clipboard. */
    copy?: (text: string) => Promise<void> | void;
    /** Schedule a render (tests pass a synchronous one). */
    requestFrame?: (cb: () => void) => number;
    /** The log doorbell channel of a detail view (tests). */
    logChannel?: (name: string) => import('./channel').IChannel | null;
    /** The icon of detail tabs. */
    detailIcon?: ProcessDetail['title']['icon'];
  }
}
