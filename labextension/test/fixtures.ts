/**
 * Protocol v1 messages and a fake channel for the unit tests.
 */
import { Signal } from '@lumino/signaling';

import { ChannelStatus, IChannel } from '../src/live/channel';
import {
  ClientMessage,
  ServerMessage,
  IDeltaMessage,
  IProcessState,
  ISnapshotMessage
} from '../src/live/protocol';

export function state(
  name: string,
  fields: Partial<IProcessState> = {}
): IProcessState {
  return {
    name,
    status: 'running',
    reason: null,
    pid: 4242,
    exit_code: null,
    signal: null,
    restarts: 0,
    started_at: 1_000,
    ended_at: null,
    stop_reason: null,
    next_restart_at: null,
    command: 'python -u ticker.py',
    cwd: '/tmp',
    restart_policy: 'no',
    ttl: null,
    labels: {},
    origin: {},
    health: null,
    metrics: null,
    error: null,
    runner: null,
    ready_at: null,
    restart_reason: null,
    bind: null,
    max_memory: null,
    ...fields
  };
}

export function snapshot(
  fields: Partial<ISnapshotMessage> = {}
): ISnapshotMessage {
  return {
    type: 'snapshot',
    protocol: 1,
    seq: 1,
    registry_id: 'reg-1',
    time: 1_010,
    scope: null,
    processes: { web: state('web') },
    logs: {
      web: {
        stdout: { lines: [[1_005, 'hello']], skipped: 0 },
        stderr: { lines: [], skipped: 0 }
      }
    },
    ...fields
  };
}

export function delta(
  seq: number,
  fields: Partial<IDeltaMessage> = {}
): IDeltaMessage {
  return {
    type: 'delta',
    seq,
    time: 1_011,
    added: {},
    changed: {},
    removed: [],
    logs: {},
    ...fields
  };
}

/**
 * A channel whose traffic the test drives by hand.
 */
export class FakeChannel implements IChannel {
  constructor(readonly kind: 'kernel' | 'server' = 'server') {}
  readonly sent: ClientMessage[] = [];
  status: ChannelStatus = 'closed';
  statusChanged: Signal<IChannel, ChannelStatus> = new Signal(this);
  received: Signal<IChannel, ServerMessage> = new Signal(this);
  isDisposed = false;
  /** How many times `open()` was called. */
  opens = 0;
  /** What a reconnecting channel would report. */
  retryInMs: number | null = null;
  /** When set, `open()` answers with this status at once. */
  openAs: ChannelStatus | null = null;
  open(): void {
    this.opens++;
    this.setStatus('connecting');
    if (this.openAs) {
      this.setStatus(this.openAs);
    }
  }
  send(msg: ClientMessage): boolean {
    if (this.status !== 'open') {
      return false;
    }
    this.sent.push(msg);
    return true;
  }
  setStatus(status: ChannelStatus): void {
    if (this.status !== status) {
      this.status = status;
      this.statusChanged.emit(status);
    }
  }
  deliver(msg: ServerMessage): void {
    this.setStatus('open');
    this.received.emit(msg);
  }
  dispose(): void {
    if (!this.isDisposed) {
      this.isDisposed = true;
      this.setStatus('closed');
      Signal.clearData(this);
    }
  }
}
