/**
 * One process widget on the page: the same `ProcessView` the JupyterLab cell
 * renderer shows (status, uptime, metrics, ports, log tail, stop/restart),
 * fed by a `WidgetChannel` instead of the `syft_pm` comm or the server.
 *
 * There are no JupyterLab settings where a widget runs (VS Code, Colab), so
 * the view uses the settings' defaults.
 */
import { LiveConnection } from '../live/liveConnection';
import { ChannelStatus, IChannel } from '../live/channel';
import { IStoreChange, ProcessStore } from '../live/processStore';
import { ProcessView } from '../process/processView';
import { DEFAULT_SETTINGS, ISyftPmSettings } from '../ui/settings';
import { IWidgetModel } from './model';
import { ElementVisibility, IVisibility } from './visibility';
import { WIDGET_TIMING, WidgetChannel, WidgetTiming } from './widgetChannel';

/** The CSS class of the widget's root (where its fallback colors live). */
export const WIDGET_CLASS = 'syft-pm-widget';

/**
 * The most log lines per stream a snapshot carries (as in the cell renderer;
 * the store keeps up to the `logLines` setting as lines arrive).
 */
const SNAPSHOT_LOG_LINES = 200;

/**
 * A mounted widget view; `dispose` releases everything it holds.
 */
export class MountedWidget {
  constructor(
    readonly model: IWidgetModel,
    readonly el: HTMLElement,
    options: MountedWidget.IOptions = {}
  ) {
    const settings = { ...DEFAULT_SETTINGS, ...options.settings };
    const name = model.get('name');
    this.name = typeof name === 'string' ? name : '';
    const doc = el.ownerDocument;
    el.classList.add(WIDGET_CLASS);
    const home = model.get('home');
    if (typeof home === 'string' && home) {
      el.title = `${this.name} (registry ${home})`;
    }
    const node = doc.createElement('div');
    el.replaceChildren(node);

    this._ownVisibility = options.visibility ? null : new ElementVisibility(el);
    this.visibility = options.visibility ?? this._ownVisibility!;
    this.store = new ProcessStore({ logLines: settings.logLines });
    this.channel = new WidgetChannel(model, {
      logLines: Math.min(settings.logLines, SNAPSHOT_LOG_LINES),
      visibility: this.visibility,
      timing: options.timing,
      now: options.now
    });
    this.connection = new LiveConnection(this.store, this.channel);
    this.view = new ProcessView({
      store: this.store,
      name: this.name,
      node,
      tickMs: settings.tick,
      actions: (action, name) => this.connection.action(action, name),
      now: options.now
    });
    node.dataset.transport = 'widget';

    this.connection.errorReceived.connect(this._onError, this);
    this.channel.statusChanged.connect(this._onStatus, this);
    this.store.changed.connect(this._onStoreChanged, this);
    this.visibility.changed.connect(this._onVisibility, this);
    this._onStatus(this.channel, this.channel.status);
    this.channel.open();
    this.view.setTicking(this.visibility.visible);
  }

  readonly name: string;
  readonly store: ProcessStore;
  readonly channel: WidgetChannel;
  readonly connection: LiveConnection;
  readonly view: ProcessView;
  readonly visibility: IVisibility;

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.visibility.changed.disconnect(this._onVisibility, this);
    this.channel.statusChanged.disconnect(this._onStatus, this);
    this.store.changed.disconnect(this._onStoreChanged, this);
    this.connection.errorReceived.disconnect(this._onError, this);
    this.view.dispose();
    this.connection.dispose();
    this.channel.dispose();
    this._ownVisibility?.dispose();
  }

  private _onStatus(_: IChannel, status: ChannelStatus): void {
    if (status === 'open') {
      this.view.setConnection({ via: 'kernel', reason: null });
      return;
    }
    if (this.channel.stalled) {
      // Deltas would be applied to a state that may have moved on: the
      // channel brings a snapshot once the kernel answers again.
      this.store.setLive(false);
      const s = Math.round(WIDGET_TIMING.stallMs / 1000);
      this.view.setConnection({
        via: null,
        reason: `the kernel has not answered for ${s} s (busy running a cell, or gone?)`
      });
    } else {
      this.view.setConnection({
        via: null,
        reason: status === 'closed' ? 'closed' : 'waiting for the kernel'
      });
    }
  }

  /**
   * After each snapshot, say on the element whether the kernel pushes or
   * answers polls only (`data-push`; for diagnostics and the browser tests).
   */
  private _onStoreChanged(_: ProcessStore, change: IStoreChange): void {
    if (change.reset) {
      this.el.dataset.push = String(this.channel.push);
    }
  }

  private _onError(_: LiveConnection, message: string): void {
    this.view.showError(message);
  }

  private _onVisibility(_: IVisibility, visible: boolean): void {
    this.view.setTicking(visible);
  }

  private _disposed = false;
  private _ownVisibility: ElementVisibility | null;
}

export namespace MountedWidget {
  export interface IOptions {
    /** Settings (defaults where JupyterLab's are absent). */
    settings?: Partial<ISyftPmSettings>;
    /** For tests: visibility (default: the element's). */
    visibility?: IVisibility;
    /** For tests: the channel's timings. */
    timing?: Partial<WidgetTiming>;
    /** For tests: the clock (ms). */
    now?: () => number;
  }
}
