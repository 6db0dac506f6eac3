/**
 * Fakes for the sidebar's tests: a channel the test drives by hand, process
 * states, snapshots and deltas.
 */
import { Signal } from '@lumino/signaling';

import { ChannelStatus } from '../../src/live/channel';
import {
  IDeltaMessage,
  IProcessState,
  ISnapshotMessage
} from '../../src/live/protocol';
import { IProcessRow } from '../../src/sidebar/model';
import {
  delta as baseDelta,
  FakeChannel as BaseFakeChannel,
  snapshot as baseSnapshot,
  state as baseState
} from '../fixtures';

/** The sidebar's channels answer `open()` at once. */
export class FakeChannel extends BaseFakeChannel {
  openAs: ChannelStatus | null = 'open';
}

/** A process state with the sidebar tests' defaults (running, with metrics). */
export function state(
  name: string,
  fields: Partial<IProcessState> = {}
): IProcessState {
  return baseState(name, {
    pid: 1000,
    started_at: 1_700_000_000,
    command: `python ${name}.py`,
    cwd: '/work',
    metrics: {
      cpu_percent: 1.5,
      rss_bytes: 10 * 1024 * 1024,
      threads: 2,
      children: 0,
      ports: []
    },
    ...fields
  });
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

/** A snapshot of these states, stamped now, without logs. */
export function snapshot(
  states: IProcessState[],
  options: { seq?: number; registry?: string; time?: number } = {}
): ISnapshotMessage {
  return baseSnapshot({
    seq: options.seq ?? 1,
    registry_id: options.registry ?? 'reg-server',
    time: options.time ?? Date.now() / 1000,
    processes: Object.fromEntries(states.map(s => [s.name, s])),
    logs: {}
  });
}

/** A delta stamped now. */
export function delta(
  seq: number,
  parts: Partial<Omit<IDeltaMessage, 'type' | 'seq'>> = {}
): IDeltaMessage {
  return baseDelta(seq, { time: Date.now() / 1000, ...parts });
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
