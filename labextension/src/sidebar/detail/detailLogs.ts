/**
 * The logs part of a detail view: a tab per stream (stdout, stderr) and a
 * `LogView` per stream, one shown at a time, all reading one log source.
 */
import { Panel, Widget } from '@lumino/widgets';

import { ILogSource } from '../../logs/logSource';
import { LogView } from '../../logs/logView';
import { LOG_STREAMS, LogStreamName } from '../../live/protocol';

export class DetailLogs extends Panel {
  constructor(options: DetailLogs.IOptions) {
    super();
    this.addClass('syft-pm-detail-logs');
    const doc = this.node.ownerDocument;
    const tabsWidget = new Widget();
    const tabs = tabsWidget.node;
    tabs.className = 'syft-pm-lv-tabs';
    tabs.setAttribute('role', 'tablist');
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
        source: options.source,
        capacity: options.capacity,
        copy: options.copy,
        requestFrame: options.requestFrame
      });
      this._logs[stream] = view;
    }
    this.addWidget(tabsWidget);
    for (const stream of LOG_STREAMS) {
      this.addWidget(this._logs[stream]!);
    }
  }

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
    this.node.dataset.stream = stream;
  }

  /** Lines each view keeps while following (the `logLines` setting). */
  set capacity(value: number) {
    for (const s of LOG_STREAMS) {
      this._logs[s]!.capacity = value;
    }
  }

  /** Load every stream's tail and follow it. */
  start(): void {
    for (const stream of LOG_STREAMS) {
      void this._logs[stream]!.start();
    }
  }

  private _stream: LogStreamName = 'stdout';
  private _logs: Partial<Record<LogStreamName, LogView>> = {};
  private _tabs: Partial<Record<LogStreamName, HTMLButtonElement>> = {};
}

export namespace DetailLogs {
  export interface IOptions {
    /** The process name (download file names). */
    name: string;
    source: ILogSource;
    /** Lines each view keeps while following. */
    capacity: number;
    copy?: (text: string) => Promise<void> | void;
    requestFrame?: (cb: () => void) => number;
  }
}
