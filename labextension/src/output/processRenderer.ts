/**
 * The inline cell output of a process handle: a renderer for
 * `application/vnd.syft-pm.process+json`.
 *
 * The bundle is only a reference (registry id, home, name). Each output is
 * its own subscriber: it has its own store, fed by a `LiveSource` (the
 * notebook's kernel, else the server extension), and a `ProcessView` that
 * renders the store. Nothing connects before the output is attached, and
 * everything is released when it is disposed.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Kernel } from '@jupyterlab/services';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { IKernelLocator, LiveMode, LiveSource } from './liveSource';
import { PROCESS_CLASS, ProcessView } from '../process/processView';
import {
  IProcessReference,
  parseProcessReference,
  PROCESS_MIME_TYPE
} from './reference';
import {
  DEFAULT_SETTINGS,
  ISyftPmSettings,
  LiveSettings
} from '../ui/settings';
import { ProcessStore } from '../live/processStore';
import { UNKNOWN_STATUS } from '../live/protocol';

export { PROCESS_CLASS } from '../process/processView';

/**
 * How long an output waits for its notebook's session to have a kernel.
 */
const KERNEL_WAIT_MS = 10_000;

/**
 * The most log lines per stream an output asks for in a snapshot (its store
 * may keep more as lines arrive).
 */
const SNAPSHOT_LOG_LINES = 200;

/**
 * Makes the live source of an output (replaceable in tests).
 */
export type SourceFactory = (options: {
  reference: IProcessReference;
  store: ProcessStore;
  locator: IKernelLocator | null;
  logLines: number;
}) => LiveSource;

/**
 * What the renderer factory needs from the application.
 */
export interface IRendererDeps {
  /** Lets an output find its notebook, hence its kernel. */
  tracker?: INotebookTracker | null;
  /**
   * The user settings: an output uses them when it is created, and follows
   * their changes (tick, log lines) while it lives.
   */
  settings?: LiveSettings;
  /** For tests: makes the live source. */
  source?: SourceFactory;
}

/**
 * Finds the kernel of the notebook a widget is shown in.
 */
export class NotebookKernelLocator implements IKernelLocator {
  constructor(
    private readonly _widget: Widget,
    private readonly _tracker: INotebookTracker
  ) {}

  /** The notebook panel holding the widget, else the current notebook. */
  panel(): NotebookPanel | null {
    const node = this._widget.node;
    let found: NotebookPanel | null = null;
    this._tracker.forEach(panel => {
      if (!found && panel.node.contains(node)) {
        found = panel;
      }
    });
    return found ?? this._tracker.currentWidget;
  }

  async kernel(): Promise<Kernel.IKernelConnection | null> {
    const panel = this.panel();
    if (!panel || panel.isDisposed) {
      return null;
    }
    const context = panel.sessionContext;
    if (!context.session?.kernel) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      await Promise.race([
        context.ready.catch(() => undefined),
        new Promise<void>(resolve => {
          timer = setTimeout(resolve, KERNEL_WAIT_MS);
        })
      ]);
      if (timer !== null) {
        clearTimeout(timer);
      }
    }
    return context.session?.kernel ?? null;
  }
}

/**
 * A widget that shows one process live.
 */
export class ProcessRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions, deps: IRendererDeps = {}) {
    super();
    this._mimeType = options.mimeType;
    this._deps = deps;
    this.addClass(PROCESS_CLASS);
    this.node.dataset.status = UNKNOWN_STATUS;
    this.node.dataset.live = 'false';
  }

  /** The reference rendered, or null when the bundle was not valid. */
  get reference(): IProcessReference | null {
    return this._reference;
  }

  /** The status shown (`data-status`). */
  get status(): string {
    return this.node.dataset.status ?? UNKNOWN_STATUS;
  }

  /** The view of the process (null before a valid bundle). */
  get view(): ProcessView | null {
    return this._view;
  }

  /** The store of this output (null before a valid bundle). */
  get store(): ProcessStore | null {
    return this._store;
  }

  /** The live source (null before a valid bundle). */
  get source(): LiveSource | null {
    return this._source;
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const parsed = parseProcessReference(model.data[this._mimeType]);
    if (
      parsed.ok &&
      this._reference &&
      sameReference(parsed.value, this._reference)
    ) {
      return Promise.resolve();
    }
    this._teardown();
    const doc = this.node.ownerDocument;
    this.node.textContent = '';

    if (!parsed.ok) {
      this._reference = null;
      delete this.node.dataset.processName;
      this.node.dataset.status = UNKNOWN_STATUS;
      this.node.dataset.live = 'false';
      const error = doc.createElement('div');
      error.className = 'syft-pm-error';
      error.textContent = `Cannot show this process: ${parsed.error}`;
      this.node.appendChild(error);
      return Promise.resolve();
    }

    const reference = parsed.value;
    this._reference = reference;
    this.node.title = `${reference.name} (registry ${reference.home})`;
    const settings = this._deps.settings?.current ?? DEFAULT_SETTINGS;
    const store = new ProcessStore({ logLines: settings.logLines });
    const locator = this._deps.tracker
      ? new NotebookKernelLocator(this, this._deps.tracker)
      : null;
    const makeSource: SourceFactory =
      this._deps.source ??
      (o =>
        new LiveSource({
          reference: o.reference,
          store: o.store,
          locator: o.locator,
          logLines: o.logLines
        }));
    const source = makeSource({
      reference,
      store,
      locator,
      logLines: Math.min(settings.logLines, SNAPSHOT_LOG_LINES)
    });
    const view = new ProcessView({
      store,
      name: reference.name,
      node: this.node,
      tickMs: settings.tick,
      actions: (action, name) => source.action(action, name)
    });
    this._store = store;
    this._source = source;
    this._view = view;
    source.modeChanged.connect(this._onMode, this);
    source.errorReceived.connect(this._onSourceError, this);
    this._deps.settings?.changed.connect(this._onSettings, this);
    this._onMode(source, source.mode);
    if (this.isAttached) {
      source.start();
      view.setTicking(this.isVisible);
    }
    return Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._teardown();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._source?.start();
    this._view?.setTicking(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._view?.setTicking(false);
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._view?.setTicking(true);
  }

  protected onBeforeHide(msg: Message): void {
    this._view?.setTicking(false);
    super.onBeforeHide(msg);
  }

  private _onMode(source: LiveSource, mode: LiveMode): void {
    const via = mode === 'kernel' || mode === 'server' ? mode : null;
    this._view?.setConnection({ via, reason: source.reason });
    this.node.dataset.transport = mode;
  }

  private _onSourceError(_: LiveSource, message: string): void {
    this._view?.showError(message);
  }

  /** Follow the user settings: the tick, and the log lines kept. */
  private _onSettings(
    _: LiveSettings,
    settings: Readonly<ISyftPmSettings>
  ): void {
    const store = this._store;
    const view = this._view;
    if (!store || !view) {
      return;
    }
    view.setTickMs(settings.tick);
    if (store.logLines !== settings.logLines) {
      store.setLogLines(settings.logLines);
      view.render();
    }
    if (this._source) {
      this._source.logLines = Math.min(settings.logLines, SNAPSHOT_LOG_LINES);
    }
  }

  private _teardown(): void {
    this._deps.settings?.changed.disconnect(this._onSettings, this);
    if (this._source) {
      this._source.modeChanged.disconnect(this._onMode, this);
      this._source.errorReceived.disconnect(this._onSourceError, this);
      this._source.dispose();
    }
    this._view?.dispose();
    this._source = null;
    this._view = null;
    this._store = null;
    this._reference = null;
  }

  private _mimeType: string;
  private _deps: IRendererDeps;
  private _reference: IProcessReference | null = null;
  private _store: ProcessStore | null = null;
  private _source: LiveSource | null = null;
  private _view: ProcessView | null = null;
}

function sameReference(a: IProcessReference, b: IProcessReference): boolean {
  return (
    a.version === b.version &&
    a.registry_id === b.registry_id &&
    a.home === b.home &&
    a.name === b.name
  );
}

/**
 * The rank of the renderer: lower wins. A handle's bundle also carries the
 * process as a Jupyter widget (for front ends without this extension), whose
 * renderer (`@jupyter-widgets/jupyterlab-manager`) ranks -10, and a static
 * card as `text/html` (50): in JupyterLab and Notebook 7 this renderer wins.
 */
export const RENDERER_RANK = -20;

/**
 * The renderer factory (rank `RENDERER_RANK`).
 */
export function createRendererFactory(
  deps: IRendererDeps = {}
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [PROCESS_MIME_TYPE],
    defaultRank: RENDERER_RANK,
    createRenderer: options => new ProcessRenderer(options, deps)
  };
}

/**
 * A factory without a notebook tracker (outputs use the server extension).
 */
export const rendererFactory: IRenderMime.IRendererFactory =
  createRendererFactory();
