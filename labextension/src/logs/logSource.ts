/**
 * Where a log view reads one process's logs from.
 *
 * `RestLogSource`: the server extension's REST logs route (tail, older pages
 * by `before` cursor, new lines by `after` cursor, search on the server), rung
 * by a websocket subscribed to that one process, whose log deltas say "there
 * are new lines". Lines are read by cursor, so none is lost or doubled.
 *
 * `KernelLogSource`: a process only the active kernel sees: its comm carries
 * the lines; no paging (the comm has no cursors), search runs in the browser.
 */
import { IDisposable } from '@lumino/disposable';
import { PromiseDelegate } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import { IChannel, ISubscriptionOptions } from '../live/channel';
import { LiveConnection } from '../live/liveConnection';
import {
  LogLine,
  LogStreamName,
  LOG_STREAMS,
  ServerMessage
} from '../live/protocol';
import { ApiCall, getLogs, ILogsAnswer, ILogsQuery } from '../live/request';
import { ProcessStore } from '../live/store';

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
 * Logs through the server extension.
 */
export class RestLogSource implements ILogSource {
  /** What the doorbell channel must subscribe to: this process, with lines. */
  static subscription(name: string): ISubscriptionOptions {
    return { names: [name], logs: true };
  }

  constructor(
    readonly name: string,
    private readonly _api: ApiCall,
    options: {
      /**
       * The doorbell: a channel subscribed to this one process with log
       * lines (the server's websocket in JupyterLab); null to only poll.
       */
      channel: IChannel | null;
    }
  ) {
    const channel = options.channel;
    this._channel = channel;
    if (channel) {
      channel.received.connect(this._onMessage, this);
      channel.open();
    }
  }

  readonly canPage = true;
  readonly searchWhere = 'server' as const;

  get newLines(): ISignal<this, LogStreamName> {
    return this._newLines;
  }

  /** Whether the doorbell is connected (else the view polls). */
  get live(): boolean {
    return this._channel?.status === 'open';
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async tail(stream: LogStreamName, n: number): Promise<ILogPage> {
    const r = await this._get({ stream, lines: n });
    return {
      lines: r.lines ?? [],
      before: r.before ?? null,
      cursor: r.cursor ?? null
    };
  }

  async older(
    stream: LogStreamName,
    before: string,
    n: number
  ): Promise<ILogPage> {
    const r = await this._get({ stream, lines: n, before });
    return { lines: r.lines ?? [], before: r.before ?? null, cursor: null };
  }

  async since(
    stream: LogStreamName,
    cursor: string,
    n: number
  ): Promise<ILogSince> {
    const r = await this._get({ stream, lines: n, after: cursor });
    return {
      lines: r.lines ?? [],
      cursor: r.cursor ?? cursor,
      skipped: r.skipped ?? 0
    };
  }

  async search(
    stream: LogStreamName,
    text: string,
    n: number
  ): Promise<LogLine[]> {
    const r = await this._get({ stream, lines: n, search: text });
    // The server answers newest first.
    return (r.lines ?? []).slice().reverse();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._channel) {
      this._channel.received.disconnect(this._onMessage, this);
      this._channel.dispose();
    }
    Signal.clearData(this);
  }

  private _get(query: ILogsQuery): Promise<ILogsAnswer> {
    return getLogs(this.name, query, this._api);
  }

  private _onMessage(_: IChannel, msg: ServerMessage): void {
    if (msg.type === 'snapshot') {
      // (Re)connected: whatever was missed meanwhile is behind the cursor.
      for (const stream of LOG_STREAMS) {
        this._newLines.emit(stream);
      }
    } else if (msg.type === 'delta') {
      const logs = msg.logs[this.name];
      if (logs) {
        for (const stream of LOG_STREAMS) {
          if (logs[stream]) {
            this._newLines.emit(stream);
          }
        }
      }
    }
  }

  private _disposed = false;
  private _channel: IChannel | null;
  private _newLines = new Signal<this, LogStreamName>(this);
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
      cursor: String(ring.total)
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
    const from = Number(cursor) || 0;
    let fresh = ring.total - from;
    if (fresh < 0) {
      // A new snapshot restarted the count: take what is there.
      fresh = ring.lines.length;
    }
    const available = Math.min(fresh, ring.lines.length);
    const take = Math.min(available, n);
    return {
      lines: take > 0 ? ring.lines.slice(ring.lines.length - take) : [],
      cursor: String(ring.total),
      skipped: fresh - take
    };
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
