/**
 * Fakes for the sidebar's tests: a channel the test drives by hand, process
 * states, snapshots and deltas.
 */
import { Signal } from '@lumino/signaling';

import { ChannelStatus, IChannel } from '../src/channel';
import {
  ClientMessage,
  IDeltaMessage,
  IProcessState,
  ISnapshotMessage,
  ServerMessage
} from '../src/protocol';
import { IProcessRow } from '../src/sidebarModel';

export class FakeChannel implements IChannel {
  constructor(readonly kind: 'kernel' | 'server' = 'server') {}

  status: ChannelStatus = 'closed';
  readonly statusChanged: Signal<IChannel, ChannelStatus> = new Signal<
    IChannel,
    ChannelStatus
  >(this);
  readonly received: Signal<IChannel, ServerMessage> = new Signal<
    IChannel,
    ServerMessage
  >(this);
  readonly sent: ClientMessage[] = [];
  opens = 0;
  retryInMs: number | null = null;
  isDisposed = false;
  /** When set, `open()` answers with this status at once. */
  openAs: ChannelStatus | null = 'open';

  open(): void {
    this.opens += 1;
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
    this.received.emit(msg);
  }

  dispose(): void {
    this.isDisposed = true;
    this.setStatus('closed');
    Signal.clearData(this);
  }
}

export function state(
  name: string,
  fields: Partial<IProcessState> = {}
): IProcessState {
  return {
    name,
    status: 'running',
    reason: null,
    pid: 1000,
    exit_code: null,
    signal: null,
    restarts: 0,
    started_at: 1_700_000_000,
    ended_at: null,
    stop_reason: null,
    next_restart_at: null,
    command: `python ${name}.py`,
    cwd: '/work',
    restart_policy: 'no',
    ttl: null,
    labels: {},
    origin: {},
    health: null,
    metrics: {
      cpu_percent: 1.5,
      rss_bytes: 10 * 1024 * 1024,
      threads: 2,
      children: 0,
      ports: []
    },
    error: null,
    ...fields
  };
}

export function row(
  name: string,
  fields: Partial<IProcessState> = {},
  source: 'server' | 'kernel' = 'server'
): IProcessRow {
  return {
    key: source === 'kernel' ? `kernel:${name}` : name,
    name,
    source,
    state: state(name, fields),
    clockOffset: 0
  };
}

export function snapshot(
  states: IProcessState[],
  options: { seq?: number; registry?: string; time?: number } = {}
): ISnapshotMessage {
  return {
    type: 'snapshot',
    protocol: 1,
    seq: options.seq ?? 1,
    registry_id: options.registry ?? 'reg-server',
    time: options.time ?? Date.now() / 1000,
    scope: null,
    processes: Object.fromEntries(states.map(s => [s.name, s])),
    logs: {}
  };
}

export function delta(
  seq: number,
  parts: Partial<Omit<IDeltaMessage, 'type' | 'seq'>> = {}
): IDeltaMessage {
  return {
    type: 'delta',
    seq,
    time: Date.now() / 1000,
    added: {},
    changed: {},
    removed: [],
    logs: {},
    ...parts
  };
}

/**
 * Just enough of a kernel connection for the fleet's kernel link.
 */
export function fakeKernel(id = 'k-1'): any {
  return {
    id,
    isDisposed: false,
    anyMessage: new Signal<any, any>({}),
    statusChanged: new Signal<any, any>({}),
    disposed: new Signal<any, any>({})
  };
}

/** A frame scheduler the test flushes by hand. */
export function manualFrames(): {
  request: (cb: () => void) => number;
  flush: () => void;
  pending: () => number;
} {
  let queue: (() => void)[] = [];
  return {
    request: cb => {
      queue.push(cb);
      return queue.length;
    },
    flush: () => {
      const q = queue;
      queue = [];
      for (const cb of q) {
        cb();
      }
    },
    pending: () => queue.length
  };
}

/** Runs frame callbacks at once. */
export const syncFrame = (cb: () => void): number => {
  cb();
  return 0;
};
