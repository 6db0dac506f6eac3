/**
 * Transports of protocol v1 and the binding of a transport to a store.
 *
 * Two channels speak the same protocol: `KernelChannel` (the kernel's comm
 * target `syft_pm`) and `ServerChannel` (the server extension's websocket,
 * reconnecting with backoff). `LiveConnection` feeds one channel into one
 * `ProcessStore`: it asks for a resync on a gap, marks the store not live when
 * the channel drops, matches action results to their requests, and can poll
 * for front ends whose kernels cannot push from a thread.
 */
import { ServerConnection, Kernel, KernelMessage } from '@jupyterlab/services';
import { JSONObject, PromiseDelegate } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  Action,
  ClientMessage,
  IActionResultMessage,
  IErrorMessage,
  isServerMessage,
  PROTOCOL_VERSION,
  ServerMessage
} from './protocol';
import { eventsUrl } from './request';
import { ProcessStore } from './store';

export type ChannelStatus = 'connecting' | 'open' | 'closed';

/**
 * A bidirectional, message-oriented transport of protocol v1.
 */
export interface IChannel extends IDisposable {
  readonly kind: 'kernel' | 'server';
  readonly status: ChannelStatus;
  readonly statusChanged: ISignal<IChannel, ChannelStatus>;
  readonly received: ISignal<IChannel, ServerMessage>;
  /** Start (or restart) the transport. */
  open(): void;
  /** Send a message; false if the channel is not open. */
  send(msg: ClientMessage): boolean;
}

/**
 * What a subscription asks for when it opens.
 */
export interface ISubscriptionOptions {
  /** Process names, or null/undefined for every process. */
  names?: string[] | null;
  /** Log lines per stream in snapshots. */
  logLines?: number;
  /** Whether deltas carry log lines. */
  logs?: boolean;
  /** Registry directory (kernel channel only; the server has one registry). */
  home?: string;
}

/**
 * Shared status/signal plumbing of the two channels.
 */
abstract class BaseChannel implements IChannel {
  abstract readonly kind: 'kernel' | 'server';

  get status(): ChannelStatus {
    return this._status;
  }

  get statusChanged(): ISignal<IChannel, ChannelStatus> {
    return this._statusChanged;
  }

  get received(): ISignal<IChannel, ServerMessage> {
    return this._received;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  abstract open(): void;
  abstract send(msg: ClientMessage): boolean;

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.setStatus('closed');
    Signal.clearData(this);
  }

  protected setStatus(status: ChannelStatus): void {
    if (this._status !== status) {
      this._status = status;
      this._statusChanged.emit(status);
    }
  }

  protected deliver(data: unknown): void {
    if (isServerMessage(data)) {
      this._received.emit(data);
    }
  }

  private _status: ChannelStatus = 'closed';
  private _disposed = false;
  private _statusChanged = new Signal<IChannel, ChannelStatus>(this);
  private _received = new Signal<IChannel, ServerMessage>(this);
}

/**
 * The kernel's comm target `syft_pm`. Closes for good when the kernel
 * restarts or dies: the new kernel has not imported syft_pm, so reopening is
 * the caller's decision (usually: switch to the server channel).
 */
export class KernelChannel extends BaseChannel {
  readonly kind = 'kernel' as const;

  constructor(
    readonly kernel: Kernel.IKernelConnection,
    readonly options: ISubscriptionOptions = {}
  ) {
    super();
    kernel.statusChanged.connect(this._onKernelStatus, this);
    kernel.disposed.connect(this._onKernelGone, this);
  }

  open(): void {
    if (this.isDisposed || this.kernel.isDisposed) {
      return;
    }
    this._closeComm();
    let comm: Kernel.IComm;
    try {
      comm = this.kernel.createComm('syft_pm');
    } catch {
      this.setStatus('closed');
      return;
    }
    this._comm = comm;
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
      if (this._comm === comm) {
        this.setStatus('open');
        this.deliver(msg.content.data);
      }
    };
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
        this.setStatus('closed');
      }
    };
    this.setStatus('connecting');
    const data: JSONObject = {};
    if (this.options.names) {
      data.names = this.options.names;
    }
    if (this.options.logLines !== undefined) {
      data.log_lines = this.options.logLines;
    }
    if (this.options.logs === false) {
      data.logs = false;
    }
    if (this.options.home) {
      data.home = this.options.home;
    }
    // A kernel without the target (syft_pm not imported) answers with a
    // comm_close, which lands in onClose above.
    comm.open(data).done.catch(() => {
      if (this._comm === comm) {
        this._comm = null;
        this.setStatus('closed');
      }
    });
  }

  send(msg: ClientMessage): boolean {
    if (!this._comm || this.status === 'closed') {
      return false;
    }
    this._comm.send(msg as unknown as JSONObject);
    return true;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.kernel.statusChanged.disconnect(this._onKernelStatus, this);
    this.kernel.disposed.disconnect(this._onKernelGone, this);
    this._closeComm();
    super.dispose();
  }

  private _onKernelStatus(_: unknown, status: Kernel.Status): void {
    if (
      status === 'restarting' ||
      status === 'autorestarting' ||
      status === 'dead'
    ) {
      this._comm = null;
      this.setStatus('closed');
    }
  }

  private _onKernelGone(): void {
    this._comm = null;
    this.setStatus('closed');
  }

  private _closeComm(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm && !comm.isDisposed && !this.kernel.isDisposed) {
      try {
        comm.close();
      } catch {
        // The kernel is already gone; nothing to close.
      }
    }
  }

  private _comm: Kernel.IComm | null = null;
}

/**
 * Timing of the server channel's reconnects (exported for tests).
 */
export const RECONNECT = { initialMs: 500, maxMs: 10_000, factor: 2 };

/**
 * The server extension's websocket `/syft-pm/api/events`. Reconnects with
 * exponential backoff (and jitter) until disposed; every reconnect gets a fresh
 * snapshot from the server, so nothing needs replaying here.
 */
export class ServerChannel extends BaseChannel {
  readonly kind = 'server' as const;

  constructor(
    readonly options: ISubscriptionOptions = {},
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    super();
  }

  /** Milliseconds until the next reconnect attempt (null when connected). */
  get retryInMs(): number | null {
    return this._retryInMs;
  }

  open(): void {
    if (this.isDisposed) {
      return;
    }
    this._clearTimer();
    this._closeSocket();
    const url = new URL(eventsUrl(this._settings));
    for (const name of this.options.names ?? []) {
      url.searchParams.append('name', name);
    }
    if (this.options.logs === false) {
      url.searchParams.set('logs', '0');
    }
    this.setStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new this._settings.WebSocket(url.toString());
    } catch {
      this._scheduleReconnect();
      return;
    }
    this._socket = ws;
    ws.onopen = () => {
      if (this._socket === ws) {
        this._delayMs = RECONNECT.initialMs;
        this._retryInMs = null;
        this.setStatus('open');
      }
    };
    ws.onmessage = (event: MessageEvent) => {
      if (this._socket !== ws || typeof event.data !== 'string') {
        return;
      }
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      this.deliver(data);
    };
    ws.onclose = () => {
      if (this._socket === ws) {
        this._socket = null;
        this.setStatus('closed');
        this._scheduleReconnect();
      }
    };
  }

  send(msg: ClientMessage): boolean {
    if (!this._socket || this.status !== 'open') {
      return false;
    }
    this._socket.send(JSON.stringify(msg));
    return true;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._clearTimer();
    this._closeSocket();
    super.dispose();
  }

  private _scheduleReconnect(): void {
    if (this.isDisposed) {
      return;
    }
    const jitter = 0.8 + Math.random() * 0.4;
    const delay = Math.round(this._delayMs * jitter);
    this._delayMs = Math.min(this._delayMs * RECONNECT.factor, RECONNECT.maxMs);
    this._retryInMs = delay;
    this._clearTimer();
    this._timer = setTimeout(() => {
      this._timer = null;
      this.open();
    }, delay);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _closeSocket(): void {
    const ws = this._socket;
    this._socket = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close();
    }
  }

  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _delayMs = RECONNECT.initialMs;
  private _retryInMs: number | null = null;
}

/**
 * Feeds one channel into one store and carries actions over it.
 */
export class LiveConnection implements IDisposable {
  constructor(
    readonly store: ProcessStore,
    readonly channel: IChannel,
    options: { pollMs?: number } = {}
  ) {
    channel.received.connect(this._onMessage, this);
    channel.statusChanged.connect(this._onStatus, this);
    if (options.pollMs && options.pollMs > 0) {
      this._poll = setInterval(() => {
        if (this.channel.status === 'open') {
          this.channel.send({ type: 'poll' });
        }
      }, options.pollMs);
    }
  }

  /** Errors the Python side reported (bad request, cannot subscribe, ...). */
  get errorReceived(): ISignal<LiveConnection, string> {
    return this._errorReceived;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Ask the Python side for `action` on `name`; resolves with its result or
   * rejects with its error message.
   */
  action(
    action: Action,
    name: string,
    args: Record<string, unknown> = {}
  ): Promise<unknown> {
    const id = `a${++this._nextId}`;
    const pending = new PromiseDelegate<unknown>();
    if (!this.channel.send({ type: 'action', id, action, name, args })) {
      return Promise.reject(new Error('not connected'));
    }
    this._pending.set(id, pending);
    return pending.promise;
  }

  resync(): boolean {
    return this.channel.send({ type: 'resync' });
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
    this.channel.received.disconnect(this._onMessage, this);
    this.channel.statusChanged.disconnect(this._onStatus, this);
    this._failPending('disconnected');
    Signal.clearData(this);
  }

  private _onMessage(_: IChannel, msg: ServerMessage): void {
    if (msg.type === 'action_result') {
      this._settle(msg);
      return;
    }
    if (msg.type === 'error') {
      this._errorReceived.emit((msg as IErrorMessage).message);
      return;
    }
    const result = this.store.apply(msg);
    if (result === 'resync') {
      this.resync();
    } else if (result === 'unsupported' && msg.type === 'snapshot') {
      // Show an error rather than guess at a protocol this view does not know.
      this._errorReceived.emit(
        `the Python side speaks protocol ${msg.protocol}; this extension ` +
          `understands ${PROTOCOL_VERSION} (update one of them)`
      );
    }
  }

  private _onStatus(_: IChannel, status: ChannelStatus): void {
    if (status === 'closed') {
      this.store.setLive(false);
      this._failPending('connection lost before the action finished');
    }
  }

  private _settle(msg: IActionResultMessage): void {
    const id = typeof msg.id === 'string' ? msg.id : String(msg.id);
    const pending = this._pending.get(id);
    if (!pending) {
      return;
    }
    this._pending.delete(id);
    if (msg.ok) {
      pending.resolve(msg.result);
    } else {
      pending.reject(new Error(msg.error ?? 'action failed'));
    }
  }

  private _failPending(reason: string): void {
    for (const pending of this._pending.values()) {
      pending.reject(new Error(reason));
    }
    this._pending.clear();
  }

  private _disposed = false;
  private _nextId = 0;
  private _pending = new Map<string, PromiseDelegate<unknown>>();
  private _poll: ReturnType<typeof setInterval> | null = null;
  private _errorReceived = new Signal<LiveConnection, string>(this);
}
