import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { LiveConnection } from '../../src/live/liveConnection';
import { ProcessStore } from '../../src/live/processStore';
import { ServerMessage } from '../../src/live/protocol';
import { WIDGET_TIMING, WidgetChannel } from '../../src/widget/widgetChannel';
import { delta, snapshot } from '../fixtures';
import { FakeVisibility, MockModel } from './mockModel';

const { quietMs, keepaliveMs, stallMs, retryMs } = WIDGET_TIMING;

function heartbeat(seq: number): ServerMessage {
  return { type: 'heartbeat', seq, time: 1_012 };
}

describe('WidgetChannel', () => {
  let model: MockModel;
  let visibility: FakeVisibility;
  let channel: WidgetChannel;
  let received: ServerMessage[];

  beforeEach(() => {
    vi.useFakeTimers();
    model = new MockModel();
    visibility = new FakeVisibility();
    channel = new WidgetChannel(model, { logLines: 50, visibility });
    received = [];
    channel.received.connect((_, msg) => {
      received.push(msg);
    });
    channel.open();
  });

  afterEach(() => {
    channel.dispose();
    vi.useRealTimers();
  });

  /** Subscribed and answered: the state a view is in after its first reply. */
  function live(seq = 1): void {
    model.emit(snapshot({ seq }));
  }

  it('subscribes on open, in push mode, and is open once the snapshot arrives', () => {
    expect(model.sent).toEqual([
      { type: 'subscribe', log_lines: 50, push: true }
    ]);
    expect(channel.status).toBe('connecting');
    live();
    expect(channel.status).toBe('open');
    expect(received.map(m => m.type)).toEqual(['snapshot']);
  });

  it('polls when nothing arrived for about a second, one poll in flight', () => {
    live();
    vi.advanceTimersByTime(quietMs - 1);
    expect(model.count('poll')).toBe(0);
    vi.advanceTimersByTime(1);
    expect(model.count('poll')).toBe(1);
    expect(model.sent[1]).toEqual({ type: 'poll', log_lines: 50 });
    // Unanswered: no second poll, however long it takes (short of `retryMs`).
    vi.advanceTimersByTime(stallMs - 1);
    expect(model.count('poll')).toBe(1);
    expect(channel.inFlight).toBe('poll');
    // The reply ends it; the next poll comes a quiet second later.
    model.emit(heartbeat(1));
    expect(channel.inFlight).toBeNull();
    vi.advanceTimersByTime(quietMs - 1);
    expect(model.count('poll')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(model.count('poll')).toBe(2);
  });

  it('does not poll while pushes arrive, but keeps the subscription alive', () => {
    live();
    let seq = 1;
    for (let t = 0; t < keepaliveMs - 500; t += 500) {
      vi.advanceTimersByTime(500);
      model.emit(delta(++seq));
    }
    expect(model.count('poll')).toBe(0);
    vi.advanceTimersByTime(500);
    expect(model.count('poll')).toBe(1);
    expect(received.filter(m => m.type === 'delta')).toHaveLength(seq - 1);
  });

  it('pauses while it cannot be seen and catches up when seen again', () => {
    live();
    visibility.set(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(30_000);
    // Pushes still arrive and are applied, but wake no poll.
    model.emit(delta(2));
    vi.advanceTimersByTime(30_000);
    expect(model.count('poll')).toBe(0);
    expect(received.map(m => m.type)).toEqual(['snapshot', 'delta']);
    visibility.set(true);
    expect(model.count('poll')).toBe(1);
  });

  it('subscribes again with push off when a reply shows a gap', () => {
    live(1);
    model.emit(delta(2));
    model.emit(heartbeat(4)); // 3 was sent from a thread and lost
    expect(channel.push).toBe(false);
    expect(model.sent.at(-1)).toEqual({
      type: 'subscribe',
      log_lines: 50,
      push: false
    });
    // Until the new snapshot, what the old subscription sends is dropped.
    model.emit(delta(5));
    expect(received.map(m => m.type)).toEqual(['snapshot', 'delta']);
    model.emit(snapshot({ seq: 1 }));
    model.emit(delta(2));
    expect(received.map(m => m.type)).toEqual([
      'snapshot',
      'delta',
      'snapshot',
      'delta'
    ]);
    expect(model.count('subscribe')).toBe(2);
    // Later subscriptions keep push off.
    channel.send({ type: 'resync' });
    expect(model.sent.at(-1)).toMatchObject({ type: 'subscribe', push: false });
  });

  it('subscribes again with push off on a delta beyond the next', () => {
    live(1);
    model.emit(delta(3));
    expect(channel.push).toBe(false);
    expect(model.sent.at(-1)).toMatchObject({ type: 'subscribe', push: false });
    expect(received.map(m => m.type)).toEqual(['snapshot']);
  });

  it('ignores deltas it has already applied', () => {
    const store = new ProcessStore();
    const connection = new LiveConnection(store, channel);
    live(1);
    model.emit(delta(2, { changed: { web: { status: 'stopping' } } }));
    model.emit(delta(2, { changed: { web: { status: 'running' } } }));
    model.emit(delta(1, { changed: { web: { status: 'running' } } }));
    model.emit(heartbeat(1));
    expect(received.map(m => m.type)).toEqual(['snapshot', 'delta']);
    expect(store.get('web')?.status).toBe('stopping');
    expect(store.live).toBe(true);
    expect(model.types()).toEqual(['subscribe']);
    expect(channel.push).toBe(true);
    connection.dispose();
  });

  it('settles an action by its id, once, however often its result arrives', async () => {
    const store = new ProcessStore();
    const connection = new LiveConnection(store, channel);
    live();
    const stop = connection.action('stop', 'web');
    const sent = model.sent.at(-1)!;
    expect(sent).toMatchObject({ type: 'action', action: 'stop', name: 'web' });
    const result = {
      type: 'action_result' as const,
      ok: true,
      error: null,
      result: { status: 'stopped' }
    };
    model.emit({ ...result, id: 'not-ours', result: 'other' });
    model.emit({ ...result, id: sent.id }); // pushed from the action thread
    model.emit({ ...result, id: sent.id }); // and repeated in a poll's reply
    await expect(stop).resolves.toEqual({ status: 'stopped' });
    expect(
      received.filter(m => m.type === 'action_result').map(m => m.id)
    ).toEqual(['not-ours', sent.id]);
    connection.dispose();
  });

  it('says so when the kernel stops answering, and starts over when it answers', () => {
    const statuses: string[] = [];
    channel.statusChanged.connect((_, s) => {
      statuses.push(s);
    });
    live();
    vi.advanceTimersByTime(quietMs); // poll
    vi.advanceTimersByTime(stallMs);
    expect(channel.stalled).toBe(true);
    expect(statuses).toEqual(['open', 'connecting']);
    // The kernel finished its cell: the queued poll's reply arrives.
    model.emit(heartbeat(1));
    expect(model.sent.at(-1)).toMatchObject({ type: 'subscribe', push: true });
    model.emit(snapshot({ seq: 1 }));
    expect(channel.status).toBe('open');
    expect(channel.stalled).toBe(false);
  });

  it('asks again when a request stays unanswered for a long time', () => {
    live();
    vi.advanceTimersByTime(quietMs);
    expect(model.count('poll')).toBe(1);
    vi.advanceTimersByTime(retryMs - 1);
    expect(model.count('poll')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(model.count('poll')).toBe(2);
  });

  it('asks for its snapshot again if the subscription is never answered', () => {
    vi.advanceTimersByTime(retryMs);
    expect(model.types()).toEqual(['subscribe', 'subscribe']);
  });

  it('clears its timer and listeners on dispose', () => {
    live();
    expect(vi.getTimerCount()).toBe(1);
    expect(model.listeners.size).toBe(1);
    channel.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(model.listeners.size).toBe(0);
    expect(channel.status).toBe('closed');
    visibility.set(false);
    visibility.set(true);
    vi.advanceTimersByTime(60_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(model.types()).toEqual(['subscribe']);
    expect(channel.send({ type: 'poll' })).toBe(false);
  });
});
