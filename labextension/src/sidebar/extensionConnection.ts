/**
 * The sidebar's connection to the server extension: the status request
 * (`GET /syft-pm/api/status`), the websocket's losses and retries, and the
 * banner that says what is wrong, when the next try is, and offers Retry.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IChannel } from '../live/channel';
import {
  isAbortError,
  IServerStatus,
  getStatus,
  SyftPmApiError
} from '../live/request';

/**
 * Reads `GET /syft-pm/api/status`; an option so tests can replace it.
 */
export type StatusFetcher = (signal: AbortSignal) => Promise<IServerStatus>;

export const fetchServerStatus: StatusFetcher = signal => getStatus(signal);

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

/**
 * Where the sidebar is with the syft_pm server extension: the status answer
 * and the websocket (the channel reconnects by itself; this follows it).
 * Not to be confused with `@jupyterlab/services`' `ServerConnection`, the
 * HTTP settings `live/request.ts` uses.
 */
export class ExtensionConnection {
  constructor(channel: IChannel, fetchStatus: StatusFetcher) {
    this._channel = channel;
    this._fetchStatus = fetchStatus;
    channel.statusChanged.connect(this._onChannelStatus, this);
  }

  /** Not asked yet, asking, connected, or failed. */
  get state(): ExtensionConnection.State {
    return this._state;
  }

  /** Emitted when `state` changes. */
  get stateChanged(): ISignal<this, ExtensionConnection.State> {
    return this._stateChanged;
  }

  /** Emitted after anything shown changed (after `stateChanged`). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The version of the server extension, once known. */
  get serverVersion(): string | null {
    return this._serverVersion;
  }

  /** The last connection error, if any. */
  get errorMessage(): string | null {
    return this._errorMessage;
  }

  /** Whether a status request is in flight. */
  get pending(): boolean {
    return this._pending;
  }

  /** When the channel tries again (ms since the epoch), if known. */
  get retryAt(): number | null {
    return this._retryAt;
  }

  /**
   * Ask the server extension for its status again. Resolves when the
   * answer is in; never rejects (failures become `errorMessage`).
   */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._controller?.abort();
    const controller = new AbortController();
    this._controller = controller;
    this._pending = true;
    this._update();
    this._changed.emit();
    try {
      const status = await this._fetchStatus(controller.signal);
      if (controller.signal.aborted || this._disposed) {
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
      if (controller.signal.aborted || this._disposed || isAbortError(error)) {
        return;
      }
      this._errorMessage = describeConnectionError(error);
    } finally {
      if (this._controller === controller) {
        this._controller = null;
        this._pending = false;
      }
    }
    this._update();
    this._changed.emit();
  }

  /** Ask for the status and reopen the websocket now. */
  retryNow(): void {
    void this.refresh();
    const channel = this._channel;
    if (channel.status !== 'open') {
      channel.open();
    }
  }

  /** What is wrong, for the banner ('' when nothing is known). */
  problem(kernelLive: boolean): string {
    let message = '';
    if (this._errorMessage !== null) {
      message = this._errorMessage;
    } else if (this._wsLost) {
      message = this._serverVersion
        ? 'Lost the connection to the syft_pm server extension (is the Jupyter server running?). The list below may be out of date.'
        : 'Cannot connect to the syft_pm server extension (is the Jupyter server running?).';
    }
    if (this._state === 'failed' && kernelLive) {
      message +=
        ' Meanwhile the list shows what the active notebook\u2019s kernel reports.';
    }
    return message;
  }

  /** When the next try is, for the banner. */
  retryText(now: number): string {
    let text = '';
    if (this._wsLost || this._errorMessage !== null) {
      if (this._channel.status === 'connecting') {
        text = 'Reconnecting\u2026';
      } else if (this._retryAt !== null) {
        const s = Math.max(0, Math.ceil((this._retryAt - now) / 1000));
        text = s > 0 ? `Retrying in ${s} s.` : 'Retrying\u2026';
      }
    }
    return text;
  }

  /** Drop the status request in flight (its answer is ignored). */
  abort(): void {
    this._controller?.abort();
    this._controller = null;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this.abort();
    this._disposed = true;
    this._channel.statusChanged.disconnect(this._onChannelStatus, this);
    Signal.clearData(this);
  }

  private _onChannelStatus(): void {
    const status = this._channel.status;
    if (status === 'open') {
      const wasLost = this._wsLost;
      this._wsLost = false;
      this._retryAt = null;
      if (
        wasLost ||
        this._errorMessage !== null ||
        (!this._serverVersion && !this._pending)
      ) {
        void this.refresh();
      }
    } else if (status === 'closed' && !this._disposed) {
      this._wsLost = true;
      // The channel schedules its next attempt right after saying "closed".
      void Promise.resolve().then(() => {
        const retry = (this._channel as { retryInMs?: number | null })
          .retryInMs;
        this._retryAt = typeof retry === 'number' ? Date.now() + retry : null;
        this._changed.emit();
      });
    }
    this._update();
    this._changed.emit();
  }

  private _update(): void {
    let state: ExtensionConnection.State;
    if (this._errorMessage !== null || this._wsLost) {
      state = 'failed';
    } else if (this._serverVersion !== null && !this._pending) {
      state = 'connected';
    } else {
      state = 'connecting';
    }
    if (this._state !== state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _channel: IChannel;
  private _fetchStatus: StatusFetcher;
  private _disposed = false;
  private _controller: AbortController | null = null;
  private _pending = false;
  private _wsLost = false;
  private _retryAt: number | null = null;
  private _state: ExtensionConnection.State = 'idle';
  private _stateChanged = new Signal<this, ExtensionConnection.State>(this);
  private _changed = new Signal<this, void>(this);
  private _serverVersion: string | null = null;
  private _errorMessage: string | null = null;
}

export namespace ExtensionConnection {
  export type State = 'idle' | 'connecting' | 'connected' | 'failed';
}

/**
 * The banner of a failed connection: what is wrong, when the next try is,
 * and a Retry button.
 */
export class ConnectionBanner {
  constructor(doc: Document, onRetry: () => void) {
    this._onRetry = onRetry;
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-error';
    this.node.setAttribute('role', 'alert');
    this.node.hidden = true;
    this._messageNode = doc.createElement('p');
    this._messageNode.className = 'syft-pm-error-message';
    this._retryNode = doc.createElement('p');
    this._retryNode.className = 'syft-pm-retry-when';
    this._retryButton = doc.createElement('button');
    this._retryButton.type = 'button';
    this._retryButton.className = 'jp-mod-styled syft-pm-retry';
    this._retryButton.textContent = 'Retry';
    this._retryButton.addEventListener('click', this._onRetry);
    this.node.append(this._messageNode, this._retryNode, this._retryButton);
  }

  readonly node: HTMLDivElement;

  render(
    connection: ExtensionConnection,
    kernelLive: boolean,
    now: number
  ): void {
    const failed = connection.state === 'failed';
    this.node.hidden = !failed;
    const message = connection.problem(kernelLive);
    this._messageNode.textContent = failed ? message : '';
    this._retryButton.disabled = connection.pending;
    this.renderRetry(connection, now);
  }

  /** Only the countdown (ticks). */
  renderRetry(connection: ExtensionConnection, now: number): void {
    const text = connection.retryText(now);
    if (this._retryNode.textContent !== text) {
      this._retryNode.textContent = text;
    }
  }

  dispose(): void {
    this._retryButton.removeEventListener('click', this._onRetry);
  }

  private _onRetry: () => void;
  private _messageNode: HTMLParagraphElement;
  private _retryNode: HTMLParagraphElement;
  private _retryButton: HTMLButtonElement;
}
