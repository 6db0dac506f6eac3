/**
 * Picks the transport that feeds one cell output's store, and carries its
 * actions.
 *
 * 1. The kernel of the output's notebook, through the comm target `syft_pm`,
 *    when that kernel is there and answers (its first message arrives).
 * 2. Else, or once that comm closes (kernel restarted, shut down, changed),
 *    the server extension's websocket, when `GET status` answers with the
 *    registry id of the output's reference (one status request per page).
 * 3. Else nothing: the store keeps the last known state, marked not live, and
 *    the source tries again now and then.
 *
 * Actions go to the REST routes when the server extension watches the same
 * registry (they work while the kernel is busy or dead), else over the comm.
 */
import { Kernel } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ChannelStatus, IChannel, ISubscriptionOptions } from '../live/channel';
import { KernelChannel } from '../live/kernelChannel';
import { LiveConnection } from '../live/liveConnection';
import { ServerChannel } from '../live/serverChannel';
import { Action } from '../live/protocol';
import {
  getStatus,
  IServerStatus,
  runAction,
  SyftPmApiError
} from '../live/request';
import { ProcessStore } from '../live/processStore';
import { IProcessReference } from './reference';

/**
 * Where a source gets its state from right now.
 */
export type LiveMode = 'connecting' | 'kernel' | 'server' | 'offline';

/**
 * Finds the kernel of the notebook an output belongs to.
 */
export interface IKernelLocator {
  /**
   * The kernel, waiting a bounded time for a starting session; null if the
   * output has no notebook or the notebook no kernel.
   */
  kernel(): Promise<Kernel.IKernelConnection | null>;
}

/**
 * The answer of `GET /syft-pm/api/status` this module relies on.
 */
export interface ISyftPmServerStatus extends IServerStatus {
  registry_id?: unknown;
  home?: unknown;
}

/**
 * Timings (exported so tests can shorten them).
 */
export const LIVE_SOURCE_TIMING = {
  /** How long a comm may take to answer before the server is tried. */
  kernelOpenTimeoutMs: 4000,
  /** First retry while offline; doubles up to `retryMaxMs`. */
  retryInitialMs: 5000,
  retryMaxMs: 60_000
};

let statusCache: Promise<ISyftPmServerStatus | null> | null = null;

/**
 * `GET status` of the server extension, asked once per page: null when the
 * extension is not there (404). Failures that may pass (network, 5xx) are
 * not cached, so a later call asks again.
 */
export function serverStatus(): Promise<ISyftPmServerStatus | null> {
  if (statusCache === null) {
    const request = getStatus().then(
      status => (typeof status === 'object' && status !== null ? status : null),
      error => {
        const permanent =
          error instanceof SyftPmApiError &&
          (error.isNotFound || error.status === 403);
        if (!permanent && statusCache === request) {
          statusCache = null;
        }
        return null;
      }
    );
    statusCache = request;
  }
  return statusCache;
}

/**
 * Forget the cached server status (tests; a new page starts empty anyway).
 */
export function resetServerStatusCache(): void {
  statusCache = null;
}

/**
 * Carry out an action through the server extension's REST routes.
 */
export function restAction(action: Action, name: string): Promise<unknown> {
  return runAction(action, name);
}

/**
 * The live source of one output.
 */
export class LiveSource implements IDisposable {
  constructor(options: LiveSource.IOptions) {
    this.reference = options.reference;
    this.store = options.store;
    this._locator = options.locator;
    this._logLines = options.logLines;
    this._serverStatus = options.serverStatus ?? serverStatus;
    this._makeKernelChannel =
      options.kernelChannel ?? ((k, o) => new KernelChannel(k, o));
    this._makeServerChannel =
      options.serverChannel ?? (o => new ServerChannel(o));
    this._restAction = options.restAction ?? restAction;
  }

  readonly reference: IProcessReference;
  readonly store: ProcessStore;

  get mode(): LiveMode {
    return this._mode;
  }

  /** Why the state is not live (or what is being waited for); null if live. */
  get reason(): string | null {
    return this._reason;
  }

  /** Emitted when `mode` or `reason` changes. */
  get modeChanged(): ISignal<LiveSource, LiveMode> {
    return this._modeChanged;
  }

  /** Errors the Python side reported on the current channel. */
  get errorReceived(): ISignal<LiveSource, string> {
    return this._errorReceived;
  }

  /** The channel in use (for tests and diagnostics). */
  get channel(): IChannel | null {
    return this._channel;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Log lines per stream in the snapshots of the next subscriptions. */
  get logLines(): number | undefined {
    return this._logLines;
  }

  set logLines(value: number | undefined) {
    this._logLines = value;
  }

  /** Start looking for a transport (once). */
  start(): void {
    if (this._started || this._disposed) {
      return;
    }
    this._started = true;
    void this._connect(true, null);
  }

  /**
   * Carry out `action`: REST when the server extension watches this
   * registry, else over the comm. Rejects with an Error to show.
   */
  async action(action: Action, name = this.reference.name): Promise<unknown> {
    if (await this._serverMatches()) {
      return this._restAction(action, name);
    }
    if (this._connection && this._channel?.status === 'open') {
      return this._connection.action(action, name);
    }
    throw new Error(
      'neither the kernel nor the syft_pm server extension can be reached'
    );
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._generation++;
    this._clearKernelTimer();
    this._clearRetry();
    this._detach();
    Signal.clearData(this);
  }

  private async _connect(
    allowKernel: boolean,
    why: string | null
  ): Promise<void> {
    const generation = ++this._generation;
    this._clearRetry();
    this._detach();
    this._setMode('connecting', why ? `${why}; trying again\u2026` : null);
    let kernel: Kernel.IKernelConnection | null = null;
    if (allowKernel && this._locator) {
      try {
        kernel = await this._locator.kernel();
      } catch {
        kernel = null;
      }
      if (generation !== this._generation) {
        return;
      }
    }
    if (kernel && !kernel.isDisposed && kernel.status !== 'dead') {
      const options: ISubscriptionOptions = {
        names: [this.reference.name],
        home: this.reference.home
      };
      if (this._logLines !== undefined) {
        options.logLines = this._logLines;
      }
      this._attach(this._makeKernelChannel(kernel, options));
      this._kernelTimer = setTimeout(() => {
        this._kernelTimer = null;
        void this._onKernelSlow(generation);
      }, LIVE_SOURCE_TIMING.kernelOpenTimeoutMs);
      this._channel!.open();
      return;
    }
    await this._useServer(
      generation,
      why ?? (this._locator ? 'no kernel to ask' : 'not in a notebook')
    );
  }

  /** The comm has not answered in time: prefer the server if it is there. */
  private async _onKernelSlow(generation: number): Promise<void> {
    const matches = await this._serverMatches();
    if (generation !== this._generation || this._channel?.kind !== 'kernel') {
      return;
    }
    if (this._channel.status === 'open') {
      return;
    }
    if (matches) {
      await this._useServer(generation, null);
    } else {
      this._setMode(
        'connecting',
        'waiting for the kernel to answer (is it busy?)'
      );
    }
  }

  private async _useServer(
    generation: number,
    why: string | null
  ): Promise<void> {
    const status = await this._serverStatus();
    if (generation !== this._generation) {
      return;
    }
    this._detach();
    if (status && status.registry_id === this.reference.registry_id) {
      this._attach(this._makeServerChannel({ names: [this.reference.name] }));
      this._setMode('server', 'connecting to the Jupyter server\u2026');
      this._channel!.open();
      return;
    }
    let server: string;
    if (!status) {
      server = 'the syft_pm server extension is not available';
    } else {
      const home = typeof status.home === 'string' ? ` (${status.home})` : '';
      server = `the syft_pm server extension watches another registry${home}`;
    }
    this._offlineWhy = why;
    this._setMode('offline', why ? `${why}, and ${server}` : server);
    this._scheduleRetry();
  }

  private async _serverMatches(): Promise<boolean> {
    const status = await this._serverStatus();
    return !!status && status.registry_id === this.reference.registry_id;
  }

  private _attach(channel: IChannel): void {
    this._channel = channel;
    this._connection = new LiveConnection(this.store, channel);
    this._connection.errorReceived.connect(this._onError, this);
    channel.statusChanged.connect(this._onChannelStatus, this);
  }

  private _detach(): void {
    this._clearKernelTimer();
    const channel = this._channel;
    const connection = this._connection;
    this._channel = null;
    this._connection = null;
    if (channel) {
      channel.statusChanged.disconnect(this._onChannelStatus, this);
    }
    connection?.dispose();
    channel?.dispose();
  }

  private _onChannelStatus(channel: IChannel, status: ChannelStatus): void {
    if (channel !== this._channel || this._disposed) {
      return;
    }
    if (channel.kind === 'kernel') {
      if (status === 'open') {
        this._clearKernelTimer();
        this._retryMs = LIVE_SOURCE_TIMING.retryInitialMs;
        this._setMode('kernel', null);
      } else if (status === 'closed') {
        // Restarted, shut down, replaced, or a kernel that has not imported
        // syft_pm: the server extension takes over if it can.
        const generation = ++this._generation;
        this._detach();
        void this._useServer(
          generation,
          this._mode === 'kernel'
            ? 'the kernel connection closed (restarted or shut down)'
            : 'the kernel did not open the syft_pm comm (syft_pm not imported there?)'
        );
      }
    } else if (status === 'open') {
      this._retryMs = LIVE_SOURCE_TIMING.retryInitialMs;
      this._setMode('server', null);
    } else {
      this._setMode(
        'server',
        'the connection to the Jupyter server was lost; reconnecting\u2026'
      );
    }
  }

  private _onError(_: LiveConnection, message: string): void {
    this._errorReceived.emit(message);
  }

  private _scheduleRetry(): void {
    if (this._disposed) {
      return;
    }
    this._clearRetry();
    const delay = this._retryMs;
    this._retryMs = Math.min(delay * 2, LIVE_SOURCE_TIMING.retryMaxMs);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      void this._connect(true, this._offlineWhy);
    }, delay);
  }

  private _clearRetry(): void {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  private _clearKernelTimer(): void {
    if (this._kernelTimer !== null) {
      clearTimeout(this._kernelTimer);
      this._kernelTimer = null;
    }
  }

  private _setMode(mode: LiveMode, reason: string | null): void {
    if (this._disposed) {
      return;
    }
    if (mode !== this._mode || reason !== this._reason) {
      this._mode = mode;
      this._reason = reason;
      this._modeChanged.emit(mode);
    }
  }

  private _disposed = false;
  private _started = false;
  private _generation = 0;
  private _mode: LiveMode = 'connecting';
  private _reason: string | null = null;
  private _locator: IKernelLocator | null;
  private _logLines: number | undefined;
  private _serverStatus: () => Promise<ISyftPmServerStatus | null>;
  private _makeKernelChannel: (
    kernel: Kernel.IKernelConnection,
    options: ISubscriptionOptions
  ) => IChannel;
  private _makeServerChannel: (options: ISubscriptionOptions) => IChannel;
  private _restAction: (action: Action, name: string) => Promise<unknown>;
  private _channel: IChannel | null = null;
  private _connection: LiveConnection | null = null;
  private _kernelTimer: ReturnType<typeof setTimeout> | null = null;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _retryMs = LIVE_SOURCE_TIMING.retryInitialMs;
  private _offlineWhy: string | null = null;
  private _modeChanged = new Signal<LiveSource, LiveMode>(this);
  private _errorReceived = new Signal<LiveSource, string>(this);
}

export namespace LiveSource {
  export interface IOptions {
    /** The output's reference (registry id, home, name). */
    reference: IProcessReference;
    /** The store this source feeds. */
    store: ProcessStore;
    /** Finds the output's kernel; null when there is none to look for. */
    locator: IKernelLocator | null;
    /** Log lines per stream in snapshots. */
    logLines?: number;
    /** For tests: the server status (default: the page's cached one). */
    serverStatus?: () => Promise<ISyftPmServerStatus | null>;
    /** For tests: makes the kernel channel. */
    kernelChannel?: (
      kernel: Kernel.IKernelConnection,
      options: ISubscriptionOptions
    ) => IChannel;
    /** For tests: makes the server channel. */
    serverChannel?: (options: ISubscriptionOptions) => IChannel;
    /** For tests: the REST action call. */
    restAction?: (action: Action, name: string) => Promise<unknown>;
  }
}
