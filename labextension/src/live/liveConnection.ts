/**
 * The binding of one channel to one store: `LiveConnection` asks for a resync
 * on a gap, marks the store not live when the channel drops, matches action
 * results to their requests, and can poll for front ends whose kernels cannot
 * push from a thread.
 */
import { PromiseDelegate } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ChannelStatus, IChannel } from './channel';
import {
  Action,
  IActionResultMessage,
  IErrorMessage,
  PROTOCOL_VERSION,
  ServerMessage
} from './protocol';
import { ProcessStore } from './processStore';

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
