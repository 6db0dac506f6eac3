// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PROCESS_CLASS } from '../../src/process/processView';
import widget from '../../src/widget/index';
import { MountedWidget, WIDGET_CLASS } from '../../src/widget/mount';
import { ElementVisibility } from '../../src/widget/visibility';
import { WIDGET_TIMING } from '../../src/widget/widgetChannel';
import { delta, snapshot, state } from '../fixtures';
import { FakeVisibility, MockModel } from './mockModel';

afterEach(() => {
  document.body.textContent = '';
  vi.useRealTimers();
});

describe('the anywidget module', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('renders the process view, live, from the widget comm', () => {
    const model = new MockModel({ name: 'web', home: '/tmp/reg' });
    const el = document.createElement('div');
    document.body.appendChild(el);
    const cleanup = widget.render({ model, el });

    expect(el.classList.contains(WIDGET_CLASS)).toBe(true);
    const view = el.querySelector(`.${PROCESS_CLASS}`) as HTMLElement;
    expect(view).not.toBeNull();
    expect(view.dataset.processName).toBe('web');
    expect(model.sent).toEqual([
      { type: 'subscribe', log_lines: 200, push: true }
    ]);

    model.emit(snapshot());
    expect(view.dataset.status).toBe('running');
    expect(view.dataset.live).toBe('true');
    expect(view.textContent).toContain('hello');
    model.emit(
      delta(2, {
        logs: { web: { stdout: { lines: [[1_011, 'tick 1']], skipped: 0 } } }
      })
    );
    expect(view.textContent).toContain('tick 1');
    expect(el.dataset.push).toBe('true');
    // A gap: the view asks the kernel to hold messages for its polls.
    model.emit(delta(4));
    model.emit(snapshot({ seq: 1 }));
    expect(model.sent.at(-1)).toMatchObject({ type: 'subscribe', push: false });
    expect(el.dataset.push).toBe('false');

    cleanup();
    expect(model.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops the process with its Stop button, over the comm', async () => {
    const model = new MockModel({ name: 'web' });
    const el = document.createElement('div');
    document.body.appendChild(el);
    const cleanup = widget.render({ model, el });
    model.emit(snapshot());
    const stop = el.querySelector(
      '.syft-pm-action[data-action="stop"]'
    ) as HTMLButtonElement;
    expect(stop.disabled).toBe(false);
    stop.click();
    const action = model.sent.at(-1)!;
    expect(action).toMatchObject({
      type: 'action',
      action: 'stop',
      name: 'web'
    });
    model.emit({
      type: 'action_result',
      id: action.id,
      ok: true,
      error: null,
      result: null
    });
    model.emit(
      delta(2, { changed: { web: state('web', { status: 'stopped' }) } })
    );
    await vi.runOnlyPendingTimersAsync();
    const view = el.querySelector(`.${PROCESS_CLASS}`) as HTMLElement;
    expect(view.dataset.status).toBe('stopped');
    expect(el.querySelector('.syft-pm-error:not([hidden])')).toBeNull();
    cleanup();
  });

  it('shows the state as not live while the kernel does not answer', () => {
    const model = new MockModel({ name: 'web' });
    const el = document.createElement('div');
    const visibility = new FakeVisibility();
    const mounted = new MountedWidget(model, el, { visibility });
    model.emit(snapshot());
    vi.advanceTimersByTime(WIDGET_TIMING.quietMs + WIDGET_TIMING.stallMs);
    const view = el.querySelector(`.${PROCESS_CLASS}`) as HTMLElement;
    expect(view.dataset.live).toBe('false');
    expect(view.textContent).toContain('the kernel has not answered');
    model.emit({ type: 'heartbeat', seq: 1, time: 1_012 });
    model.emit(snapshot());
    expect(view.dataset.live).toBe('true');
    mounted.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ElementVisibility', () => {
  type Callback = (entries: { isIntersecting: boolean }[]) => void;
  let observers: { callback: Callback; disconnected: boolean }[];

  beforeEach(() => {
    observers = [];
    class FakeObserver {
      constructor(callback: Callback) {
        this.entry = { callback, disconnected: false };
        observers.push(this.entry);
      }
      observe(): void {}
      disconnect(): void {
        this.entry.disconnected = true;
      }
      entry: { callback: Callback; disconnected: boolean };
    }
    vi.stubGlobal('IntersectionObserver', FakeObserver);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  function setHidden(hidden: boolean): void {
    Object.defineProperty(document, 'hidden', {
      configurable: true,
      get: () => hidden
    });
    document.dispatchEvent(new Event('visibilitychange'));
  }

  it('is visible while on screen in a shown tab', () => {
    const el = document.createElement('div');
    document.body.appendChild(el);
    const visibility = new ElementVisibility(el);
    const seen: boolean[] = [];
    visibility.changed.connect((_, v) => {
      seen.push(v);
    });
    expect(visibility.visible).toBe(false); // until the observer says so
    observers[0].callback([{ isIntersecting: true }]);
    setHidden(true);
    setHidden(false);
    observers[0].callback([{ isIntersecting: false }]);
    expect(seen).toEqual([true, false, true, false]);

    visibility.dispose();
    expect(observers[0].disconnected).toBe(true);
    observers[0].callback([{ isIntersecting: true }]);
    setHidden(false);
    expect(seen).toEqual([true, false, true, false]);
  });
});
