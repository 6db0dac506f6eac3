/**
 * Protocol v1 over the server extension's websocket `/syft-pm/api/events`,
 * reconnecting with backoff.
 */
import { ServerConnection } from '@jupyterlab/services';

import { BaseChannel, ISubscriptionOptions } from './channel';
import { ClientMessage } from './protocol';
import { eventsUrl } from './request';

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
