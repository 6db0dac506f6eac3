/**
 * A "Processes" section for JupyterLab's Running panel (`IRunningSessionManagers`),
 * the place users already look for what runs: one item per managed process
 * (its name, its status as detail text and class), a stop button on the
 * active ones, "Stop All" for every active one, a click opens its detail view.
 *
 * It reads the sidebar's fleet: the same websocket (and kernel comm) feeds
 * both, so the section costs no connection of its own. The Running panel
 * re-renders a whole section on `runningChanged`, so the signal only fires
 * when something an item shows (which processes, their status) changed, not
 * on every metrics update.
 *
 * The panel draws a new section first from the items it read when it made
 * the section, and a `runningChanged` fired before its React view mounted is
 * lost; its own sections recover on their next poll, this one has no poll.
 * So the section is added once the fleet has its first data (`firstData`),
 * and each burst of changes is signalled once more a second later.
 *
 * The section lists at most `LIMIT` processes: the active ones, then the
 * ones that ended last; one more item says how many the Processes sidebar
 * has besides, and opens it. The panel draws every item as a toolkit tree
 * item (a web component), drawn even while the panel is hidden and kept
 * alive: about 95 KB of JavaScript heap and 50 DOM nodes each. A registry
 * of 1,000 processes made the page's JavaScript heap five times as big
 * (24 -> 120 MB), and every full garbage collection, which marks all of it,
 * a main-thread pause of about 300 ms (bench/bench_sidebar.py's log flood).
 */
import type { IRunningSessions } from '@jupyterlab/running';
import type { LabIcon } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { isActive } from '../live/protocol';
import { statusClass } from '../process/format';
import { IProcessRow } from './model';
import { IRowsChange } from './processFleet';

/** What the section reads of the sidebar's fleet. */
export interface IRunningFleet {
  readonly rows: ReadonlyMap<string, IProcessRow>;
  readonly rowsChanged: ISignal<unknown, IRowsChange>;
}

/** The class of every item (plus `syft-pm-running-<status>` and its tone). */
export const RUNNING_ITEM_CLASS = 'syft-pm-running-item';

/** The class of the last item, when the section leaves processes out. */
export const RUNNING_MORE_CLASS = 'syft-pm-running-more';

export class RunningProcesses
  implements IRunningSessions.IManager, IDisposable
{
  constructor(options: RunningProcesses.IOptions) {
    this._options = options;
    this._seen = this._shown(options.fleet.rows.keys());
    options.fleet.rowsChanged.connect(this._onRowsChanged, this);
  }

  readonly name = 'Processes';
  /** The repeat of a change signal (see the module's comment). */
  static readonly REPEAT_MS = 1000;
  /** The most processes listed (see the module's comment). */
  static readonly LIMIT = 50;
  readonly shutdownLabel = (item: IRunningSessions.IRunningItem): string =>
    `Stop ${String(item.label())}`;
  readonly shutdownAllLabel = 'Stop All';
  readonly shutdownAllConfirmationText = (): string => {
    const n = this._activeKeys().length;
    return n === 0
      ? 'No process is active.'
      : `Stop ${n} active process${n === 1 ? '' : 'es'} (and their process trees)?`;
  };

  get runningChanged(): ISignal<this, void> {
    return this._runningChanged;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * One item per process, the active ones first, then by name; past `LIMIT`,
   * the active ones and those that ended last, and an item for the others.
   */
  running(): IRunningSessions.IRunningItem[] {
    const all = [...this._options.fleet.rows.values()];
    const rows = all.length > RunningProcesses.LIMIT ? latest(all) : all;
    rows.sort(
      (a, b) =>
        Number(isActive(b.state.status)) - Number(isActive(a.state.status)) ||
        a.name.localeCompare(b.name) ||
        a.key.localeCompare(b.key)
    );
    const items = rows.map(row => this._item(row));
    if (all.length > rows.length) {
      items.push(this._more(all.length - rows.length, all.length));
    }
    return items;
  }

  /** Stop every active process (the panel asked the user first). */
  shutdownAll(): void {
    void Promise.allSettled(
      this._activeKeys().map(key => this._options.stop(key))
    );
  }

  /** Nothing to fetch: the fleet's connection pushes every change. */
  refreshRunning(): void {
    this._runningChanged.emit();
  }

  /** Signal a change now, and once more when the burst is over. */
  private _changed(): void {
    this._runningChanged.emit();
    if (this._repeat !== null) {
      clearTimeout(this._repeat);
    }
    this._repeat = setTimeout(() => {
      this._repeat = null;
      if (!this._disposed) {
        this._runningChanged.emit();
      }
    }, RunningProcesses.REPEAT_MS);
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._repeat !== null) {
      clearTimeout(this._repeat);
      this._repeat = null;
    }
    this._options.fleet.rowsChanged.disconnect(this._onRowsChanged, this);
    Signal.clearData(this);
  }

  private _item(row: IProcessRow): IRunningSessions.IRunningItem {
    const { key, name, source } = row;
    const status = row.state.status;
    const where = source === 'kernel' ? ' (this kernel only)' : '';
    return {
      className: `${RUNNING_ITEM_CLASS} syft-pm-running-${status} ${statusClass(status)}`,
      context: key,
      icon: () => this._options.icon,
      label: () => name,
      labelTitle: () =>
        `${name}\n${status}${where}${row.state.command ? `\n${row.state.command}` : ''}`,
      detail: () => status,
      open: () => this._options.open(key),
      shutdown: isActive(status)
        ? () => void this._options.stop(key).catch(() => undefined)
        : undefined
    };
  }

  /** The item that stands for `count` processes left out. */
  private _more(count: number, total: number): IRunningSessions.IRunningItem {
    return {
      className: RUNNING_MORE_CLASS,
      context: '',
      icon: () => this._options.icon,
      label: () => `${count} more in the Processes sidebar`,
      labelTitle: () =>
        `Listed here: the active processes and those that ended last, ${RunningProcesses.LIMIT} at most.\nThe Processes sidebar lists all ${total}.`,
      open: () => this._options.showAll?.()
    };
  }

  private _activeKeys(): string[] {
    return [...this._options.fleet.rows.values()]
      .filter(r => isActive(r.state.status))
      .map(r => r.key);
  }

  /** What the items of `keys` show (status and command), by key. */
  private _shown(keys: Iterable<string>): Map<string, string> {
    const rows = this._options.fleet.rows;
    const shown = new Map<string, string>();
    for (const key of keys) {
      const row = rows.get(key);
      if (row) {
        shown.set(key, `${row.state.status}\u0000${row.state.command}`);
      }
    }
    return shown;
  }

  private _onRowsChanged(_: unknown, change: IRowsChange): void {
    let differs = change.removed.size > 0;
    for (const key of change.removed) {
      this._seen.delete(key);
    }
    const keys = change.reset
      ? this._options.fleet.rows.keys()
      : change.changed;
    for (const [key, shown] of this._shown(keys)) {
      if (this._seen.get(key) !== shown) {
        this._seen.set(key, shown);
        differs = true;
      }
    }
    if (change.reset) {
      for (const key of [...this._seen.keys()]) {
        if (!this._options.fleet.rows.has(key)) {
          this._seen.delete(key);
          differs = true;
        }
      }
    }
    if (differs) {
      this._changed();
    }
  }

  private _options: RunningProcesses.IOptions;
  /** What each item showed when the panel last heard of it. */
  private _seen: Map<string, string>;
  private _disposed = false;
  private _repeat: ReturnType<typeof setTimeout> | null = null;
  private _runningChanged = new Signal<this, void>(this);
}

/**
 * `LIMIT` rows: the active ones first (by name), then those that ended last.
 */
function latest(rows: IProcessRow[]): IProcessRow[] {
  const ended = (r: IProcessRow): number =>
    r.state.ended_at ?? r.state.started_at ?? 0;
  return rows
    .map(row => ({ row, active: isActive(row.state.status) }))
    .sort(
      (a, b) =>
        Number(b.active) - Number(a.active) ||
        (a.active
          ? a.row.name.localeCompare(b.row.name)
          : ended(b.row) - ended(a.row))
    )
    .slice(0, RunningProcesses.LIMIT)
    .map(r => r.row);
}

/**
 * Resolves when the fleet delivers its first rows (a snapshot, even an empty
 * one), or after `timeoutMs` (no server extension, no kernel yet).
 */
export function firstData(
  fleet: IRunningFleet,
  timeoutMs = 5000
): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      clearTimeout(timer);
      fleet.rowsChanged.disconnect(done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    fleet.rowsChanged.connect(done);
  });
}

export namespace RunningProcesses {
  export interface IOptions {
    fleet: IRunningFleet;
    /** Open the detail view of a row. */
    open: (key: string) => void;
    /** Stop a row's process; rejects on failure (the caller shows it). */
    stop: (key: string) => Promise<void>;
    /** Show the Processes sidebar (the item for the processes left out). */
    showAll?: () => void;
    /** The items' icon. */
    icon: LabIcon;
  }
}
