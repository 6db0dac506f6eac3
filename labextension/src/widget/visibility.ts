/**
 * Whether a widget's element can be seen: on screen (IntersectionObserver)
 * and in a tab that is not hidden (`document.hidden`).
 *
 * A widget that cannot be seen stops polling its kernel (and ticking its
 * clock), so a notebook with many outputs, or one in a background tab, costs
 * the kernel nothing; it catches up with one poll when it is seen again.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * What the widget channel needs to know about visibility.
 */
export interface IVisibility {
  readonly visible: boolean;
  readonly changed: ISignal<IVisibility, boolean>;
}

/**
 * The visibility of one element. Without IntersectionObserver (an old
 * browser, a test DOM) the element counts as on screen.
 */
export class ElementVisibility implements IVisibility, IDisposable {
  constructor(readonly element: HTMLElement) {
    const doc = element.ownerDocument;
    this._doc = doc;
    const view = doc.defaultView;
    const Observer = view?.IntersectionObserver;
    if (Observer) {
      this._onScreen = false;
      this._observer = new Observer(entries => {
        const last = entries[entries.length - 1];
        if (last) {
          this._onScreen = last.isIntersecting;
          this._update();
        }
      });
      this._observer.observe(element);
    }
    doc.addEventListener('visibilitychange', this._onVisibilityChange);
    this._visible = this._compute();
  }

  get visible(): boolean {
    return this._visible;
  }

  get changed(): ISignal<IVisibility, boolean> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._observer?.disconnect();
    this._observer = null;
    this._doc.removeEventListener('visibilitychange', this._onVisibilityChange);
    Signal.clearData(this);
  }

  private _compute(): boolean {
    return this._onScreen && !this._doc.hidden;
  }

  private _update(): void {
    const visible = this._compute();
    if (!this._disposed && visible !== this._visible) {
      this._visible = visible;
      this._changed.emit(visible);
    }
  }

  private _onVisibilityChange = (): void => this._update();

  private _doc: Document;
  private _observer: IntersectionObserver | null = null;
  private _onScreen = true;
  private _visible: boolean;
  private _disposed = false;
  private _changed = new Signal<IVisibility, boolean>(this);
}
