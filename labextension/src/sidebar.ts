/**
 * The Process Manager sidebar: plain DOM on a Lumino widget.
 *
 * For now it shows which syft_pm server extension it talks to, or why it
 * cannot reach it; the process list comes later.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { processIcon } from './icons';
import { isAbortError, requestAPI, SyftPmApiError } from './request';
import { DEFAULT_SETTINGS, ISyftPmSettings } from './settings';
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

    const doc = this.node.ownerDocument;

    const header = doc.createElement('header');
    header.className = 'syft-pm-sidebar-header';
    const heading = doc.createElement('h2');
    heading.className = 'syft-pm-sidebar-title';
    heading.textContent = 'Processes';
    header.appendChild(heading);

    this._errorNode = doc.createElement('div');
    this._errorNode.className = 'syft-pm-error';
    this._errorNode.setAttribute('role', 'alert');
    this._errorNode.hidden = true;
    this._errorMessageNode = doc.createElement('p');
    this._errorMessageNode.className = 'syft-pm-error-message';
    this._retryButton = doc.createElement('button');
    this._retryButton.type = 'button';
    this._retryButton.className = 'jp-mod-styled syft-pm-retry';
    this._retryButton.textContent = 'Retry';
    this._retryButton.addEventListener('click', this._onRetry);
    this._errorNode.append(this._errorMessageNode, this._retryButton);

    this._contentNode = doc.createElement('div');
    this._contentNode.className = 'syft-pm-sidebar-content';

    const footer = doc.createElement('footer');
    footer.className = 'syft-pm-sidebar-footer';
    this._versionNode = doc.createElement('span');
    this._versionNode.className = 'syft-pm-server-version';
    footer.appendChild(this._versionNode);

    this.node.append(header, this._errorNode, this._contentNode, footer);
    this._render();
  }

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
   * The area below the header where the process list goes.
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

  /**
   * Apply new user settings.
   */
  updateSettings(settings: ISyftPmSettings): void {
    this._settings = { ...settings };
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
    this._setConnection('connecting');
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
      this._setConnection('connected');
    } catch (error) {
      if (controller.signal.aborted || this.isDisposed || isAbortError(error)) {
        return;
      }
      this._errorMessage = describeConnectionError(error);
      this._setConnection('failed');
    } finally {
      if (this._controller === controller) {
        this._controller = null;
      }
    }
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._controller?.abort();
    this._controller = null;
    this._retryButton.removeEventListener('click', this._onRetry);
    super.dispose();
    Signal.clearData(this);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this._connection === 'idle') {
      void this.refresh();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Opening the panel after a failure is a good moment to try again.
    if (this._connection === 'failed') {
      void this.refresh();
    }
  }

  private _onRetry = (): void => {
    void this.refresh();
  };

  private _setConnection(state: ProcessSidebar.ConnectionState): void {
    if (this._connection !== state) {
      this._connection = state;
      this._connectionChanged.emit(state);
    }
  }

  private _render(): void {
    const state = this._connection;
    this.node.dataset.connection = state;

    const failed = state === 'failed' && this._errorMessage !== null;
    this._errorNode.hidden = !failed;
    this._errorMessageNode.textContent = failed ? this._errorMessage : '';
    this._retryButton.disabled = state === 'connecting';

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
  }

  private _fetchStatus: StatusFetcher;
  private _settings: ISyftPmSettings;
  private _controller: AbortController | null = null;
  private _connection: ProcessSidebar.ConnectionState = 'idle';
  private _connectionChanged = new Signal<this, ProcessSidebar.ConnectionState>(
    this
  );
  private _serverVersion: string | null = null;
  private _errorMessage: string | null = null;
  private _errorNode: HTMLDivElement;
  private _errorMessageNode: HTMLParagraphElement;
  private _retryButton: HTMLButtonElement;
  private _contentNode: HTMLDivElement;
  private _versionNode: HTMLSpanElement;
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
  }
}
