/**
 * What a transport of protocol v1 is: a bidirectional, message-oriented
 * channel, whatever moves its bytes.
 *
 * Two channels implement it in JupyterLab: `KernelChannel` (the kernel's comm
 * target `syft_pm`) and `ServerChannel` (the server extension's websocket).
 * Views never see a transport, only this interface (through
 * `LiveConnection`), so they also run where neither exists (a widget model).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ClientMessage, isServerMessage, ServerMessage } from './protocol';

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
export abstract class BaseChannel implements IChannel {
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
