import { Kernel, KernelMessage, ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ChannelStatus } from '../../src/live/channel';
import { KernelChannel } from '../../src/live/kernelChannel';
import { LiveConnection } from '../../src/live/liveConnection';
import { RECONNECT, ServerChannel } from '../../src/live/serverChannel';
import { ServerMessage } from '../../src/live/protocol';
import { ProcessStore } from '../../src/live/processStore';
import { delta, FakeChannel, snapshot } from '../fixtures';

describe('LiveConnection', () => {
  let store: ProcessStore;
  let channel: FakeChannel;
  let connection: LiveConnection;

  beforeEach(() => {
    store = new ProcessStore();
    channel = new FakeChannel();
    connection = new LiveConnection(store, channel);
  });

  afterEach(() => {
    connection.dispose();
    channel.dispose();
  });

  it('feeds the store', () => {
    channel.deliver(snapshot());
    channel.deliver(delta(2, { changed: { web: { status: 'stopped' } } }));
    expect(store.live).toBe(true);
    expect(store.get('web')?.status).toBe('stopped');
    expect(channel.sent).toEqual([]);
  });

  it('asks for a resync on a gap, once, and recovers with the snapshot', () => {
    channel.deliver(snapshot({ seq: 1 }));
    channel.deliver(delta(3));
    expect(channel.sent).toEqual([{ type: 'resync' }]);
    expect(store.live).toBe(false);
    channel.deliver(delta(4));
    expect(channel.sent).toHaveLength(1);
    channel.deliver(snapshot({ seq: 9 }));
    expect(store.live).toBe(true);
    channel.deliver(delta(10));
    expect(store.seq).toBe(10);
  });

  it('asks for a resync when a heartbeat says it missed a delta', () => {
    channel.deliver(snapshot({ seq: 2 }));
    channel.deliver({ type: 'heartbeat', seq: 3, time: 1 });
    expect(channel.sent).toEqual([{ type: 'resync' }]);
  });

  it('matches action results to their requests by id', async () => {
    channel.deliver(snapshot());
    const stop = connection.action('stop', 'web');
    const restart = connection.action('restart', 'web', { timeout: 2 });
    expect(channel.sent).toEqual([
      { type: 'action', id: 'a1', action: 'stop', name: 'web', args: {} },
      {
        type: 'action',
        id: 'a2',
        action: 'restart',
        name: 'web',
        args: { timeout: 2 }
      }
    ]);
    // Answers may come in any order; unknown ids are ignored.
    channel.deliver({
      type: 'action_result',
      id: 'zzz',
      ok: true,
      error: null,
      result: null
    });
    channel.deliver({
      type: 'action_result',
      id: 'a2',
      ok: false,
      error: 'no such process',
      result: null
    });
    channel.deliver({
      type: 'action_result',
      id: 'a1',
      ok: true,
      error: null,
      result: { status: 'stopped' }
    });
    await expect(stop).resolves.toEqual({ status: 'stopped' });
    await expect(restart).rejects.toThrow('no such process');
  });

  it('rejects an action at once when the channel is not open', async () => {
    await expect(connection.action('stop', 'web')).rejects.toThrow(
      'not connected'
    );
  });

  it('fails pending actions and marks the store not live on close', async () => {
    channel.deliver(snapshot());
    const pending = connection.action('stop', 'web');
    channel.setStatus('closed');
    await expect(pending).rejects.toThrow(/connection lost/);
    expect(store.live).toBe(false);
    // The last known state stays visible.
    expect(store.get('web')?.status).toBe('running');
  });

  it('fails pending actions on dispose and stops listening', async () => {
    channel.deliver(snapshot());
    const pending = connection.action('stop', 'web');
    connection.dispose();
    await expect(pending).rejects.toThrow('disconnected');
    channel.deliver(delta(2, { changed: { web: { pid: 1 } } }));
    expect(store.get('web')?.pid).toBe(4242);
  });

  it('reports error messages and refuses an unknown protocol version', () => {
    const errors: string[] = [];
    connection.errorReceived.connect((_, m) => errors.push(m));
    channel.deliver({
      type: 'error',
      code: 'bad',
      message: 'cannot subscribe'
    });
    channel.deliver(snapshot({ protocol: 99 }));
    expect(errors[0]).toBe('cannot subscribe');
    expect(errors[1]).toMatch(/protocol 99/);
    expect(store.live).toBe(false);
  });
});

describe('LiveConnection polling', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls while open and clears its timer on dispose', () => {
    const channel = new FakeChannel('kernel');
    const connection = new LiveConnection(new ProcessStore(), channel, {
      pollMs: 1000
    });
    vi.advanceTimersByTime(1000);
    expect(channel.sent).toEqual([]);
    channel.deliver(snapshot());
    vi.advanceTimersByTime(2000);
    expect(channel.sent).toEqual([{ type: 'poll' }, { type: 'poll' }]);
    expect(vi.getTimerCount()).toBe(1);
    connection.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(channel.sent).toHaveLength(2);
  });
});

/**
 * A WebSocket stand-in: records instances, opens/closes on demand.
 */
class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closed = false;
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
  }
  // Test controls.
  serverOpens(): void {
    this.onopen?.({});
  }
  serverSends(data: unknown): void {
    this.onmessage?.({ data: JSON.stringify(data) });
  }
  serverCloses(): void {
    this.closed = true;
    this.onclose?.({});
  }
}

function serverSettings(): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    wsUrl: 'ws://localhost:8888/',
    token: 'secret',
    appendToken: true,
    WebSocket: FakeWebSocket as unknown as typeof WebSocket
  });
}

describe('ServerChannel', () => {
  beforeEach(() => {
    FakeWebSocket.instances = [];
    vi.useFakeTimers();
    // No jitter: delays are exact.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('connects with the token, the names and logs=0 in the URL', () => {
    const channel = new ServerChannel(
      { names: ['web', 'db'], logs: false },
      serverSettings()
    );
    channel.open();
    const url = new URL(FakeWebSocket.instances[0].url);
    expect(url.pathname).toBe('/syft-pm/api/events');
    expect(url.searchParams.get('token')).toBe('secret');
    expect(url.searchParams.getAll('name')).toEqual(['web', 'db']);
    expect(url.searchParams.get('logs')).toBe('0');
    channel.dispose();
  });

  it('delivers parsed protocol messages and ignores anything else', () => {
    const channel = new ServerChannel({}, serverSettings());
    const got: ServerMessage[] = [];
    channel.received.connect((_, m) => got.push(m));
    channel.open();
    const ws = FakeWebSocket.instances[0];
    ws.serverOpens();
    expect(channel.status).toBe('open');
    ws.serverSends(snapshot());
    ws.onmessage?.({ data: 'not json' });
    ws.serverSends({ type: 'nonsense' });
    expect(got.map(m => m.type)).toEqual(['snapshot']);
    expect(channel.send({ type: 'resync' })).toBe(true);
    expect(ws.sent).toEqual(['{"type":"resync"}']);
    channel.dispose();
  });

  it('reconnects with exponential backoff, capped, reset once connected', () => {
    const channel = new ServerChannel({}, serverSettings());
    const statuses: ChannelStatus[] = [];
    channel.statusChanged.connect((_, s) => statuses.push(s));
    channel.open();
    FakeWebSocket.instances[0].serverCloses();
    expect(channel.status).toBe('closed');
    expect(channel.retryInMs).toBe(RECONNECT.initialMs);

    // Each failed attempt doubles the wait.
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      const wait = channel.retryInMs!;
      waits.push(wait);
      vi.advanceTimersByTime(wait - 1);
      expect(FakeWebSocket.instances).toHaveLength(attempt);
      vi.advanceTimersByTime(1);
      expect(FakeWebSocket.instances).toHaveLength(attempt + 1);
      FakeWebSocket.instances[attempt].serverCloses();
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);

    // A successful connection resets the backoff.
    const next = channel.retryInMs!;
    vi.advanceTimersByTime(next);
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    ws.serverOpens();
    expect(channel.status).toBe('open');
    expect(channel.retryInMs).toBeNull();
    ws.serverCloses();
    expect(channel.retryInMs).toBe(RECONNECT.initialMs);
    expect(statuses.slice(0, 3)).toEqual([
      'connecting',
      'closed',
      'connecting'
    ]);
    channel.dispose();
  });

  it('stops reconnecting when disposed and ignores its old socket', () => {
    const channel = new ServerChannel({}, serverSettings());
    const got: ServerMessage[] = [];
    channel.received.connect((_, m) => got.push(m));
    channel.open();
    const ws = FakeWebSocket.instances[0];
    ws.serverCloses();
    expect(vi.getTimerCount()).toBe(1);
    channel.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    ws.serverSends(snapshot());
    expect(got).toEqual([]);
  });

  it('closes the socket it replaces on a manual reopen', () => {
    const channel = new ServerChannel({}, serverSettings());
    channel.open();
    channel.open();
    expect(FakeWebSocket.instances[0].closed).toBe(true);
    expect(FakeWebSocket.instances[1].closed).toBe(false);
    channel.dispose();
    expect(FakeWebSocket.instances[1].closed).toBe(true);
  });
});

/**
 * Enough of a kernel connection for KernelChannel.
 */
class FakeKernel {
  statusChanged = new Signal<FakeKernel, Kernel.Status>(this);
  disposed = new Signal<FakeKernel, void>(this);
  isDisposed = false;
  comms: FakeComm[] = [];
  createComm(target: string): FakeComm {
    const comm = new FakeComm(target);
    this.comms.push(comm);
    return comm;
  }
}

class FakeComm {
  constructor(readonly targetName: string) {}
  isDisposed = false;
  openData: unknown = undefined;
  sent: unknown[] = [];
  closed = false;
  onMsg: ((msg: KernelMessage.ICommMsgMsg) => void) | null = null;
  onClose: ((msg: KernelMessage.ICommCloseMsg) => void) | null = null;
  open(data: unknown): { done: Promise<void> } {
    this.openData = data;
    return { done: Promise.resolve() };
  }
  send(data: unknown): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
  }
  // Test controls.
  kernelSends(data: unknown): void {
    this.onMsg?.({
      content: { data, comm_id: 'c' }
    } as unknown as KernelMessage.ICommMsgMsg);
  }
  kernelCloses(): void {
    this.onClose?.({} as KernelMessage.ICommCloseMsg);
  }
}

describe('KernelChannel', () => {
  function make(): { kernel: FakeKernel; channel: KernelChannel } {
    const kernel = new FakeKernel();
    const channel = new KernelChannel(
      kernel as unknown as Kernel.IKernelConnection,
      { names: ['web'], home: '/reg', logLines: 50 }
    );
    return { kernel, channel };
  }

  it('opens the syft_pm comm with the subscription, open on first message', () => {
    const { kernel, channel } = make();
    channel.open();
    const comm = kernel.comms[0];
    expect(comm.targetName).toBe('syft_pm');
    expect(comm.openData).toEqual({
      names: ['web'],
      home: '/reg',
      log_lines: 50
    });
    expect(channel.status).toBe('connecting');
    expect(channel.send({ type: 'resync' })).toBe(true);
    comm.kernelSends(snapshot());
    expect(channel.status).toBe('open');
    channel.dispose();
    expect(comm.closed).toBe(true);
  });

  it('closes when the kernel has no target (comm_close) or restarts', () => {
    const { kernel, channel } = make();
    channel.open();
    kernel.comms[0].kernelCloses();
    expect(channel.status).toBe('closed');
    expect(channel.send({ type: 'resync' })).toBe(false);

    channel.open();
    kernel.comms[1].kernelSends(snapshot());
    expect(channel.status).toBe('open');
    kernel.statusChanged.emit('restarting');
    expect(channel.status).toBe('closed');
    // Messages of the old comm are no longer delivered.
    const got: ServerMessage[] = [];
    channel.received.connect((_, m) => got.push(m));
    kernel.comms[1].kernelSends(snapshot());
    expect(got).toEqual([]);
    channel.dispose();
  });

  it('closes when the kernel connection is disposed', () => {
    const { kernel, channel } = make();
    channel.open();
    kernel.comms[0].kernelSends(snapshot());
    kernel.disposed.emit();
    expect(channel.status).toBe('closed');
    channel.dispose();
  });
});
