/**
 * The sidebar's data: every process the server extension sees (its
 * websocket), merged with the processes of the active notebook's kernel that
 * the server does not see (the kernel's comm), as rows keyed for the view.
 *
 * DOM-free. Each message yields the set of row keys that changed (by state
 * identity: the stores replace a state object when it changes), so the list
 * re-renders only those rows.
 */
import { Kernel } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IChannel } from '../live/channel';
import { KernelChannel } from '../live/kernelChannel';
import { LiveConnection } from '../live/liveConnection';
import { ServerChannel } from '../live/serverChannel';
import { Action } from '../live/protocol';
import { ApiCall, getProcess, pageApi, runAction } from '../live/request';
import { IProcessRow, KERNEL_KEY_PREFIX, mergeRows, RowSource } from './model';
import { IStoreChange, ProcessStore } from '../live/processStore';

/**
 * What changed in the rows.
 */
export interface IRowsChange {
  /** A snapshot arrived: every row may have changed. */
  reset: boolean;
  /** The first data of a source: states to remember, not to notify about. */
  initial: boolean;
  changed: ReadonlySet<string>;
  removed: ReadonlySet<string>;
}

/**
 * The active notebook as far as the fleet cares.
 */
export interface IActiveNotebook {
  path: string;
  kernel: Kernel.IKernelConnection | null;
}

/**
 * Builds the comm channel of a kernel (tests pass a fake).
 */
export type KernelChannelFactory = (
  kernel: Kernel.IKernelConnection
) => IChannel;

const defaultKernelChannel: KernelChannelFactory = kernel =>
  new KernelChannel(kernel, { logs: false, logLines: 0 });

/** The least time between two attempts to open a kernel's comm. */
const KERNEL_RETRY_MS = 2000;

export class ProcessFleet implements IDisposable {
  constructor(options: ProcessFleet.IOptions = {}) {
    this.serverChannel =
      options.serverChannel ?? new ServerChannel({ logs: false });
    this._api = options.api ?? pageApi;
    this._kernelChannelFactory = options.kernelChannel ?? defaultKernelChannel;
    this._server = new LiveConnection(this.serverStore, this.serverChannel);
    this.serverStore.changed.connect(this._onServerChange, this);
    this.serverStore.liveChanged.connect(this._onLiveChanged, this);
  }

  /** The server extension's websocket. */
  readonly serverChannel: IChannel;
  /** What the server extension sent. */
  readonly serverStore = new ProcessStore({ logLines: 1 });

  /** Emitted after the rows changed. */
  get rowsChanged(): ISignal<this, IRowsChange> {
    return this._rowsChanged;
  }

  /** Emitted when a source turns live or not live. */
  get liveChanged(): ISignal<this, void> {
    return this._liveChanged;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Every row, in no particular order. */
  get rows(): ReadonlyMap<string, IProcessRow> {
    return this._rows;
  }

  /** The kernel comm of the active notebook, if any. */
  get kernelChannel(): IChannel | null {
    return this._kernel?.channel ?? null;
  }

  /** What the active notebook's kernel sent, if anything. */
  get kernelStore(): ProcessStore | null {
    return this._kernel?.store ?? null;
  }

  /** Whether the kernel's comm is live (syft_pm imported in it). */
  get kernelLive(): boolean {
    return this._kernel?.store.live ?? false;
  }

  row(key: string): IProcessRow | undefined {
    return this._rows.get(key);
  }

  /**
   * The row of a process name: the server's row, else a kernel-only one.
   */
  rowByName(name: string): IProcessRow | undefined {
    return this._rows.get(name) ?? this._rows.get(KERNEL_KEY_PREFIX + name);
  }

  /** Start listening to the server. */
  open(): void {
    this.serverChannel.open();
  }

  /**
   * Follow the active notebook: a new kernel gets its own comm channel.
   */
  setNotebook(nb: IActiveNotebook | null): void {
    const kernel = nb?.kernel ?? null;
    if (this._kernel && this._kernel.kernel === kernel) {
      return;
    }
    this._disposeKernel();
    if (kernel && !kernel.isDisposed) {
      this._kernel = new KernelLink(
        kernel,
        this._kernelChannelFactory(kernel),
        () => this._recompute(false, true)
      );
      this._kernel.live.connect(() => this._liveChanged.emit());
      this._kernel.channel.open();
    }
    this._recompute(false, false);
  }

  /**
   * Carry out an action: through the server extension for its rows (works
   * while every kernel is busy or dead), through the kernel's comm otherwise.
   */
  async perform(
    key: string,
    action: Action,
    args: { force?: boolean; timeout?: number } = {}
  ): Promise<void> {
    const row = this._rows.get(key);
    if (!row) {
      throw new Error(`no process ${key.replace(KERNEL_KEY_PREFIX, '')}`);
    }
    if (row.source === 'kernel') {
      if (!this._kernel) {
        throw new Error('the kernel that reported it is gone');
      }
      await this._kernel.connection.action(action, row.name, args);
      return;
    }
    await runAction(action, row.name, args, this._api);
  }

  /**
   * Everything `info()` knows about a server row (null for a kernel row:
   * the server cannot read its registry).
   */
  async info(key: string): Promise<Record<string, unknown> | null> {
    const row = this._rows.get(key);
    if (!row || row.source !== 'server') {
      return null;
    }
    return getProcess(row.name, this._api);
  }

  /** The API call this fleet uses (the log view shares it). */
  get api(): ApiCall {
    return this._api;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._disposeKernel();
    this._server.dispose();
    this.serverChannel.dispose();
    Signal.clearData(this);
  }

  private _onServerChange(_: ProcessStore, change: IStoreChange): void {
    const initial = change.reset && !this._serverSeen;
    this._serverSeen = this._serverSeen || change.reset;
    this._recompute(change.reset, initial);
  }

  private _onLiveChanged(): void {
    this._liveChanged.emit();
  }

  /**
   * Recompute the merged rows and emit what changed (by state identity).
   */
  private _recompute(reset: boolean, initial: boolean): void {
    const server = this.serverStore;
    const k = this._kernel;
    const kernelStore = k && k.store.live ? k.store : null;
    const merged = mergeRows(
      {
        registryId: server.registryId,
        clockOffset: server.clockOffset,
        states: server.all(),
        has: (name: string) => server.get(name) !== undefined
      },
      kernelStore
        ? {
            registryId: kernelStore.registryId,
            clockOffset: kernelStore.clockOffset,
            states: kernelStore.all()
          }
        : null
    );
    const next = new Map<string, IProcessRow>();
    const changed = new Set<string>();
    for (const row of merged) {
      next.set(row.key, row);
      const old = this._rows.get(row.key);
      if (!old || old.state !== row.state || old.source !== row.source) {
        changed.add(row.key);
      }
    }
    const removed = new Set<string>();
    for (const key of this._rows.keys()) {
      if (!next.has(key)) {
        removed.add(key);
      }
    }
    this._rows = next;
    if (reset || changed.size || removed.size) {
      this._rowsChanged.emit({ reset, initial, changed, removed });
    }
  }

  private _disposeKernel(): void {
    if (this._kernel) {
      this._kernel.dispose();
      this._kernel = null;
    }
  }

  private _disposed = false;
  private _serverSeen = false;
  private _api: ApiCall;
  private _kernelChannelFactory: KernelChannelFactory;
  private _server: LiveConnection;
  private _kernel: KernelLink | null = null;
  private _rows = new Map<string, IProcessRow>();
  private _rowsChanged = new Signal<this, IRowsChange>(this);
  private _liveChanged = new Signal<this, void>(this);
}

/**
 * The comm of one kernel, its store, and when to try opening it again: a
 * kernel only has the comm target once syft_pm is imported in it, so the link
 * retries after the kernel ran code that mentions syft_pm.
 */
class KernelLink implements IDisposable {
  constructor(
    readonly kernel: Kernel.IKernelConnection,
    readonly channel: IChannel,
    private readonly _onChange: (initial: boolean) => void
  ) {
    this.connection = new LiveConnection(this.store, channel);
    this.store.changed.connect(this._onStore, this);
    this.store.liveChanged.connect(this._onLive, this);
    kernel.anyMessage.connect(this._onAnyMessage, this);
    kernel.statusChanged.connect(this._onKernelStatus, this);
  }

  readonly store = new ProcessStore({ logLines: 1 });
  readonly connection: LiveConnection;
  readonly live = new Signal<KernelLink, boolean>(this);

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.kernel.anyMessage.disconnect(this._onAnyMessage, this);
    this.kernel.statusChanged.disconnect(this._onKernelStatus, this);
    this.connection.dispose();
    this.channel.dispose();
    Signal.clearData(this);
  }

  private _onStore(_: ProcessStore, change: IStoreChange): void {
    const initial = change.reset && !this._seen;
    this._seen = this._seen || change.reset;
    this._onChange(initial);
  }

  private _onLive(_: ProcessStore, live: boolean): void {
    this.live.emit(live);
    if (!live) {
      // Rows of a kernel that stopped talking are gone from the merge.
      this._onChange(false);
    }
  }

  private _onAnyMessage(
    _: Kernel.IKernelConnection,
    args: Kernel.IAnyMessageArgs
  ): void {
    const msg = args.msg;
    if (
      args.direction === 'send' &&
      msg.header.msg_type === 'execute_request'
    ) {
      const code = (msg.content as { code?: unknown }).code;
      if (typeof code === 'string' && /syft_pm/.test(code)) {
        this._wantRetry = true;
      }
    }
  }

  private _onKernelStatus(
    _: Kernel.IKernelConnection,
    status: Kernel.Status
  ): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._seen = false;
    }
    if (
      status === 'idle' &&
      this._wantRetry &&
      this.channel.status === 'closed' &&
      Date.now() - this._lastAttempt >= KERNEL_RETRY_MS
    ) {
      this._wantRetry = false;
      this._lastAttempt = Date.now();
      this.channel.open();
    }
  }

  private _disposed = false;
  private _seen = false;
  private _wantRetry = false;
  private _lastAttempt = 0;
}

export namespace ProcessFleet {
  export interface IOptions {
    /** The server channel (default: the websocket, without log lines). */
    serverChannel?: IChannel;
    /** REST calls (default: `requestAPI`). */
    api?: ApiCall;
    /** Kernel channels (default: the comm, without log lines). */
    kernelChannel?: KernelChannelFactory;
  }
}

/** Whether a key is a kernel-only row's. */
export function isKernelKey(key: string): boolean {
  return key.startsWith(KERNEL_KEY_PREFIX);
}

export type { RowSource };
