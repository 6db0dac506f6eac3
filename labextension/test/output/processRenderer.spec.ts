// @vitest-environment happy-dom
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Kernel } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ISubscriptionOptions } from '../../src/live/channel';
import {
  IKernelLocator,
  ISyftPmServerStatus,
  LIVE_SOURCE_TIMING,
  LiveSource
} from '../../src/output/liveSource';
import {
  createRendererFactory,
  ProcessRenderer,
  rendererFactory,
  SourceFactory
} from '../../src/output/processRenderer';
import { LogLine } from '../../src/live/protocol';
import { LiveSettings } from '../../src/ui/settings';
import { ProcessStore } from '../../src/live/processStore';
import {
  IProcessReference,
  PROCESS_MIME_TYPE
} from '../../src/output/reference';
import { delta, FakeChannel, snapshot } from '../fixtures';

const reference: IProcessReference = {
  version: 1,
  registry_id: 'reg-1',
  name: 'web',
  home: '/root/.syft_pm'
};

function model(data: unknown): IRenderMime.IMimeModel {
  return {
    trusted: false,
    data: { [PROCESS_MIME_TYPE]: data } as IRenderMime.IMimeModel['data'],
    metadata: {},
    setData: () => undefined
  };
}

const rendererOptions: IRenderMime.IRendererOptions = {
  mimeType: PROCESS_MIME_TYPE,
  sanitizer: { sanitize: (s: string) => s },
  resolver: null,
  linkHandler: null,
  latexTypesetter: null
};

/** A kernel the fake channels stand for (LiveSource only checks these). */
function fakeKernel(): Kernel.IKernelConnection {
  return {
    isDisposed: false,
    status: 'idle'
  } as unknown as Kernel.IKernelConnection;
}

/**
 * A LiveSource wired to fake channels, a fake server status and fake REST.
 */
class Harness {
  constructor(
    options: {
      kernel?: Kernel.IKernelConnection | null;
      status?: ISyftPmServerStatus | null;
      store?: ProcessStore;
    } = {}
  ) {
    this.kernel = options.kernel === undefined ? fakeKernel() : options.kernel;
    this.status = options.status === undefined ? null : options.status;
    this.store = options.store ?? new ProcessStore();
    this.source = this.make(this.store);
  }

  make(store: ProcessStore, ref = reference): LiveSource {
    const locator: IKernelLocator = { kernel: async () => this.kernel };
    return new LiveSource({
      reference: ref,
      store,
      locator,
      serverStatus: async () => {
        this.statusCalls++;
        return this.status;
      },
      kernelChannel: (kernel, options) => {
        this.kernelOptions.push(options);
        const channel = new FakeChannel('kernel');
        this.kernelChannels.push(channel);
        return channel;
      },
      serverChannel: options => {
        this.serverOptions.push(options);
        const channel = new FakeChannel('server');
        this.serverChannels.push(channel);
        return channel;
      },
      restAction: async (action, name) => {
        this.rest.push([action, name]);
        return { name, status: 'stopped' };
      }
    });
  }

  kernel: Kernel.IKernelConnection | null;
  status: ISyftPmServerStatus | null;
  store: ProcessStore;
  source: LiveSource;
  statusCalls = 0;
  kernelOptions: ISubscriptionOptions[] = [];
  serverOptions: ISubscriptionOptions[] = [];
  kernelChannels: FakeChannel[] = [];
  serverChannels: FakeChannel[] = [];
  rest: [string, string][] = [];
}

const matching: ISyftPmServerStatus = {
  version: '0.1.0',
  registry_id: 'reg-1',
  home: '/root/.syft_pm'
};

/** Let pending promises and due timers run. */
async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('LiveSource', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('subscribes through the kernel comm first, scoped to the process', async () => {
    const h = new Harness({ status: matching });
    h.source.start();
    await settle();
    expect(h.kernelChannels).toHaveLength(1);
    expect(h.kernelChannels[0].opens).toBe(1);
    expect(h.kernelOptions[0]).toMatchObject({
      names: ['web'],
      home: '/root/.syft_pm'
    });
    h.kernelChannels[0].deliver(snapshot());
    expect(h.source.mode).toBe('kernel');
    expect(h.store.live).toBe(true);
    expect(h.serverChannels).toHaveLength(0);
    h.source.dispose();
    expect(h.kernelChannels[0].isDisposed).toBe(true);
  });

  it('switches to the server websocket when the comm closes (kernel restart)', async () => {
    const h = new Harness({ status: matching });
    h.source.start();
    await settle();
    const kernel = h.kernelChannels[0];
    kernel.deliver(snapshot());
    kernel.setStatus('closed');
    expect(h.store.live).toBe(false);
    await settle();
    expect(kernel.isDisposed).toBe(true);
    expect(h.source.mode).toBe('server');
    expect(h.serverChannels).toHaveLength(1);
    expect(h.serverOptions[0]).toEqual({ names: ['web'] });
    const server = h.serverChannels[0];
    expect(server.opens).toBe(1);
    server.deliver(snapshot({ seq: 1 }));
    expect(h.store.live).toBe(true);
    server.deliver(delta(2, { changed: { web: { pid: 5 } } }));
    expect(h.store.get('web')?.pid).toBe(5);
    h.source.dispose();
    expect(server.isDisposed).toBe(true);
  });

  it('uses the server at once when there is no kernel', async () => {
    const h = new Harness({ kernel: null, status: matching });
    h.source.start();
    await settle();
    expect(h.kernelChannels).toHaveLength(0);
    expect(h.source.mode).toBe('server');
    h.source.dispose();
  });

  it('keeps the last state, marked not live, when nothing else is there', async () => {
    const h = new Harness({ status: null });
    const modes: string[] = [];
    h.source.modeChanged.connect((_, m) => modes.push(m));
    h.source.start();
    await settle();
    h.kernelChannels[0].deliver(snapshot());
    h.kernelChannels[0].setStatus('closed');
    await settle();
    expect(h.source.mode).toBe('offline');
    expect(h.source.reason).toMatch(
      /kernel connection closed .*server extension is not available/
    );
    expect(h.store.live).toBe(false);
    expect(h.store.get('web')?.status).toBe('running');
    expect(modes).toContain('kernel');

    // It tries again later, with the kernel first.
    h.status = matching;
    await settle(LIVE_SOURCE_TIMING.retryInitialMs);
    expect(h.kernelChannels).toHaveLength(2);
    h.kernelChannels[1].setStatus('closed'); // new kernel: no syft_pm there
    await settle();
    expect(h.source.mode).toBe('server');
    h.source.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not use a server that watches another registry', async () => {
    const h = new Harness({
      kernel: null,
      status: { ...matching, registry_id: 'other', home: '/elsewhere' }
    });
    h.source.start();
    await settle();
    expect(h.serverChannels).toHaveLength(0);
    expect(h.source.mode).toBe('offline');
    expect(h.source.reason).toMatch(/another registry \(\/elsewhere\)/);
    await expect(h.source.action('stop')).rejects.toThrow(/neither/);
    expect(h.rest).toEqual([]);
    h.source.dispose();
  });

  it('prefers the server when the kernel does not answer in time', async () => {
    const h = new Harness({ status: matching });
    h.source.start();
    await settle();
    expect(h.kernelChannels).toHaveLength(1);
    await settle(LIVE_SOURCE_TIMING.kernelOpenTimeoutMs);
    expect(h.kernelChannels[0].isDisposed).toBe(true);
    expect(h.source.mode).toBe('server');
    h.source.dispose();
  });

  it('keeps waiting for a busy kernel when there is no server', async () => {
    const h = new Harness({ status: null });
    h.source.start();
    await settle(LIVE_SOURCE_TIMING.kernelOpenTimeoutMs);
    expect(h.source.mode).toBe('connecting');
    expect(h.source.reason).toMatch(/waiting for the kernel/);
    expect(h.kernelChannels[0].isDisposed).toBe(false);
    h.kernelChannels[0].deliver(snapshot());
    expect(h.source.mode).toBe('kernel');
    expect(h.source.reason).toBeNull();
    h.source.dispose();
  });

  it('sends actions to the REST routes when the server watches this registry', async () => {
    const h = new Harness({ status: matching });
    h.source.start();
    await settle();
    h.kernelChannels[0].deliver(snapshot());
    await expect(h.source.action('stop')).resolves.toEqual({
      name: 'web',
      status: 'stopped'
    });
    expect(h.rest).toEqual([['stop', 'web']]);
    expect(h.kernelChannels[0].sent).toEqual([]);
    h.source.dispose();
  });

  it('sends actions over the comm when there is no server extension', async () => {
    const h = new Harness({ status: null });
    h.source.start();
    await settle();
    const comm = h.kernelChannels[0];
    comm.deliver(snapshot());
    const result = h.source.action('restart');
    await settle();
    expect(comm.sent).toEqual([
      { type: 'action', id: 'a1', action: 'restart', name: 'web', args: {} }
    ]);
    comm.deliver({
      type: 'action_result',
      id: 'a1',
      ok: true,
      error: null,
      result: 'done'
    });
    await expect(result).resolves.toBe('done');
    expect(h.rest).toEqual([]);
    h.source.dispose();
  });

  it('reports errors the Python side sends', async () => {
    const h = new Harness({ status: null });
    const errors: string[] = [];
    h.source.errorReceived.connect((_, m) => errors.push(m));
    h.source.start();
    await settle();
    h.kernelChannels[0].deliver({
      type: 'error',
      code: 'subscribe',
      message: 'cannot subscribe: bad home'
    });
    expect(errors).toEqual(['cannot subscribe: bad home']);
    h.source.dispose();
  });

  it('does nothing after dispose, even with a lookup in flight', async () => {
    let release: (k: Kernel.IKernelConnection | null) => void = () => undefined;
    const h = new Harness({ status: matching });
    h.source.dispose();
    const store = new ProcessStore();
    const source = new LiveSource({
      reference,
      store,
      locator: {
        kernel: () =>
          new Promise(resolve => {
            release = resolve;
          })
      },
      serverStatus: async () => matching,
      kernelChannel: () => {
        throw new Error('must not be called');
      },
      serverChannel: () => {
        throw new Error('must not be called');
      }
    });
    source.start();
    await settle();
    source.dispose();
    release(fakeKernel());
    await settle(60_000);
    expect(source.channel).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('rendererFactory', () => {
  it('is safe, handles the process MIME type and outranks text/html', () => {
    for (const factory of [rendererFactory, createRendererFactory({})]) {
      expect(factory.safe).toBe(true);
      expect(factory.mimeTypes).toEqual([
        'application/vnd.syft-pm.process+json'
      ]);
      expect(factory.defaultRank).toBeLessThan(50);
    }
  });
});

describe('ProcessRenderer', () => {
  let harnesses: Harness[];
  let source: SourceFactory;

  beforeEach(() => {
    vi.useFakeTimers();
    harnesses = [];
    source = o => {
      // The renderer has no notebook tracker here, hence no kernel.
      expect(o.locator).toBeNull();
      const h = new Harness({ status: matching, store: o.store, kernel: null });
      harnesses.push(h);
      return h.make(o.store, o.reference);
    };
  });
  afterEach(() => {
    vi.useRealTimers();
    document.body.textContent = '';
  });

  function create(): ProcessRenderer {
    return new ProcessRenderer(rendererOptions, { source });
  }

  it('shows the process, unknown and not live, before connecting', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    const node = renderer.node;
    expect(node.classList.contains('syft-pm-process')).toBe(true);
    expect(node.dataset.processName).toBe('web');
    expect(node.dataset.status).toBe('unknown');
    expect(node.dataset.live).toBe('false');
    expect(node.querySelector('.syft-pm-process-name')?.textContent).toBe(
      'web'
    );
    // Nothing connects before the output is on the page.
    expect(renderer.source?.channel).toBeNull();
    renderer.dispose();
  });

  it('goes live once attached and keeps data-status current', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    Widget.attach(renderer, document.body);
    await settle();
    const channel = renderer.source!.channel as FakeChannel;
    expect(channel.kind).toBe('server'); // no notebook tracker: no kernel
    channel.deliver(snapshot());
    expect(renderer.node.dataset.live).toBe('true');
    expect(renderer.node.dataset.status).toBe('running');
    expect(renderer.node.dataset.transport).toBe('server');
    expect(renderer.view?.ticking).toBe(true);
    channel.deliver(delta(2, { changed: { web: { status: 'stopped' } } }));
    expect(renderer.node.dataset.status).toBe('stopped');
    channel.setStatus('closed');
    expect(renderer.node.dataset.live).toBe('false');
    expect(renderer.node.dataset.status).toBe('stopped');
    expect(
      renderer.node.querySelector<HTMLElement>('.syft-pm-not-live')!.hidden
    ).toBe(false);
    renderer.dispose();
  });

  it('the stop button goes through the source to the REST route', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    Widget.attach(renderer, document.body);
    await settle();
    (renderer.source!.channel as FakeChannel).deliver(snapshot());
    renderer.node
      .querySelector<HTMLButtonElement>('[data-action="stop"]')!
      .click();
    await settle();
    expect(harnesses[0].rest).toEqual([['stop', 'web']]);
    expect(renderer.node.querySelector('.syft-pm-error')).not.toBeNull();
    expect(renderer.view?.error).toBeNull();
    renderer.dispose();
  });

  it('keeps its subscription when the same reference is rendered again', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    const first = renderer.source;
    await renderer.renderModel(model({ ...reference }));
    expect(renderer.source).toBe(first);
    await renderer.renderModel(model({ ...reference, name: 'trainer' }));
    expect(renderer.source).not.toBe(first);
    expect(first!.isDisposed).toBe(true);
    expect(renderer.node.dataset.processName).toBe('trainer');
    expect(
      renderer.node.querySelectorAll('.syft-pm-process-name')
    ).toHaveLength(1);
    renderer.dispose();
  });

  it('releases its channel, timers and signals on dispose', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    Widget.attach(renderer, document.body);
    await settle();
    const channel = renderer.source!.channel as FakeChannel;
    const store = renderer.store!;
    channel.deliver(snapshot());
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    const source = renderer.source!;
    const view = renderer.view!;
    renderer.dispose();
    expect(channel.isDisposed).toBe(true);
    expect(source.isDisposed).toBe(true);
    expect(view.isDisposed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    // The store has no listeners left.
    const status = view.node.dataset.status;
    store.apply(delta(2, { changed: { web: { status: 'failed' } } }));
    expect(view.node.dataset.status).toBe(status);
  });

  it('stops ticking while detached', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    Widget.attach(renderer, document.body);
    expect(renderer.view?.ticking).toBe(true);
    Widget.detach(renderer);
    expect(renderer.view?.ticking).toBe(false);
    renderer.dispose();
  });

  it('uses the user settings: new outputs take tick and log lines, outputs on the page follow changes', async () => {
    const settings = new LiveSettings({ tick: 250, logLines: 30 });
    const asked: number[] = [];
    const make = (): ProcessRenderer =>
      new ProcessRenderer(rendererOptions, {
        settings,
        source: o => {
          asked.push(o.logLines);
          return source(o);
        }
      });
    const renderer = make();
    await renderer.renderModel(model(reference));
    Widget.attach(renderer, document.body);
    await settle();
    expect(asked).toEqual([30]);
    expect(renderer.view!.tickMs).toBe(250);
    expect(renderer.store!.logLines).toBe(30);

    const numbered = (from: number, n: number): LogLine[] =>
      Array.from({ length: n }, (_, i) => [1_005, `line ${from + i}`]);
    const channel = renderer.source!.channel as FakeChannel;
    channel.deliver(
      snapshot({
        logs: {
          web: {
            stdout: { lines: numbered(0, 30), skipped: 0 },
            stderr: { lines: [], skipped: 0 }
          }
        }
      })
    );
    const rows = (): string[] =>
      [
        ...renderer.node.querySelectorAll(
          '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line'
        )
      ].map(n => n.textContent ?? '');
    const uptime = (): string | null | undefined =>
      renderer.node.querySelector('[data-fact="uptime"] .syft-pm-fact-value')
        ?.textContent;
    expect(rows()).toHaveLength(30);
    expect(uptime()).toBe('10s');
    await settle(1000);
    expect(uptime()).toBe('11s');

    settings.update({ tick: 5000, logLines: 10, notifications: true });
    expect(renderer.view!.tickMs).toBe(5000);
    expect(renderer.store!.logLines).toBe(10);
    expect(renderer.source!.logLines).toBe(10);
    expect(rows()).toEqual(numbered(20, 10).map(l => l[1]));
    await settle(4000);
    expect(uptime()).toBe('11s');
    await settle(1000);
    expect(uptime()).toBe('16s');
    channel.deliver(
      delta(2, {
        logs: { web: { stdout: { lines: numbered(30, 5), skipped: 0 } } }
      })
    );
    expect(rows()).toHaveLength(10);
    expect(rows().at(-1)).toBe('line 34');

    // A new output starts from the settings now in effect.
    const later = make();
    await later.renderModel(model(reference));
    expect(asked).toEqual([30, 10]);
    expect(later.view!.tickMs).toBe(5000);
    expect(later.store!.logLines).toBe(10);

    renderer.dispose();
    later.dispose();
    expect(vi.getTimerCount()).toBe(0);
    settings.update({ tick: 1000, logLines: 500, notifications: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('explains a bundle it cannot read instead of throwing', async () => {
    const renderer = create();
    await renderer.renderModel(model({ ...reference, version: 99 }));
    expect(renderer.reference).toBeNull();
    expect(renderer.source).toBeNull();
    expect(renderer.node.hasAttribute('data-process-name')).toBe(false);
    expect(renderer.node.dataset.status).toBe('unknown');
    expect(renderer.node.querySelector('.syft-pm-error')?.textContent).toMatch(
      /unsupported reference version 99/
    );
    renderer.dispose();
  });
});

describe('the renderer among the others of a bundle', () => {
  it('ranks ahead of the widget view (jupyterlab-manager ranks it -10) and the static card', () => {
    // A handle's bundle carries the process three ways; lower rank wins.
    const WIDGET_MANAGER_RANK = -10;
    const HTML_RANK = 50;
    for (const factory of [rendererFactory, createRendererFactory({})]) {
      expect(factory.defaultRank).toBeLessThan(WIDGET_MANAGER_RANK);
      expect(factory.defaultRank).toBeLessThan(HTML_RANK);
    }
  });
});
