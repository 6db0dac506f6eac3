/**
 * The detail views the sidebar opens, one per row: each made with the log
 * source that can read its process (the server's REST routes, or the comm of
 * the active notebook's kernel for a process only that kernel sees), kept on
 * the `logLines` setting, ticked while visible, disposed with the sidebar.
 */
import { ISignal } from '@lumino/signaling';

import { IChannel } from '../live/channel';
import { KernelChannel } from '../live/kernelChannel';
import { ServerChannel } from '../live/serverChannel';
import {
  detailId,
  IDetailController,
  ProcessDetail
} from './detail/processDetail';
import { processIcon } from './processIcon';
import { KernelLogSource } from '../logs/logSource';
import { RestLogSource } from './detail/restLogSource';
import { IActiveNotebook, IRowsChange, ProcessFleet } from './processFleet';
import { ProcessList } from './processList';
import { Action, LogStreamName } from '../live/protocol';
import { ISyftPmSettings } from '../ui/settings';
import { IProcessRow } from './model';

/**
 * What the detail views use of the sidebar.
 */
export interface IDetailHost {
  readonly fleet: ProcessFleet;
  readonly list: ProcessList;
  readonly rowsChanged: ISignal<unknown, IRowsChange>;
  readonly settings: Readonly<ISyftPmSettings>;
  readonly activeNotebook: IActiveNotebook | null;
  resolve(nameOrKey: string | null | undefined): IProcessRow | undefined;
  perform(key: string, action: Exclude<Action, 'remove'>): Promise<void>;
  remove(key: string): Promise<boolean>;
  portUrl(port: number): string;
}

export class DetailViews {
  constructor(host: IDetailHost, options: DetailViews.IOptions) {
    this._host = host;
    this._options = options;
    this._controller = {
      row: k => host.fleet.row(k),
      rowsChanged: host.rowsChanged,
      perform: (k, action) => host.perform(k, action),
      remove: k => host.remove(k),
      info: k => host.fleet.info(k),
      openNotebook: path => options.openPath?.(path),
      serverRoot: options.serverRoot ?? null
    };
  }

  /** Open detail views, by row key. */
  get views(): ReadonlyMap<string, ProcessDetail> {
    return this._views;
  }

  /**
   * Open (or reveal) the detail view of a process, on `stream`'s logs, and
   * select its row; null when there is no such process.
   */
  open(
    nameOrKey?: string | null,
    stream?: LogStreamName
  ): ProcessDetail | null {
    const row = this._host.resolve(nameOrKey);
    if (!row) {
      return null;
    }
    let detail = this._views.get(row.key);
    if (detail && !detail.isDisposed) {
      if (stream) {
        detail.showStream(stream);
      }
    } else {
      detail = this._create(row, stream);
    }
    this._host.list.select(row.key);
    this._options.addDetail?.(detail);
    return detail;
  }

  /** Apply the `logLines` setting to every open view. */
  set logCapacity(value: number) {
    for (const detail of this._views.values()) {
      detail.logCapacity = value;
    }
  }

  /** Refresh the clock-driven parts of the visible views. */
  tick(now: number): void {
    for (const detail of this._views.values()) {
      if (detail.isVisible) {
        detail.tick(now);
      }
    }
  }

  dispose(): void {
    for (const detail of [...this._views.values()]) {
      detail.dispose();
    }
  }

  private _create(row: IProcessRow, stream?: LogStreamName): ProcessDetail {
    const host = this._host;
    const options = this._options;
    const key = row.key;
    const name = row.name;
    const fleet = host.fleet;
    const kernel = host.activeNotebook?.kernel ?? null;
    const createLogSource = () =>
      row.source === 'kernel' && kernel
        ? new KernelLogSource(
            name,
            new KernelChannel(
              kernel,
              KernelLogSource.subscription(name, host.settings.logLines)
            ),
            host.settings.logLines
          )
        : new RestLogSource(name, fleet.api, {
            channel: options.logChannel
              ? options.logChannel(name)
              : new ServerChannel(RestLogSource.subscription(name))
          });
    const detail = new ProcessDetail({
      key,
      name,
      controller: this._controller,
      portUrl: port => host.portUrl(port),
      logCapacity: host.settings.logLines,
      createLogSource,
      stream,
      copy: options.copy,
      requestFrame: options.requestFrame
    });
    detail.id = detailId(key);
    if (options.detailIcon !== undefined) {
      detail.title.icon = options.detailIcon;
    } else {
      detail.title.icon = processIcon;
    }
    this._views.set(key, detail);
    detail.disposed.connect(() => {
      if (this._views.get(key) === detail) {
        this._views.delete(key);
      }
    });
    return detail;
  }

  private _host: IDetailHost;
  private _options: DetailViews.IOptions;
  private _controller: IDetailController;
  private _views = new Map<string, ProcessDetail>();
}

export namespace DetailViews {
  /** The sidebar's options the detail views use. */
  export interface IOptions {
    /** Show a detail view (the app adds it to the main area). */
    addDetail?: (detail: ProcessDetail) => void;
    /** Open a file by its JupyterLab path (the app runs `docmanager:open`). */
    openPath?: (path: string) => void;
    /** The server's root directory (notebook paths of origins). */
    serverRoot?: string | null;
    /** The log doorbell channel of a detail view (tests). */
    logChannel?: (name: string) => IChannel | null;
    /** Put text on the clipboard. */
    copy?: (text: string) => Promise<void> | void;
    /** Schedule a DOM flush (tests pass a synchronous one). */
    requestFrame?: (cb: () => void) => number;
    /** The icon of detail tabs (default: the process icon). */
    detailIcon?: ProcessDetail['title']['icon'];
  }
}
