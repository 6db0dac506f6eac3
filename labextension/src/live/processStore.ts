/**
 * The view-side model of protocol v1: applies snapshots and deltas, detects gaps,
 * keeps a bounded ring of log lines per stream.
 *
 * A store never invents state: it only applies what the Python side sent. It is
 * per subscription (one per cell output, one for the sidebar), so views stay
 * independent and every one of them resyncs on its own.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  IDeltaMessage,
  IProcessState,
  ISnapshotMessage,
  isUp,
  LOG_STREAMS,
  LogStreamName,
  PROTOCOL_VERSION,
  ProcessLogs,
  ServerMessage
} from './protocol';
import { LogRing } from './logRing';

/**
 * What changed in one applied message; views re-render only these.
 */
export interface IStoreChange {
  /** A snapshot replaced everything: re-render all. */
  reset: boolean;
  /** Processes whose state changed (added and changed). */
  changed: ReadonlySet<string>;
  /** Processes that are gone. */
  removed: ReadonlySet<string>;
  /** Processes with new log lines. */
  logs: ReadonlySet<string>;
}

/**
 * What `apply` asks its caller to do next.
 */
export type ApplyResult = 'ok' | 'resync' | 'ignored' | 'unsupported';

export class ProcessStore {
  constructor(options: { logLines?: number } = {}) {
    this._logLines = Math.max(1, options.logLines ?? 500);
  }

  /** Emitted after each applied snapshot or delta. */
  get changed(): ISignal<ProcessStore, IStoreChange> {
    return this._changed;
  }

  /** Emitted when the store turns live or stops being live. */
  get liveChanged(): ISignal<ProcessStore, boolean> {
    return this._liveChanged;
  }

  /** Whether a snapshot arrived and no gap or disconnect happened since. */
  get live(): boolean {
    return this._live;
  }

  get registryId(): string | null {
    return this._registryId;
  }

  /** Sequence number of the last applied message (0 before any snapshot). */
  get seq(): number {
    return this._seq;
  }

  /**
   * Seconds to add to the Python clock to get this browser's clock; used to
   * tick uptimes locally without trusting the two clocks to agree.
   */
  get clockOffset(): number {
    return this._clockOffset;
  }

  get size(): number {
    return this._processes.size;
  }

  /** Log lines kept per stream of each process. */
  get logLines(): number {
    return this._logLines;
  }

  /**
   * Keep `n` log lines per stream from now on; rings that hold more drop
   * their oldest lines now. Nothing is emitted: the owner of the store tells
   * its views to render again.
   */
  setLogLines(n: number): void {
    this._logLines = Math.max(1, n);
    for (const streams of this._logs.values()) {
      for (const stream of LOG_STREAMS) {
        streams[stream].resize(this._logLines);
      }
    }
  }

  names(): string[] {
    return [...this._processes.keys()];
  }

  get(name: string): IProcessState | undefined {
    return this._processes.get(name);
  }

  all(): IProcessState[] {
    return [...this._processes.values()];
  }

  logs(name: string, stream: LogStreamName): LogRing {
    let streams = this._logs.get(name);
    if (!streams) {
      streams = this._newStreams();
      this._logs.set(name, streams);
    }
    return streams[stream];
  }

  /** Seconds a process has been up, by this browser's clock (null if not up). */
  uptime(name: string, nowMs: number = Date.now()): number | null {
    const p = this._processes.get(name);
    if (!p || p.started_at === null || !isUp(p.status)) {
      return null;
    }
    return Math.max(0, nowMs / 1000 - (p.started_at + this._clockOffset));
  }

  /**
   * Apply one message. `resync` means a gap was seen: the caller must ask for
   * a fresh snapshot; deltas are ignored until it arrives.
   */
  apply(msg: ServerMessage, nowMs: number = Date.now()): ApplyResult {
    switch (msg.type) {
      case 'snapshot':
        if (msg.protocol !== PROTOCOL_VERSION) {
          this.setLive(false);
          return 'unsupported';
        }
        this._applySnapshot(msg, nowMs);
        return 'ok';
      case 'delta':
        if (!this._live) {
          return 'ignored';
        }
        if (msg.seq !== this._seq + 1) {
          this.setLive(false);
          return 'resync';
        }
        this._applyDelta(msg, nowMs);
        return 'ok';
      case 'heartbeat':
        if (this._live && msg.seq !== this._seq) {
          this.setLive(false);
          return 'resync';
        }
        this._clockOffset = nowMs / 1000 - msg.time;
        return this._live ? 'ok' : 'ignored';
      default:
        return 'ignored';
    }
  }

  /** Mark the data as not live (transport lost); it stays visible. */
  setLive(live: boolean): void {
    if (this._live !== live) {
      this._live = live;
      this._liveChanged.emit(live);
    }
  }

  private _applySnapshot(msg: ISnapshotMessage, nowMs: number): void {
    this._processes = new Map(Object.entries(msg.processes));
    this._logs = new Map();
    for (const [name, logs] of Object.entries(msg.logs)) {
      this._appendLogs(name, logs);
    }
    this._registryId = msg.registry_id;
    this._seq = msg.seq;
    this._clockOffset = nowMs / 1000 - msg.time;
    this.setLive(true);
    this._changed.emit({
      reset: true,
      changed: new Set(this._processes.keys()),
      removed: new Set(),
      logs: new Set(Object.keys(msg.logs))
    });
  }

  private _applyDelta(msg: IDeltaMessage, nowMs: number): void {
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (const [name, state] of Object.entries(msg.added)) {
      this._processes.set(name, state);
      this._logs.delete(name);
      changed.add(name);
    }
    for (const [name, fields] of Object.entries(msg.changed)) {
      const old = this._processes.get(name);
      if (old) {
        this._processes.set(name, { ...old, ...fields });
        changed.add(name);
      }
    }
    for (const name of msg.removed) {
      this._processes.delete(name);
      this._logs.delete(name);
      removed.add(name);
    }
    for (const [name, logs] of Object.entries(msg.logs)) {
      this._appendLogs(name, logs);
    }
    this._seq = msg.seq;
    this._clockOffset = nowMs / 1000 - msg.time;
    this._changed.emit({
      reset: false,
      changed,
      removed,
      logs: new Set(Object.keys(msg.logs))
    });
  }

  private _appendLogs(name: string, logs: ProcessLogs): void {
    for (const stream of LOG_STREAMS) {
      const chunk = logs[stream];
      if (chunk) {
        this.logs(name, stream).append(chunk.lines, chunk.skipped);
      }
    }
  }

  private _newStreams(): Record<LogStreamName, LogRing> {
    return {
      stdout: new LogRing(this._logLines),
      stderr: new LogRing(this._logLines)
    };
  }

  private _logLines: number;
  private _processes = new Map<string, IProcessState>();
  private _logs = new Map<string, Record<LogStreamName, LogRing>>();
  private _registryId: string | null = null;
  private _seq = 0;
  private _clockOffset = 0;
  private _live = false;
  private _changed = new Signal<ProcessStore, IStoreChange>(this);
  private _liveChanged = new Signal<ProcessStore, boolean>(this);
}
