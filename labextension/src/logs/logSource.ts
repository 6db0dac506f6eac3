/**
 * Where a log view reads one process's logs from.
 *
 * `ILogSource` is what a log view reads; `KernelLogSource` reads a channel,
 * so it works wherever a channel does. The server's REST source, which needs
 * JupyterLab's HTTP settings, lives with its user, the sidebar's detail view
 * (`sidebar/detail/restLogSource.ts`).
 *
 * `KernelLogSource`: a process only the active kernel sees: its comm carries
 * the lines; no paging (the comm has no cursors), search runs in the browser.
 */
import { IDisposable } from '@lumino/disposable';
import { PromiseDelegate } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import { IChannel, ISubscriptionOptions } from '../live/channel';
import { LiveConnection } from '../live/liveConnection';
import { LogLine, LogStreamName, LOG_STREAMS } from '../live/protocol';
import { LogRing } from '../live/logRing';
import { ProcessStore } from '../live/processStore';

export interface ILogPage {
  /** Oldest first. */
  lines: LogLine[];
  /** Cursor to page further back; null at the oldest retained line. */
  before: string | null;
  /** Cursor to follow from. */
  cursor: string | null;
}

export interface ILogSince {
  lines: LogLine[];
  cursor: string | null;
  /** Lines that were not sent (a flood beyond the page size). */
  skipped: number;
}

export interface ILogSource extends IDisposable {
  /** Whether older lines can be paged in. */
  readonly canPage: boolean;
  /** Where the search runs, for the user: `server` or `browser`. */
  readonly searchWhere: 'server' | 'browser';
  /** Whether `newLines` rings by itself now (else the view polls). */
  readonly live: boolean;
  /** Rings when a stream has new lines to fetch with `since`. */
  readonly newLines: ISignal<ILogSource, LogStreamName>;
  tail(stream: LogStreamName, n: number): Promise<ILogPage>;
  older(stream: LogStreamName, before: string, n: number): Promise<ILogPage>;
  since(stream: LogStreamName, cursor: string, n: number): Promise<ILogSince>;
  /** Lines containing `text` (case-insensitive), oldest first. */
  search(stream: LogStreamName, text: string, n: number): Promise<LogLine[]>;
}

/**
 * Logs of a process only a kernel sees, through its comm.
 */
export class KernelLogSource implements ILogSource {
  /** What the kernel's channel must subscribe to: this process, with lines. */
  static subscription(name: string, capacity: number): ISubscriptionOptions {
    return { names: [name], logs: true, logLines: capacity };
  }

  constructor(
    readonly name: string,
    /**
     * The kernel's channel, opened with `KernelLogSource.subscription`.
     */
    channel: IChannel,
    capacity: number
  ) {
    this._channel = channel;
    this._store = new ProcessStore({ logLines: capacity });
    this._connection = new LiveConnection(this._store, channel);
    // Nobody may be waiting when the channel closes early.
    this._ready.promise.catch(() => undefined);
    this._store.changed.connect((_, change) => {
      if (change.reset) {
        this._ready.resolve();
      }
      if (change.logs.has(name) || change.reset) {
        for (const stream of LOG_STREAMS) {
          this._newLines.emit(stream);
        }
      }
    });
    channel.statusChanged.connect((_, status) => {
      if (status === 'closed') {
        this._ready.reject(new Error('the kernel closed its syft_pm channel'));
      }
    });
    channel.open();
  }

  readonly canPage = false;
  readonly searchWhere = 'browser' as const;

  get live(): boolean {
    return this._channel.status === 'open';
  }

  get newLines(): ISignal<this, LogStreamName> {
    return this._newLines;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async tail(stream: LogStreamName, n: number): Promise<ILogPage> {
    await this._ready.promise;
    const ring = this._store.logs(this.name, stream);
    return {
      lines: ring.lines.slice(-n),
      before: null,
      cursor: cursorOf(ring)
    };
  }

  async older(): Promise<ILogPage> {
    return { lines: [], before: null, cursor: null };
  }

  async since(
    stream: LogStreamName,
    cursor: string,
    n: number
  ): Promise<ILogSince> {
    const ring = this._store.logs(this.name, stream);
    const [from, skippedThen, rewritesThen] = parseCursor(cursor);
    let fresh = ring.total - from;
    if (fresh < 0) {
      // A new snapshot restarted the count: take what is there.
      fresh = ring.lines.length;
    }
    const available = Math.min(fresh, ring.lines.length);
    const take = Math.min(available, n);
    const lines = take > 0 ? ring.lines.slice(ring.lines.length - take) : [];
    // A progress bar drew over the line that was last then: send it again as
    // a redraw of that line (`\r` + its text), which the view draws over it.
    const last = ring.lines.length - 1 - fresh;
    if (
      ring.rewrites !== rewritesThen &&
      ring.skipped === skippedThen &&
      fresh <= n &&
      last >= 0
    ) {
      const [t, text] = ring.lines[last];
      lines.unshift([t, `\r${text}`, 1]);
    }
    return { lines, cursor: cursorOf(ring), skipped: fresh - take };
  }

  async search(
    stream: LogStreamName,
    text: string,
    n: number
  ): Promise<LogLine[]> {
    const needle = text.toLowerCase();
    const lines = this._store.logs(this.name, stream).lines;
    const found: LogLine[] = [];
    for (let i = lines.length - 1; i >= 0 && found.length < n; i--) {
      if (lines[i][1].toLowerCase().includes(needle)) {
        found.push(lines[i]);
      }
    }
    return found.reverse();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._connection.dispose();
    this._channel.dispose();
    Signal.clearData(this._store);
    Signal.clearData(this);
  }

  private _disposed = false;
  private _channel: IChannel;
  private _store: ProcessStore;
  private _connection: LiveConnection;
  private _ready = new PromiseDelegate<void>();
  private _newLines = new Signal<this, LogStreamName>(this);
}

/**
 * A kernel source's cursor: the ring's lines appended, skipped and rewritten
 * when it was taken (`since` tells new lines and a redrawn last line apart).
 */
function cursorOf(ring: LogRing): string {
  return `${ring.total}:${ring.skipped}:${ring.rewrites}`;
}

function parseCursor(cursor: string): [number, number, number] {
  const [total, skipped, rewrites] = cursor.split(':').map(Number);
  return [total || 0, skipped || 0, rewrites || 0];
}
