/**
 * The logs of one process through the server extension's REST logs route
 * (tail, older pages by `before` cursor, new lines by `after` cursor, search
 * on the server), rung by a websocket subscribed to that one process, whose
 * log deltas say "there are new lines". Lines are read by cursor, so none is
 * lost or doubled.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IChannel, ISubscriptionOptions } from '../../live/channel';
import {
  LogLine,
  LogStreamName,
  LOG_STREAMS,
  ServerMessage
} from '../../live/protocol';
import { ApiCall, getLogs, ILogsAnswer, ILogsQuery } from '../../live/request';
import { ILogPage, ILogSince, ILogSource } from '../../logs/logSource';

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
