/**
 * The sidebar's DOM, top to bottom, and how it renders: header, connection
 * banner, toolbar, message line, the list (or a state in its place), footer.
 *
 * It holds what the list is filtered by (the query and the active notebook)
 * and renders the list at most once per animation frame; it reads the fleet
 * and the connection, and the sidebar tells it when they changed.
 */
import { ProcessFleet, IActiveNotebook } from './processFleet';
import { PortUrl } from './ports';
import { ProcessList, RowAction } from './processList';
import { FlashMessage, SidebarFooter, SidebarHeader } from './chrome';
import { ConnectionBanner, ExtensionConnection } from './extensionConnection';
import {
  DEFAULT_QUERY,
  IListQuery,
  IOriginContext,
  originChoices,
  queryRows
} from './model';
import { contentState, SidebarStates } from './sidebarStates';
import { SidebarToolbar } from './sidebarToolbar';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class SidebarView {
  constructor(node: HTMLElement, options: SidebarView.IOptions) {
    this._node = node;
    this._fleet = options.fleet;
    this._connection = options.connection;
    this._isDisposed = options.isDisposed;
    this._frame =
      options.requestFrame ??
      (typeof requestAnimationFrame === 'function'
        ? (cb: () => void) => requestAnimationFrame(cb)
        : (cb: () => void) => setTimeout(cb, 16) as unknown as number);
    this._originCtx = {
      notebookPath: null,
      kernelId: null,
      serverRoot: options.serverRoot
    };
    const doc = node.ownerDocument;
    this._header = new SidebarHeader(doc);
    this._banner = new ConnectionBanner(doc, options.onRetry);
    this._toolbar = new SidebarToolbar(doc, {
      origins: originChoices([], this._originCtx),
      onChange: query => this.setQuery(query)
    });
    this.flash = new FlashMessage(doc);

    // Content: the list, or one of the states a user meets.
    this.contentNode = doc.createElement('div');
    this.contentNode.className = 'syft-pm-sidebar-content';
    this.list = new ProcessList(doc, {
      portUrl: options.portUrl,
      onAction: options.onRowAction,
      onSelect: options.onSelect
    });
    this._states = new SidebarStates(doc, {
      clearFilters: () =>
        this.setQuery({ ...DEFAULT_QUERY, sort: this._query.sort }),
      copySnippet: text => {
        void options.copy(text).then(
          () => this.flash.show('Snippet copied.'),
          error => this.flash.show(`Copy failed: ${errorText(error)}`, true)
        );
      }
    });
    this.contentNode.append(this.list.node, this._states.node);
    this._footer = new SidebarFooter(doc);

    node.append(
      this._header.node,
      this._banner.node,
      this._toolbar.node,
      this.flash.node,
      this.contentNode,
      this._footer.node
    );
  }

  /** The rows. */
  readonly list: ProcessList;
  /** The area below the toolbar where the process list goes. */
  readonly contentNode: HTMLDivElement;
  /** The message line. */
  readonly flash: FlashMessage;

  /** The list's search, filters and sort. */
  get query(): Readonly<IListQuery> {
    return this._query;
  }

  /** The active notebook, if any. */
  get activeNotebook(): IActiveNotebook | null {
    return this._activeNotebook;
  }

  /** Milliseconds the last list render took (benchmarks). */
  get lastRenderMs(): number {
    return this._lastRenderMs;
  }

  /** Change the search, filters or sort (the toolbar shows it). */
  setQuery(query: Partial<IListQuery>): void {
    this._query = { ...this._query, ...query };
    this._toolbar.show(query);
    this.scheduleRender();
  }

  /** Follow the active notebook ("this notebook" of the origin filter). */
  setNotebook(nb: IActiveNotebook | null): void {
    this._originCtx = {
      ...this._originCtx,
      notebookPath: nb?.path ?? null,
      kernelId: nb?.kernel?.id ?? null
    };
    this._activeNotebook = nb;
  }

  /** Render the list in the next animation frame (once). */
  scheduleRender(): void {
    if (!this._renderScheduled && !this._isDisposed()) {
      this._renderScheduled = true;
      this._frame(() => {
        this._renderScheduled = false;
        if (!this._isDisposed()) {
          this.renderList();
        }
      });
    }
  }

  /** The list, the summary, the state and the kernel line. */
  renderList(): void {
    const t0 = performance.now();
    const all = this._fleet.rows;
    const choices = originChoices(all.values(), this._originCtx);
    this._toolbar.setOriginChoices(choices, this._query.origin);
    const rows = queryRows(all.values(), this._query, this._originCtx);
    this.list.render(rows);
    this._lastRenderMs = performance.now() - t0;
    this._node.dataset.rows = String(rows.length);

    // Summary and states.
    this._header.renderSummary(all.values());
    this._renderState(all.size, rows.length);
    this._footer.renderKernel(
      this._activeNotebook,
      this._fleet.kernelLive,
      this._fleet.rows.values(),
      this._originCtx
    );
  }

  /** What depends on the connection: data attributes, banner, footer. */
  renderConnection(): void {
    const connection = this._connection;
    this._node.dataset.connection = connection.state;
    const live = this._fleet.serverStore.live;
    this._node.dataset.live = String(live);
    this._banner.render(connection, this._fleet.kernelLive, Date.now());
    this._footer.renderServer(connection.state, connection.serverVersion, live);
    const shown = this._states.shown;
    if (shown === 'loading' || shown === 'offline') {
      this._renderState(this._fleet.rows.size, this.list.keys.length);
    }
  }

  /** The reconnect countdown (ticks). */
  renderRetry(now: number): void {
    this._banner.renderRetry(this._connection, now);
  }

  dispose(): void {
    this.flash.dispose();
    this._banner.dispose();
    this.list.dispose();
  }

  private _renderState(total: number, shown: number): void {
    const state = contentState(
      total,
      shown,
      this._fleet.serverStore.live || this._fleet.kernelLive,
      this._connection.state === 'failed'
    );
    this._node.dataset.state = state;
    this._states.show(state);
  }

  private _node: HTMLElement;
  private _fleet: ProcessFleet;
  private _connection: ExtensionConnection;
  private _isDisposed: () => boolean;
  private _frame: (cb: () => void) => number;
  private _query: IListQuery = { ...DEFAULT_QUERY };
  private _originCtx: IOriginContext;
  private _activeNotebook: IActiveNotebook | null = null;
  private _renderScheduled = false;
  private _lastRenderMs = 0;
  private _header: SidebarHeader;
  private _banner: ConnectionBanner;
  private _toolbar: SidebarToolbar;
  private _states: SidebarStates;
  private _footer: SidebarFooter;
}

export namespace SidebarView {
  export interface IOptions {
    fleet: ProcessFleet;
    connection: ExtensionConnection;
    /** The server's root directory (notebook paths of origins). */
    serverRoot: string | null;
    /** Whether the sidebar is gone (nothing is rendered then). */
    isDisposed: () => boolean;
    /** Schedule a render (default: the next animation frame). */
    requestFrame?: (cb: () => void) => number;
    portUrl: PortUrl;
    /** The banner's Retry button. */
    onRetry: () => void;
    /** A row's button or double click. */
    onRowAction: (key: string, action: RowAction) => void;
    /** The selected row changed. */
    onSelect: () => void;
    /** Put text on the clipboard (the empty state's snippet). */
    copy: (text: string) => Promise<void>;
  }
}
