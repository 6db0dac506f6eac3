/**
 * An anywidget model whose custom messages the test drives by hand, and a
 * visibility the test switches.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { CustomMessageListener, IWidgetModel } from '../../src/widget/model';
import { IVisibility } from '../../src/widget/visibility';

export class MockModel implements IWidgetModel {
  constructor(readonly traits: Record<string, unknown> = { name: 'web' }) {}

  /** What the view sent to the kernel, in order. */
  readonly sent: Record<string, unknown>[] = [];
  readonly listeners = new Set<CustomMessageListener>();

  get(key: string): unknown {
    return this.traits[key];
  }

  send(content: object): void {
    this.sent.push({ ...(content as Record<string, unknown>) });
  }

  on(event: 'msg:custom', callback: CustomMessageListener): void {
    this.listeners.add(callback);
  }

  off(event: 'msg:custom', callback?: CustomMessageListener): void {
    if (callback) {
      this.listeners.delete(callback);
    } else {
      this.listeners.clear();
    }
  }

  /** A custom message from the kernel. */
  emit(content: unknown): void {
    for (const listener of [...this.listeners]) {
      listener(content, []);
    }
  }

  /** The types of the messages sent, in order. */
  types(): unknown[] {
    return this.sent.map(m => m.type);
  }

  /** How many messages of `type` were sent. */
  count(type: string): number {
    return this.sent.filter(m => m.type === type).length;
  }
}

export class FakeVisibility implements IVisibility {
  visible = true;

  get changed(): ISignal<IVisibility, boolean> {
    return this._changed;
  }

  set(visible: boolean): void {
    if (visible !== this.visible) {
      this.visible = visible;
      this._changed.emit(visible);
    }
  }

  private _changed = new Signal<IVisibility, boolean>(this);
}
