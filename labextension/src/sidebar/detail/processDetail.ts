/**
 * The detail view of one process (a main-area tab): everything `info()` knows,
 * the actions (stop, restart, start, remove), a link per listening port, the
 * notebook that started it, and a log viewer per stream.
 *
 * This module is the widget: header, actions and what it shows of the
 * row's state. Its parts: the facts list (`detailFacts.ts`) and the log
 * tabs (`detailLogs.ts`).
 */
import { ISignal } from '@lumino/signaling';
import { PanelLayout, Widget } from '@lumino/widgets';

import { renderFacts } from './detailFacts';
import { DetailLogs } from './detailLogs';
import { formatUptime, statusClass } from '../../process/format';
import { ILogSource } from '../../logs/logSource';
import { LogView } from '../../logs/logView';
import { IRowsChange } from '../processFleet';
import { PortUrl } from '../ports';
import { isActive, LogStreamName } from '../../live/protocol';
import { IProcessRow, labPath, rowUptime } from '../model';
import { iconButton } from '../../ui/icons';

/**
 * What the detail view needs from the sidebar.
 */
export interface IDetailController {
  row(key: string): IProcessRow | undefined;
  readonly rowsChanged: ISignal<unknown, IRowsChange>;
  /** Stop, restart or start; rejects with a message for the user. */
  perform(key: string, action: 'stop' | 'restart' | 'start'): Promise<void>;
  /** Ask, then remove; true if removed. */
  remove(key: string): Promise<boolean>;
  /** `info()` of a server row; null when not available. */
  info(key: string): Promise<Record<string, unknown> | null>;
  /** Open a notebook by its JupyterLab path. */
  openNotebook(path: string): void;
  readonly serverRoot: string | null;
}

const DETAIL_CLASS = 'syft-pm-detail';

/**
 * The widget id of the detail view of a row.
 */
export function detailId(key: string): string {
  return `syft-pm-detail-${key.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

export class ProcessDetail extends Widget {
  constructor(options: ProcessDetail.IOptions) {
    super();
    this.key = options.key;
    this.id = detailId(options.key);
    this.addClass(DETAIL_CLASS);
    this.title.label = options.name;
    this.title.caption = `Process ${options.name}`;
    this.title.closable = true;
    this._controller = options.controller;
    this._portUrl = options.portUrl;
    this.node.dataset.processName = options.name;
    this.node.tabIndex = -1;

    const doc = this.node.ownerDocument;
    const header = doc.createElement('header');
    header.className = 'syft-pm-detail-header';
    this._statusBadge = doc.createElement('span');
    this._statusBadge.className = 'syft-pm-status';
    const name = doc.createElement('h2');
    name.className = 'syft-pm-detail-name';
    name.textContent = options.name;
    this._kernelBadge = doc.createElement('span');
    this._kernelBadge.className = 'syft-pm-row-badge';
    this._kernelBadge.textContent = 'kernel';
    this._kernelBadge.title =
      'Seen only through the kernel of the active notebook';
    this._kernelBadge.hidden = true;

    const actions = doc.createElement('div');
    actions.className = 'syft-pm-detail-actions';
    this._stopButton = textButton(doc, 'stop', 'Stop', 'syft-pm-detail-stop');
    this._startButton = textButton(
      doc,
      'start',
      'Start',
      'syft-pm-detail-start'
    );
    this._restartButton = textButton(
      doc,
      'restart',
      'Restart',
      'syft-pm-detail-restart'
    );
    this._removeButton = textButton(
      doc,
      'remove',
      'Remove',
      'syft-pm-detail-remove'
    );
    this._notebookButton = textButton(
      doc,
      'notebook',
      'Open notebook',
      'syft-pm-detail-open-notebook'
    );
    this._stopButton.addEventListener('click', () => void this._act('stop'));
    this._startButton.addEventListener('click', () => void this._act('start'));
    this._restartButton.addEventListener(
      'click',
      () => void this._act('restart')
    );
    this._removeButton.addEventListener('click', () => void this._remove());
    this._notebookButton.addEventListener('click', () => {
      if (this._notebookPath) {
        this._controller.openNotebook(this._notebookPath);
      }
    });
    actions.append(
      this._stopButton,
      this._startButton,
      this._restartButton,
      this._removeButton,
      this._notebookButton
    );
    header.append(this._statusBadge, name, this._kernelBadge, actions);

    this._messageNode = doc.createElement('div');
    this._messageNode.className = 'syft-pm-detail-message';
    this._messageNode.setAttribute('role', 'status');
    this._messageNode.hidden = true;

    const info = doc.createElement('details');
    info.className = 'syft-pm-detail-info';
    info.open = options.infoOpen ?? true;
    const summary = doc.createElement('summary');
    summary.textContent = 'Details';
    this._factsNode = doc.createElement('dl');
    this._factsNode.className = 'syft-pm-detail-facts';
    info.append(summary, this._factsNode);

    const top = new Widget();
    top.addClass('syft-pm-detail-top');
    top.node.append(header, this._messageNode, info);

    this._source = options.createLogSource();
    const logs = (this._logs = new DetailLogs({
      name: options.name,
      source: this._source,
      capacity: options.logCapacity,
      copy: options.copy,
      requestFrame: options.requestFrame
    }));

    const layout = new PanelLayout();
    this.layout = layout;
    layout.addWidget(top);
    layout.addWidget(logs);
    this.showStream(options.stream ?? 'stdout');

    this._controller.rowsChanged.connect(this._onRowsChanged, this);
    this._render();
    void this._refreshInfo();
    logs.start();
  }

  readonly key: string;

  /** The stream shown. */
  get stream(): LogStreamName {
    return this._logs.stream;
  }

  logView(stream: LogStreamName): LogView {
    return this._logs.logView(stream);
  }

  showStream(stream: LogStreamName): void {
    this._logs.showStream(stream);
  }

  /** Apply the `logLines` setting. */
  set logCapacity(value: number) {
    this._logs.capacity = value;
  }

  /** Refresh what depends on the clock. */
  tick(nowMs: number = Date.now()): void {
    const row = this._controller.row(this.key);
    if (row && this._uptimeNode) {
      const up = rowUptime(row, nowMs);
      const text = up === null ? '' : formatUptime(up);
      if (this._uptimeNode.textContent !== text) {
        this._uptimeNode.textContent = text;
      }
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._controller.rowsChanged.disconnect(this._onRowsChanged, this);
    super.dispose();
    this._source.dispose();
  }

  private _onRowsChanged(_: unknown, change: IRowsChange): void {
    if (change.changed.has(this.key) || change.removed.has(this.key)) {
      this._render();
    }
  }

  private _render(): void {
    const row = this._controller.row(this.key);
    const node = this.node;
    if (!row) {
      node.dataset.status = 'removed';
      this._statusBadge.className = 'syft-pm-status syft-pm-tone-unknown';
      this._statusBadge.textContent = 'removed';
      for (const b of [
        this._stopButton,
        this._startButton,
        this._restartButton,
        this._removeButton
      ]) {
        b.disabled = true;
      }
      this._showMessage('This process is not in the registry (any more).');
      return;
    }
    const s = row.state;
    node.dataset.status = s.status;
    node.dataset.source = row.source;
    this._statusBadge.className = `syft-pm-status ${statusClass(s.status)}`;
    this._statusBadge.textContent = s.status;
    this._kernelBadge.hidden = row.source !== 'kernel';
    const active = isActive(s.status);
    this._stopButton.hidden = !active;
    this._startButton.hidden = active;
    for (const b of [
      this._stopButton,
      this._startButton,
      this._restartButton,
      this._removeButton
    ]) {
      b.disabled = this._busy;
    }
    const nb = labPath(s.origin?.notebook, this._controller.serverRoot);
    this._notebookPath = nb && !nb.startsWith('/') ? nb : null;
    this._notebookButton.hidden = !s.origin?.notebook;
    this._notebookButton.disabled = this._notebookPath === null;
    this._notebookButton.title = this._notebookPath
      ? `Open ${this._notebookPath}`
      : `${s.origin?.notebook ?? ''} is outside this server's root`;

    // Refresh info() when the lifecycle moves, not on every metrics tick.
    const stamp = `${s.status}|${s.pid}|${s.restarts}|${s.started_at}`;
    if (this._infoStamp !== null && this._infoStamp !== stamp) {
      void this._refreshInfo();
    }
    this._infoStamp = stamp;
    this._renderFacts(row);
  }

  private _renderFacts(row: IProcessRow): void {
    this._uptimeNode = renderFacts(this._factsNode, row, {
      info: this._info,
      infoError: this._infoError,
      portUrl: this._portUrl
    });
  }

  private async _refreshInfo(): Promise<void> {
    const token = ++this._infoToken;
    try {
      const info = await this._controller.info(this.key);
      if (token !== this._infoToken || this.isDisposed) {
        return;
      }
      this._info = info;
      this._infoError =
        info === null
          ? 'The server extension cannot read this process\u2019s registry; the kernel reported what is shown.'
          : null;
    } catch (error) {
      if (token !== this._infoToken || this.isDisposed) {
        return;
      }
      this._infoError = `Cannot read info(): ${error instanceof Error ? error.message : String(error)}`;
    }
    const row = this._controller.row(this.key);
    if (row) {
      this._renderFacts(row);
    }
  }

  private async _act(action: 'stop' | 'restart' | 'start'): Promise<void> {
    this._busy = true;
    this._render();
    this._showMessage(`${PROGRESS[action]}\u2026`);
    try {
      await this._controller.perform(this.key, action);
      this._showMessage('');
    } catch (error) {
      this._showMessage(
        `Could not ${action}: ${error instanceof Error ? error.message : String(error)}`,
        true
      );
    } finally {
      this._busy = false;
      if (!this.isDisposed) {
        this._render();
      }
    }
  }

  private async _remove(): Promise<void> {
    try {
      if (await this._controller.remove(this.key)) {
        this.dispose();
      }
    } catch (error) {
      this._showMessage(
        `Could not remove: ${error instanceof Error ? error.message : String(error)}`,
        true
      );
    }
  }

  private _showMessage(text: string, error = false): void {
    this._messageNode.textContent = text;
    this._messageNode.hidden = text === '';
    this._messageNode.classList.toggle('syft-pm-mod-error', error);
  }

  private _controller: IDetailController;
  private _portUrl: PortUrl;
  private _source: ILogSource;
  private _logs: DetailLogs;
  private _info: Record<string, unknown> | null = null;
  private _infoError: string | null = null;
  private _infoToken = 0;
  private _infoStamp: string | null = null;
  private _busy = false;
  private _notebookPath: string | null = null;
  private _uptimeNode: HTMLElement | null = null;
  private _statusBadge: HTMLSpanElement;
  private _kernelBadge: HTMLSpanElement;
  private _stopButton: HTMLButtonElement;
  private _startButton: HTMLButtonElement;
  private _restartButton: HTMLButtonElement;
  private _removeButton: HTMLButtonElement;
  private _notebookButton: HTMLButtonElement;
  private _messageNode: HTMLDivElement;
  private _factsNode: HTMLDListElement;
}

const PROGRESS = {
  stop: 'Stopping',
  restart: 'Restarting',
  start: 'Starting'
} as const;

function textButton(
  doc: Document,
  icon: 'stop' | 'start' | 'restart' | 'remove' | 'notebook',
  label: string,
  className: string
): HTMLButtonElement {
  const button = iconButton(
    doc,
    icon,
    label,
    `syft-pm-text-button ${className}`
  );
  const text = doc.createElement('span');
  text.textContent = label;
  button.appendChild(text);
  return button;
}

export namespace ProcessDetail {
  export interface IOptions {
    key: string;
    name: string;
    controller: IDetailController;
    portUrl: PortUrl;
    logCapacity: number;
    createLogSource: () => ILogSource;
    stream?: LogStreamName;
    infoOpen?: boolean;
    copy?: (text: string) => Promise<void> | void;
    requestFrame?: (cb: () => void) => number;
  }
}
