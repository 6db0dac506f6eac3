/**
 * The Process Manager sidebar: every managed process on this host, live.
 *
 * Plain DOM on a Lumino widget. Data comes from a `ProcessFleet` (the server
 * extension's websocket, plus the comm of the active notebook's kernel for
 * processes the server does not see); the list (`ProcessList`) re-renders
 * only changed rows, batched per animation frame. One timer per panel ticks
 * uptimes and the reconnect countdown. Details and logs of a process open in
 * a main-area tab (`ProcessDetail`).
 *
 * This module is the widget: its lifecycle, its settings, what it does when
 * the fleet or the connection changes, and the API the commands use. Its
 * parts: the DOM, the query and the rendering (`sidebarView.ts`), the
 * connection to the server extension (`extensionConnection.ts`), acting on
 * processes (`processActions.ts`) and the detail views (`detailViews.ts`).
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { IChannel } from '../live/channel';
import { ProcessDetail } from './detail/processDetail';
import { processIcon } from './processIcon';
import { INotifier, ProcessNotifier } from './notifications';
import { ProcessFleet, IActiveNotebook, IRowsChange } from './processFleet';
import { PortUrl, portUrl as makePortUrl } from './ports';
import { ProcessList, RowAction } from './processList';
import { Action, LogStreamName } from '../live/protocol';
import { DEFAULT_SETTINGS, ISyftPmSettings } from '../ui/settings';
import { ProcessActions } from './processActions';
import {
  fetchServerStatus,
  ExtensionConnection,
  StatusFetcher
} from './extensionConnection';
import { DetailViews } from './detailViews';
import { SidebarView } from './sidebarView';
import { IListQuery, IProcessRow } from './model';

export { describeConnectionError } from './extensionConnection';
export type { StatusFetcher } from './extensionConnection';
export { START_SNIPPET } from './sidebarStates';

/**
 * The id of the sidebar widget (also its layout-restorer name).
 */
export const SIDEBAR_ID = 'syft-pm-sidebar';

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
    this._settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this._options = options;
    this.fleet = options.fleet ?? new ProcessFleet();
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
    this._actions = new ProcessActions({
      fleet: this.fleet,
      selected: () => this.list.selected,
      isDisposed: () => this.isDisposed,
      flash: (text, error) => this._view.flash.show(text, error),
      confirm: options.confirm
    });
    this._details = new DetailViews(this, options);
    this._connection = new ExtensionConnection(
      this.fleet.serverChannel,
      options.fetchStatus ?? fetchServerStatus
    );
    this._view = new SidebarView(this.node, {
      fleet: this.fleet,
      connection: this._connection,
      serverRoot: options.serverRoot ?? null,
      isDisposed: () => this.isDisposed,
      requestFrame: options.requestFrame,
      portUrl: this._portUrl,
      onRetry: this._onRetry,
      onRowAction: (key, action) => void this._onRowAction(key, action),
      onSelect: () => this._selectionChanged.emit(this.selectedName),
      copy: text => this._copy(text)
    });
    this.list = this._view.list;

    this.fleet.rowsChanged.connect(this._onRowsChanged, this);
    this.fleet.liveChanged.connect(this._onLiveChanged, this);
    this._connection.stateChanged.connect(
      (_, state) => this._connectionChanged.emit(state),
      this
    );
    this._connection.changed.connect(this._render, this);
    this._render();
    this._view.renderList();
  }

  /** The data behind the panel. */
  readonly fleet: ProcessFleet;
  /** The rows. */
  readonly list: ProcessList;

  /** Where the sidebar is: not asked yet, asking, connected, or failed. */
  get connection(): ProcessSidebar.ConnectionState {
    return this._connection.state;
  }

  /** Emitted when `connection` changes. */
  get connectionChanged(): ISignal<this, ProcessSidebar.ConnectionState> {
    return this._connectionChanged;
  }

  /** Emitted when the selected row changes (commands update their state). */
  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  /** Re-emitted for detail views. */
  get rowsChanged(): ISignal<this, IRowsChange> {
    return this._rowsChanged;
  }

  /** The version of the server extension, once known. */
  get serverVersion(): string | null {
    return this._connection.serverVersion;
  }

  /** The last connection error shown, if any. */
  get errorMessage(): string | null {
    return this._connection.errorMessage;
  }

  /** The area below the toolbar where the process list goes. */
  get contentNode(): HTMLDivElement {
    return this._view.contentNode;
  }

  /** The current user settings. */
  get settings(): Readonly<ISyftPmSettings> {
    return this._settings;
  }

  /** The active notebook the sidebar follows, if any. */
  get activeNotebook(): IActiveNotebook | null {
    return this._view.activeNotebook;
  }

  /** The list's search, filters and sort. */
  get query(): Readonly<IListQuery> {
    return this._view.query;
  }

  /** The name of the selected row's process, if any. */
  get selectedName(): string | null {
    const key = this.list.selected;
    return key === null ? null : (this.fleet.row(key)?.name ?? null);
  }

  /** Open detail views, by row key. */
  get details(): ReadonlyMap<string, ProcessDetail> {
    return this._details.views;
  }

  /** Whether port links go through jupyter-server-proxy. */
  get usesServerProxy(): boolean {
    return this._proxy;
  }

  /** The URL a port's link opens. */
  portUrl(port: number): string {
    return this._portUrl(port);
  }

  /** Whether the panel's timer runs (tests). */
  get ticking(): boolean {
    return this._timer !== null;
  }

  /** Milliseconds the last list render took (benchmarks). */
  get lastRenderMs(): number {
    return this._view.lastRenderMs;
  }

  /** Apply new user settings (live: tick, log lines, notifications). */
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
      this._details.logCapacity = settings.logLines;
    }
  }

  /** Follow the active notebook ("this notebook", its kernel's processes). */
  setActiveNotebook(nb: IActiveNotebook | null): void {
    this._view.setNotebook(nb);
    this.fleet.setNotebook(nb);
    this._view.scheduleRender();
  }

  /** Change the search, filters or sort. */
  setQuery(query: Partial<IListQuery>): void {
    this._view.setQuery(query);
  }

  /** The row of a process name or row key (the selected row by default). */
  resolve(nameOrKey: string | null | undefined): IProcessRow | undefined {
    return this._actions.resolve(nameOrKey);
  }

  /** The row of a process, waiting up to `timeoutMs` for it to arrive. */
  whenKnown(
    nameOrKey: string | null | undefined,
    timeoutMs = 5000
  ): Promise<IProcessRow | undefined> {
    return this._actions.whenKnown(nameOrKey, timeoutMs);
  }

  /** Stop, restart or start a process (shows failures, rethrows them). */
  perform(
    nameOrKey: string | null | undefined,
    action: Exclude<Action, 'remove'>
  ): Promise<void> {
    return this._actions.perform(nameOrKey, action);
  }

  /** Ask, then remove a process; resolves to whether it was removed. */
  remove(nameOrKey: string | null | undefined): Promise<boolean> {
    return this._actions.remove(nameOrKey);
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

  /** Open (or reveal) the detail view of a process, on `stream`'s logs. */
  openDetail(
    nameOrKey?: string | null,
    stream?: LogStreamName
  ): ProcessDetail | null {
    const detail = this._details.open(nameOrKey, stream);
    if (!detail && nameOrKey) {
      this._view.flash.show(`No process named ${nameOrKey}.`, true);
    }
    return detail;
  }

  /**
   * Ask the server extension for its status again. Resolves when the
   * sidebar shows the answer; never rejects (failures are shown).
   */
  refresh(): Promise<void> {
    return this._connection.refresh();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._connection.abort();
    this._stopTimer();
    this._details.dispose();
    this._view.dispose();
    if (!this._options.fleet) {
      this.fleet.dispose();
    } else {
      this.fleet.rowsChanged.disconnect(this._onRowsChanged, this);
      this.fleet.liveChanged.disconnect(this._onLiveChanged, this);
    }
    this._connection.dispose();
    super.dispose();
    Signal.clearData(this);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this._connection.state === 'idle') {
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
    if (this._connection.state === 'failed') {
      this._connection.retryNow();
    }
    this._tick();
  }

  private _onRetry = (): void => {
    this._connection.retryNow();
  };

  private _onLiveChanged(): void {
    this._render();
    this._view.scheduleRender();
  }

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
    this._view.scheduleRender();
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
      this._view.scheduleRender();
    }
  }

  private _copy(text: string): Promise<void> {
    const copy = this._options.copy;
    if (copy) {
      return Promise.resolve(copy(text));
    }
    return navigator.clipboard.writeText(text);
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

  private _tick(): void {
    const now = Date.now();
    if (this.isVisible) {
      this.list.tick(now);
    }
    this._details.tick(now);
    if (this._connection.retryAt !== null) {
      this._view.renderRetry(now);
    }
  }

  // -- rendering -----------------------------------------------------------------

  private _render(): void {
    this._view.renderConnection();
  }

  private _options: ProcessSidebar.IOptions;
  private _settings: ISyftPmSettings;
  private _notifier: ProcessNotifier | null;
  private _portUrl: PortUrl;
  private _proxy = false;
  private _connection: ExtensionConnection;
  private _actions: ProcessActions;
  private _details: DetailViews;
  private _view: SidebarView;
  private _connectionChanged = new Signal<this, ProcessSidebar.ConnectionState>(
    this
  );
  private _selectionChanged = new Signal<this, string | null>(this);
  private _rowsChanged = new Signal<this, IRowsChange>(this);
  private _timer: ReturnType<typeof setInterval> | null = null;
}

/**
 * The statics of `ProcessSidebar`.
 */
export namespace ProcessSidebar {
  export type ConnectionState = ExtensionConnection.State;

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
    logChannel?: (name: string) => IChannel | null;
    /** The icon of detail tabs. */
    detailIcon?: ProcessDetail['title']['icon'];
  }
}
