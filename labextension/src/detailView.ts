/**
 * The detail view of one process (a main-area tab): everything `info()` knows,
 * the actions (stop, restart, start, remove), a link per listening port, the
 * notebook that started it, and a log viewer per stream.
 */
import { ISignal } from '@lumino/signaling';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import { formatBytes, formatUptime, statusClass } from './format';
import { ILogSource } from './logSource';
import { LogView } from './logView';
import { IRowsChange } from './processFleet';
import { formatCpu, PortUrl, statusText } from './processList';
import { LOG_STREAMS, LogStreamName } from './protocol';
import { IProcessRow, labPath, rowUptime } from './sidebarModel';
import { iconButton } from './sidebarIcons';
import { isUp } from './store';

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

function fmtTime(t: unknown): string {
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    return '';
  }
  return new Date(t * 1000).toLocaleString();
}

function fmtValue(v: unknown): string {
  if (v === null || v === undefined || v === '') {
    return '';
  }
  if (typeof v === 'string') {
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    return String(v);
  }
  if (Array.isArray(v) && v.every(x => typeof x === 'string')) {
    return v.join(' ');
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${typeof x === 'object' ? JSON.stringify(x) : x}`)
      .join(' \u00b7 ');
  }
  return JSON.stringify(v);
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

    const logs = new Panel();
    logs.addClass('syft-pm-detail-logs');
    const tabsWidget = new Widget();
    const tabs = tabsWidget.node;
    tabs.className = 'syft-pm-lv-tabs';
    tabs.setAttribute('role', 'tablist');
    this._source = options.createLogSource();
    for (const stream of LOG_STREAMS) {
      const tab = doc.createElement('button');
      tab.type = 'button';
      tab.className = 'syft-pm-lv-tab';
      tab.setAttribute('role', 'tab');
      tab.dataset.stream = stream;
      tab.textContent = stream;
      tab.addEventListener('click', () => this.showStream(stream));
      tabs.appendChild(tab);
      this._tabs[stream] = tab;
      const view = new LogView({
        name: options.name,
        stream,
        source: this._source,
        capacity: options.logCapacity,
        copy: options.copy,
        requestFrame: options.requestFrame
      });
      this._logs[stream] = view;
    }
    logs.addWidget(tabsWidget);
    for (const stream of LOG_STREAMS) {
      logs.addWidget(this._logs[stream]!);
    }
    this._logsNode = logs.node;

    const layout = new PanelLayout();
    this.layout = layout;
    layout.addWidget(top);
    layout.addWidget(logs);
    this.showStream(options.stream ?? 'stdout');

    this._controller.rowsChanged.connect(this._onRowsChanged, this);
    this._render();
    void this._refreshInfo();
    for (const stream of LOG_STREAMS) {
      void this._logs[stream]!.start();
    }
  }

  readonly key: string;

  /** The stream shown. */
  get stream(): LogStreamName {
    return this._stream;
  }

  logView(stream: LogStreamName): LogView {
    return this._logs[stream]!;
  }

  showStream(stream: LogStreamName): void {
    this._stream = stream;
    for (const s of LOG_STREAMS) {
      const selected = s === stream;
      this._tabs[s]!.setAttribute('aria-selected', String(selected));
      this._tabs[s]!.classList.toggle('syft-pm-mod-selected', selected);
      const view = this._logs[s]!;
      if (selected) {
        view.show();
      } else {
        view.hide();
      }
    }
    this._logsNode.dataset.stream = stream;
  }

  /** Apply the `logLines` setting. */
  set logCapacity(value: number) {
    for (const s of LOG_STREAMS) {
      this._logs[s]!.capacity = value;
    }
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
    const active = isUp(s.status) || s.status === 'starting';
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
    const s = row.state;
    const info = this._info;
    const doc = this.node.ownerDocument;
    const dl = this._factsNode;
    dl.textContent = '';
    const add = (
      label: string,
      value: string | Node | null | undefined,
      cls = ''
    ): HTMLElement | null => {
      if (value === null || value === undefined || value === '') {
        return null;
      }
      const pair = doc.createElement('div');
      pair.className = 'syft-pm-detail-fact';
      const dt = doc.createElement('dt');
      dt.textContent = label;
      const dd = doc.createElement('dd');
      if (cls) {
        dd.className = cls;
      }
      if (typeof value === 'string') {
        dd.textContent = value;
      } else {
        dd.appendChild(value);
      }
      pair.append(dt, dd);
      dl.appendChild(pair);
      return dd;
    };
    const nowMs = Date.now();
    add('Status', statusText(row, nowMs), 'syft-pm-detail-fact-status');
    add('Reason', s.reason ?? s.error);
    add('PID', s.pid !== null && isUp(s.status) ? String(s.pid) : '');
    const up = rowUptime(row, nowMs);
    this._uptimeNode = add(
      'Uptime',
      up === null ? '' : formatUptime(up),
      'syft-pm-detail-fact-uptime'
    );
    const m = isUp(s.status) ? s.metrics : null;
    if (m) {
      add('CPU', formatCpu(m.cpu_percent));
      add('Memory', formatBytes(m.rss_bytes));
      add('Threads', String(m.threads));
      add('Children', String(m.children));
    }
    const ports = m?.ports ?? [];
    if (ports.length) {
      const span = doc.createElement('span');
      span.className = 'syft-pm-detail-fact-ports';
      for (const port of ports) {
        const a = doc.createElement('a');
        a.className = 'syft-pm-port-link';
        a.href = this._portUrl(port);
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.textContent = `${port}`;
        a.title = a.href;
        span.appendChild(a);
      }
      add('Ports', span);
    }
    if (s.health) {
      const h = s.health;
      const parts = [h.status ?? 'unknown'];
      if (h.message) {
        parts.push(h.message);
      }
      if (h.consecutive_failures) {
        parts.push(`${h.consecutive_failures} failure(s) in a row`);
      }
      if (h.checked_at) {
        parts.push(`checked ${fmtTime(h.checked_at)}`);
      }
      add(
        'Health',
        parts.join(' \u00b7 '),
        `syft-pm-health-${h.status ?? 'none'}`
      );
    }
    add('Restarts', String(s.restarts ?? 0));
    add('Restart policy', s.restart_policy);
    add('Exit code', s.exit_code === null ? '' : String(s.exit_code));
    add('Signal', s.signal);
    add('Started', fmtTime(s.started_at));
    add('Ended', isUp(s.status) ? '' : fmtTime(s.ended_at));
    add('Stop reason', s.stop_reason);
    add('Next restart', fmtTime(s.next_restart_at));
    add('TTL', s.ttl ? `${s.ttl} s` : '');
    add('Command', s.command, 'syft-pm-detail-fact-code');
    add('Working directory', s.cwd, 'syft-pm-detail-fact-code');
    const labels = Object.entries(s.labels ?? {});
    if (labels.length) {
      add('Labels', labels.map(([k, v]) => `${k}=${v}`).join(', '));
    }
    const o = s.origin ?? {};
    add('Notebook', o.notebook, 'syft-pm-detail-fact-code');
    add('Kernel', o.kernel_id, 'syft-pm-detail-fact-code');
    if (o.user || o.host) {
      add('Started by', [o.user, o.host].filter(Boolean).join(' @ '));
    }
    add('Source', o.source);
    add(
      'Seen through',
      row.source === 'kernel' ? 'the active notebook\u2019s kernel only' : ''
    );

    if (info) {
      const prov = (info.provenance ?? {}) as Record<string, unknown>;
      add('Started from', fmtValue(prov.python), 'syft-pm-detail-fact-code');
      add('Starter pid', fmtValue(prov.pid));
      add('Registry', fmtValue(info.registry_home), 'syft-pm-detail-fact-code');
      add('Directory', fmtValue(info.directory), 'syft-pm-detail-fact-code');
      const logs = (info.logs ?? {}) as Record<string, unknown>;
      for (const stream of LOG_STREAMS) {
        const paths = logs[stream];
        if (Array.isArray(paths) && paths.length) {
          add(`${stream} files`, paths.join('\n'), 'syft-pm-detail-fact-code');
        }
      }
      const config = (info.config ?? {}) as Record<string, unknown>;
      const shown = new Set([
        'cmd',
        'cwd',
        'restart',
        'ttl',
        'labels',
        'name',
        'schema'
      ]);
      for (const [k, v] of Object.entries(config)) {
        if (shown.has(k)) {
          continue;
        }
        if (k === 'env' && v && typeof v === 'object') {
          const env = Object.entries(v as Record<string, unknown>);
          if (env.length) {
            const details = doc.createElement('details');
            const sum = doc.createElement('summary');
            sum.textContent = `${env.length} variable${env.length === 1 ? '' : 's'}`;
            const pre = doc.createElement('pre');
            pre.textContent = env
              .map(([ek, ev]) => `${ek}=${fmtValue(ev)}`)
              .join('\n');
            details.append(sum, pre);
            add('Environment', details, 'syft-pm-detail-fact-code');
          }
          continue;
        }
        add(
          configLabel(k),
          k.endsWith('_at') ? fmtTime(v) : fmtValue(v),
          'syft-pm-detail-fact-code'
        );
      }
    } else if (this._infoError) {
      add('More', this._infoError);
    }
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
  private _stream: LogStreamName = 'stdout';
  private _logs: Partial<Record<LogStreamName, LogView>> = {};
  private _tabs: Partial<Record<LogStreamName, HTMLButtonElement>> = {};
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
  private _logsNode: HTMLElement;
}

const PROGRESS = {
  stop: 'Stopping',
  restart: 'Restarting',
  start: 'Starting'
} as const;

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function configLabel(key: string): string {
  const words = key.replace(/_/g, ' ');
  return capitalize(words);
}

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
