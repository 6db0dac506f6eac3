// @vitest-environment happy-dom
import { Widget } from '@lumino/widgets';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ProcessDetail } from '../../src/sidebar/detail/processDetail';
import { INotice, INotifier } from '../../src/sidebar/notifications';
import { ProcessFleet } from '../../src/sidebar/processFleet';
import { IServerStatus, SyftPmApiError } from '../../src/live/request';
import {
  describeConnectionError,
  ProcessSidebar,
  SIDEBAR_ID,
  START_SNIPPET,
  StatusFetcher
} from '../../src/sidebar/processSidebar';
import {
  delta,
  FakeChannel,
  fakeKernel,
  snapshot,
  state,
  syncFrame
} from './fixtures';

// The real LabIcon pulls in @jupyterlab/ui-components (React, web
// components), whose ESM does not load in node; the sidebar only needs an
// icon object to put on its title.
vi.mock('../../src/sidebar/processIcon', () => ({
  processIcon: { name: 'syft-pm:icon', render: () => undefined }
}));

/**
 * A status fetcher the test answers by hand.
 */
function deferredFetcher() {
  const calls: {
    signal: AbortSignal;
    resolve: (status: IServerStatus) => void;
    reject: (error: unknown) => void;
  }[] = [];
  const fetcher: StatusFetcher = signal =>
    new Promise<IServerStatus>((resolve, reject) => {
      calls.push({ signal, resolve, reject });
    });
  return { fetcher, calls };
}

const okFetcher: StatusFetcher = async () => ({ version: '0.1.0' });

interface IHarness {
  sidebar: ProcessSidebar;
  server: FakeChannel;
  kernelChannels: FakeChannel[];
  api: ReturnType<typeof vi.fn>;
  notices: INotice[];
}

const widgets: Widget[] = [];

function harness(
  options: Partial<ProcessSidebar.IOptions> & { attach?: boolean } = {}
): IHarness {
  const server = new FakeChannel('server');
  const kernelChannels: FakeChannel[] = [];
  const api = vi.fn(async (path: string, init?: RequestInit) => {
    void init;
    if (path.includes('/logs')) {
      return { lines: [[1, `log of ${path}`]], before: null, cursor: '1:1' };
    }
    return { name: 'x', status: 'ok' };
  });
  const fleet = new ProcessFleet({
    serverChannel: server,
    api: api as any,
    kernelChannel: () => {
      const c = new FakeChannel('kernel');
      kernelChannels.push(c);
      return c;
    }
  });
  const notices: INotice[] = [];
  const notifier: INotifier = {
    emit: n => {
      notices.push(n);
      return String(notices.length);
    },
    update: (_, n) => {
      notices.push(n);
      return true;
    }
  };
  const sidebar = new ProcessSidebar({
    fetchStatus: okFetcher,
    fleet,
    notifier,
    requestFrame: syncFrame,
    logChannel: () => null,
    serverRoot: '/root',
    ...options
  });
  widgets.push(sidebar, fleet as any);
  if (options.attach !== false) {
    Widget.attach(sidebar, document.body);
  }
  return { sidebar, server, kernelChannels, api, notices };
}

const $ = (sidebar: Widget, selector: string) =>
  sidebar.node.querySelector<HTMLElement>(selector);

const rowNames = (sidebar: Widget) =>
  [...sidebar.node.querySelectorAll<HTMLElement>('.syft-pm-row')].map(
    n => n.dataset.processName
  );

afterEach(() => {
  while (widgets.length) {
    widgets.pop()!.dispose();
  }
});

describe('ProcessSidebar: connection', () => {
  it('has the id, caption and header of the Processes sidebar', () => {
    const { sidebar } = harness({ attach: false });
    expect(sidebar.id).toBe(SIDEBAR_ID);
    expect(sidebar.id).toBe('syft-pm-sidebar');
    expect(sidebar.title.caption).toBe('Processes');
    expect(sidebar.title.icon).toBeTruthy();
    expect($(sidebar, '.syft-pm-sidebar-title')?.textContent).toBe('Processes');
  });

  it('asks for the status when attached, opens the websocket and shows the server version', async () => {
    const { fetcher, calls } = deferredFetcher();
    const { sidebar, server } = harness({ fetchStatus: fetcher });
    expect(calls).toHaveLength(1);
    expect(server.opens).toBe(1);
    expect(sidebar.connection).toBe('connecting');

    calls[0].resolve({ version: '0.1.0', pid: 42 });
    await vi.waitFor(() => expect(sidebar.connection).toBe('connected'));

    const version = $(sidebar, '.syft-pm-server-version')!;
    expect(version.hidden).toBe(false);
    expect(version.textContent).toBe('syft_pm server 0.1.0');
    expect(sidebar.serverVersion).toBe('0.1.0');
    expect($(sidebar, '.syft-pm-error')!.hidden).toBe(true);
  });

  it('shows a visible error with a Retry button that works', async () => {
    const { fetcher, calls } = deferredFetcher();
    const { sidebar } = harness({ fetchStatus: fetcher });
    calls[0].reject(
      new SyftPmApiError('Not Found', 404, 'http://x/syft-pm/api/status')
    );
    await vi.waitFor(() => expect(sidebar.connection).toBe('failed'));

    const error = $(sidebar, '.syft-pm-error')!;
    expect(error.hidden).toBe(false);
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain(
      'Cannot reach the syft_pm server extension: Not Found'
    );
    expect($(sidebar, '.syft-pm-server-version')!.hidden).toBe(true);

    const retry = $(sidebar, '.syft-pm-retry') as HTMLButtonElement;
    expect(retry.textContent).toBe('Retry');
    retry.click();
    expect(calls).toHaveLength(2);
    expect(retry.disabled).toBe(true);

    calls[1].resolve({ version: '0.2.0' });
    await vi.waitFor(() => expect(sidebar.connection).toBe('connected'));
    expect(error.hidden).toBe(true);
    expect($(sidebar, '.syft-pm-server-version')!.textContent).toBe(
      'syft_pm server 0.2.0'
    );
  });

  it('treats an answer without a version as a failure', async () => {
    const { fetcher, calls } = deferredFetcher();
    const { sidebar } = harness({ fetchStatus: fetcher });
    calls[0].resolve({} as IServerStatus);
    await vi.waitFor(() => expect(sidebar.connection).toBe('failed'));
    expect(sidebar.errorMessage).toMatch(/no "version"/);
  });

  it('ignores the answer of a request a newer one replaced', async () => {
    const { fetcher, calls } = deferredFetcher();
    const { sidebar } = harness({ fetchStatus: fetcher });
    const second = sidebar.refresh();
    expect(calls[0].signal.aborted).toBe(true);
    calls[1].resolve({ version: 'new' });
    calls[0].resolve({ version: 'old' });
    await second;
    await Promise.resolve();
    expect(sidebar.serverVersion).toBe('new');
  });

  it('says when the websocket is lost, when it retries, and reconnects by itself', async () => {
    const { sidebar, server } = harness();
    await vi.waitFor(() => expect(sidebar.connection).toBe('connected'));
    server.deliver(snapshot([state('web')]));
    expect(rowNames(sidebar)).toEqual(['web']);

    server.retryInMs = 4000;
    server.setStatus('closed');
    await Promise.resolve();
    await Promise.resolve();
    expect(sidebar.connection).toBe('failed');
    const error = $(sidebar, '.syft-pm-error')!;
    expect(error.hidden).toBe(false);
    expect(error.textContent).toContain('Lost the connection');
    expect($(sidebar, '.syft-pm-retry-when')!.textContent).toBe(
      'Retrying in 4 s.'
    );
    // The last known list stays, marked not live.
    expect(rowNames(sidebar)).toEqual(['web']);
    expect(sidebar.node.dataset.live).toBe('false');

    // Retry now reopens at once.
    ($(sidebar, '.syft-pm-retry') as HTMLButtonElement).click();
    expect(server.opens).toBe(2);
    server.deliver(snapshot([state('web'), state('api')], { seq: 1 }));
    await vi.waitFor(() => expect(sidebar.connection).toBe('connected'));
    expect(error.hidden).toBe(true);
    expect(rowNames(sidebar)).toEqual(['api', 'web']);
  });

  it('aborts its request, stops its timer and stays quiet after dispose', async () => {
    const { fetcher, calls } = deferredFetcher();
    const { sidebar } = harness({ fetchStatus: fetcher });
    expect(sidebar.ticking).toBe(true);
    const changes: string[] = [];
    sidebar.connectionChanged.connect((_, state) => changes.push(state));
    sidebar.dispose();
    expect(sidebar.isDisposed).toBe(true);
    expect(sidebar.ticking).toBe(false);
    expect(calls[0].signal.aborted).toBe(true);
    calls[0].reject(new SyftPmApiError('late', 0, 'x'));
    await Promise.resolve();
    expect(changes).toEqual([]);
    await sidebar.refresh();
    expect(calls).toHaveLength(1);
  });
});

describe('ProcessSidebar: the list', () => {
  it('shows a loading state, then the empty state with a copyable snippet', async () => {
    const copy = vi.fn();
    const { sidebar, server } = harness({ copy });
    expect(sidebar.node.dataset.state).toBe('loading');
    server.deliver(snapshot([]));
    expect(sidebar.node.dataset.state).toBe('empty');
    const empty = $(sidebar, '.syft-pm-empty')!;
    expect(empty.textContent).toContain('No processes yet');
    expect($(sidebar, '.syft-pm-snippet')!.textContent).toBe(START_SNIPPET);
    ($(sidebar, '.syft-pm-copy-snippet') as HTMLButtonElement).click();
    expect(copy).toHaveBeenCalledWith(START_SNIPPET);
  });

  it('renders rows from the snapshot, updates only changed rows from deltas', () => {
    const { sidebar, server } = harness();
    server.deliver(
      snapshot([
        state('b'),
        state('a'),
        state('done', { status: 'exited', exit_code: 0 })
      ])
    );
    expect(rowNames(sidebar)).toEqual(['a', 'b', 'done']);
    const a = sidebar.list.rowNode('a')!;
    server.deliver(
      delta(2, {
        changed: { b: { status: 'stopped', pid: null } },
        added: { c: state('c') }
      })
    );
    expect(rowNames(sidebar)).toEqual(['a', 'c', 'b', 'done']);
    expect(sidebar.list.rowNode('a')).toBe(a);
    expect(sidebar.list.renders('a')).toBe(1);
    expect(sidebar.list.renders('b')).toBe(2);
    expect(sidebar.list.rowNode('b')!.dataset.status).toBe('stopped');
    server.deliver(delta(3, { removed: ['c'] }));
    expect(rowNames(sidebar)).toEqual(['a', 'b', 'done']);
    expect($(sidebar, '.syft-pm-summary')!.textContent).toBe('1/3 active');
  });

  it('searches and filters by status, and explains an empty result', () => {
    const { sidebar, server } = harness();
    server.deliver(
      snapshot([
        state('web', { command: 'python -m http.server' }),
        state('job', { status: 'failed', exit_code: 1 })
      ])
    );
    sidebar.setQuery({ text: 'http' });
    expect(rowNames(sidebar)).toEqual(['web']);
    sidebar.setQuery({ text: '', status: 'problems' });
    expect(rowNames(sidebar)).toEqual(['job']);
    sidebar.setQuery({ text: 'nothing-like-this' });
    expect(sidebar.node.dataset.state).toBe('nomatch');
    ($(sidebar, '.syft-pm-clear-filters') as HTMLButtonElement).click();
    expect(rowNames(sidebar)).toEqual(['web', 'job']);
    expect(sidebar.query.status).toBe('all');

    // The controls drive the same query.
    const search = $(sidebar, '.syft-pm-search') as HTMLInputElement;
    search.value = 'job';
    search.dispatchEvent(new Event('input'));
    expect(rowNames(sidebar)).toEqual(['job']);
  });

  it('filters by origin, "this notebook" following the active notebook', () => {
    const { sidebar, server } = harness();
    server.deliver(
      snapshot([
        state('mine', {
          origin: { notebook: '/root/a.ipynb', kernel_id: 'k-1' }
        }),
        state('theirs', {
          origin: { notebook: '/root/b.ipynb', kernel_id: 'k-2' }
        }),
        state('cli', { origin: { user: 'me' } })
      ])
    );
    const origin = $(sidebar, '.syft-pm-filter-origin') as HTMLSelectElement;
    expect([...origin.options].map(o => o.value)).toEqual([
      'all',
      'this',
      'notebook:a.ipynb',
      'notebook:b.ipynb',
      'other'
    ]);
    sidebar.setActiveNotebook({ path: 'a.ipynb', kernel: null });
    origin.value = 'this';
    origin.dispatchEvent(new Event('change'));
    expect(rowNames(sidebar)).toEqual(['mine']);
    sidebar.setActiveNotebook({ path: 'b.ipynb', kernel: null });
    expect(rowNames(sidebar)).toEqual(['theirs']);
    sidebar.setQuery({ origin: 'other' });
    expect(rowNames(sidebar)).toEqual(['cli']);
  });

  it('merges and marks the processes only the active kernel sees', () => {
    const { sidebar, server, kernelChannels } = harness();
    server.deliver(snapshot([state('web')], { registry: 'reg-server' }));
    const kernel = fakeKernel('k-9');
    sidebar.setActiveNotebook({ path: 'a.ipynb', kernel });
    expect(kernelChannels).toHaveLength(1);
    const comm = kernelChannels[0];
    expect(comm.opens).toBe(1);
    comm.deliver(
      snapshot([state('web'), state('local')], { registry: 'reg-kernel' })
    );
    expect(rowNames(sidebar).sort()).toEqual(['local', 'web', 'web']);
    const local = sidebar.list.rowNode('kernel:local')!;
    expect(local.dataset.source).toBe('kernel');
    expect(local.dataset.processName).toBe('local');
    expect(local.querySelector('.syft-pm-row-badge')!.textContent).toBe(
      'kernel'
    );
    sidebar.setQuery({ origin: 'kernel-only' });
    expect(rowNames(sidebar).sort()).toEqual(['local', 'web']);
    sidebar.setQuery({ origin: 'all' });

    // The kernel's comm closes (kernel restart): its rows go.
    comm.setStatus('closed');
    expect(rowNames(sidebar)).toEqual(['web']);

    // After the user imports syft_pm again, the link retries.
    kernel.anyMessage.emit({
      direction: 'send',
      msg: {
        header: { msg_type: 'execute_request' },
        content: { code: 'import syft_pm' }
      }
    });
    kernel.statusChanged.emit('idle');
    expect(comm.opens).toBe(2);

    // Another notebook: the old comm goes, a new one opens.
    sidebar.setActiveNotebook({ path: 'b.ipynb', kernel: fakeKernel('k-10') });
    expect(comm.isDisposed).toBe(true);
    expect(kernelChannels).toHaveLength(2);
  });

  it('does not double the processes a same-registry kernel also reports', () => {
    const { sidebar, server, kernelChannels } = harness();
    server.deliver(snapshot([state('web')], { registry: 'same' }));
    sidebar.setActiveNotebook({ path: 'a.ipynb', kernel: fakeKernel() });
    kernelChannels[0].deliver(
      snapshot([state('web'), state('new')], { registry: 'same' })
    );
    expect(rowNames(sidebar)).toEqual(['new', 'web']);
    // Once the server sees it too, the kernel row goes.
    server.deliver(delta(2, { added: { new: state('new') } }));
    expect(rowNames(sidebar)).toEqual(['new', 'web']);
    expect(sidebar.list.rowNode('kernel:new')).toBeNull();
    expect(sidebar.list.rowNode('new')!.dataset.source).toBe('server');
  });

  it('ticks uptimes with one timer that follows the tick setting', async () => {
    vi.useFakeTimers();
    try {
      const { sidebar, server } = harness();
      const now = Date.now() / 1000;
      server.deliver(
        snapshot([state('a', { started_at: now - 5 })], { time: now })
      );
      const uptime = () =>
        sidebar.list.rowNode('a')!.querySelector('.syft-pm-row-uptime')!
          .textContent;
      expect(uptime()).toBe('5s');
      sidebar.updateSettings({ tick: 500, logLines: 500, notifications: true });
      vi.advanceTimersByTime(2000);
      expect(uptime()).toBe('7s');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('ProcessSidebar: actions', () => {
  it('stops and restarts through the REST routes', async () => {
    const { sidebar, server, api } = harness();
    server.deliver(snapshot([state('web')]));
    await sidebar.perform('web', 'stop');
    expect(api).toHaveBeenLastCalledWith(
      'processes/web/stop',
      expect.objectContaining({ method: 'POST' })
    );
    (
      sidebar.list
        .rowNode('web')!
        .querySelector('.syft-pm-row-restart') as HTMLElement
    ).click();
    await vi.waitFor(() =>
      expect(api).toHaveBeenLastCalledWith(
        'processes/web/restart',
        expect.objectContaining({ method: 'POST' })
      )
    );
    // The selected row is the default target.
    expect(sidebar.selectedName).toBe('web');
    await sidebar.perform(null, 'stop');
    expect(api).toHaveBeenCalledTimes(3);
  });

  it('waits briefly for a process that was only just started', async () => {
    const { sidebar, server, api } = harness();
    server.deliver(snapshot([]));
    const stop = sidebar.perform('fresh', 'stop');
    const logs = sidebar.showLogs('fresh');
    server.deliver(delta(2, { added: { fresh: state('fresh') } }));
    await stop;
    expect(api).toHaveBeenCalledWith(
      'processes/fresh/stop',
      expect.objectContaining({ method: 'POST' })
    );
    expect((await logs)!.node.dataset.processName).toBe('fresh');
    (await logs)!.dispose();
  });

  it('says so when a process never shows up', async () => {
    vi.useFakeTimers();
    try {
      const { sidebar, server } = harness();
      server.deliver(snapshot([]));
      const stop = sidebar.perform('ghost', 'stop');
      const caught = stop.catch((e: Error) => e.message);
      await vi.advanceTimersByTimeAsync(6000);
      expect(await caught).toBe('no process ghost');
      expect($(sidebar, '.syft-pm-sidebar-message')!.textContent).toContain(
        'no process ghost'
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('acts on kernel-only processes through the kernel comm', async () => {
    const { sidebar, server, kernelChannels, api } = harness();
    server.deliver(snapshot([], { registry: 'a' }));
    sidebar.setActiveNotebook({ path: 'a.ipynb', kernel: fakeKernel() });
    const comm = kernelChannels[0];
    comm.deliver(snapshot([state('local')], { registry: 'b' }));
    const done = sidebar.perform('local', 'stop');
    await vi.waitFor(() => expect(comm.sent).toHaveLength(1));
    const sent = comm.sent.at(-1) as any;
    expect(sent).toMatchObject({
      type: 'action',
      action: 'stop',
      name: 'local'
    });
    comm.deliver({
      type: 'action_result',
      id: sent.id,
      ok: true,
      error: null,
      result: {}
    });
    await done;
    expect(api).not.toHaveBeenCalled();
  });

  it('shows a failed action in the panel', async () => {
    const { sidebar, server, api } = harness();
    server.deliver(snapshot([state('web')]));
    api.mockRejectedValueOnce(new Error('409 busy'));
    await expect(sidebar.perform('web', 'restart')).rejects.toThrow('409 busy');
    const message = $(sidebar, '.syft-pm-sidebar-message')!;
    expect(message.hidden).toBe(false);
    expect(message.textContent).toBe('Could not restart web: 409 busy');
  });

  it('asks before removing, and stops a running process first', async () => {
    const confirm = vi.fn(async () => false);
    const { sidebar, server, api } = harness({ confirm });
    server.deliver(
      snapshot([state('web'), state('old', { status: 'exited' })])
    );
    expect(await sidebar.remove('web')).toBe(false);
    expect(confirm).toHaveBeenCalledTimes(1);
    expect((confirm.mock.calls[0] as unknown[])[1]).toContain(
      'it will be stopped first'
    );
    expect(api).not.toHaveBeenCalled();
    confirm.mockResolvedValue(true);
    expect(await sidebar.remove('web')).toBe(true);
    expect(api).toHaveBeenLastCalledWith('processes/web?force=1', {
      method: 'DELETE'
    });
    await sidebar.remove('old');
    expect(api).toHaveBeenLastCalledWith('processes/old', { method: 'DELETE' });
  });
});

describe('ProcessSidebar: notifications', () => {
  it('notifies on failures seen live, not about the first snapshot, and follows the setting', () => {
    const { sidebar, server, notices } = harness();
    server.deliver(
      snapshot([state('a'), state('b', { status: 'failed', exit_code: 1 })])
    );
    expect(notices).toEqual([]);
    server.deliver(
      delta(2, { changed: { a: { status: 'failed', exit_code: 2 } } })
    );
    expect(notices.map(n => n.message)).toEqual(['a exited with code 2']);
    sidebar.updateSettings({ tick: 1000, logLines: 500, notifications: false });
    server.deliver(delta(3, { changed: { a: { status: 'running' } } }));
    server.deliver(delta(4, { changed: { a: { status: 'unhealthy' } } }));
    expect(notices).toHaveLength(1);
  });
});

describe('ProcessSidebar: details', () => {
  it('opens one detail view per process with its info and both log streams', async () => {
    const added: ProcessDetail[] = [];
    const { sidebar, server, api } = harness({
      addDetail: d => {
        added.push(d);
        if (!d.isAttached) {
          Widget.attach(d, document.body);
        }
      }
    });
    server.deliver(
      snapshot([
        state('web', {
          origin: { notebook: '/root/nb/a.ipynb', kernel_id: 'k1' },
          metrics: {
            cpu_percent: 1,
            rss_bytes: 1,
            threads: 1,
            children: 0,
            ports: [8000]
          }
        })
      ])
    );
    const detail = sidebar.openDetail('web', 'stderr')!;
    expect(added).toEqual([detail]);
    expect(detail.node.dataset.processName).toBe('web');
    expect(detail.node.dataset.status).toBe('running');
    expect(detail.stream).toBe('stderr');
    expect(api).toHaveBeenCalledWith('processes/web', { method: 'GET' });
    await vi.waitFor(() =>
      expect(api).toHaveBeenCalledWith(
        'processes/web/logs?stream=stderr&lines=500',
        {
          method: 'GET'
        }
      )
    );
    const link =
      detail.node.querySelector<HTMLAnchorElement>('.syft-pm-port-link')!;
    expect(link.getAttribute('href')).toMatch(/:8000\/$/);
    // The same process opens the same view.
    expect(sidebar.openDetail('web')).toBe(detail);
    // State changes reach the open view.
    server.deliver(delta(2, { changed: { web: { status: 'stopped' } } }));
    expect(detail.node.dataset.status).toBe('stopped');
    sidebar.updateSettings({ tick: 1000, logLines: 50, notifications: true });
    expect(detail.logView('stdout').capacity).toBe(50);
    detail.dispose();
    expect(sidebar.details.size).toBe(0);
  });

  it('shows the environment as variable names (values hidden), also from an older server', async () => {
    const added: ProcessDetail[] = [];
    const infos: Record<string, unknown>[] = [
      { config: { env: ['API_TOKEN', 'PATH'] } },
      { config: { env: { API_TOKEN: 's3cret' } } }
    ];
    const { sidebar, server, api } = harness({
      addDetail: d => {
        added.push(d);
        if (!d.isAttached) {
          Widget.attach(d, document.body);
        }
      }
    });
    api.mockImplementation(async (path: string) =>
      path.includes('/logs')
        ? { lines: [], before: null, cursor: '1:1' }
        : infos.shift()
    );
    server.deliver(snapshot([state('web'), state('old')]));
    const env = (d: ProcessDetail) =>
      d.node.querySelector('details pre')?.textContent ?? null;
    const web = sidebar.openDetail('web')!;
    await vi.waitFor(() => expect(env(web)).toBe('API_TOKEN\nPATH'));
    expect(web.node.textContent).toContain('2 variables');
    expect(web.node.textContent).not.toContain('0=');
    const old = sidebar.openDetail('old')!;
    await vi.waitFor(() => expect(env(old)).toBe('API_TOKEN=s3cret'));
    web.dispose();
    old.dispose();
  });

  it('offers Stop on a queued process', () => {
    const { sidebar, server } = harness();
    server.deliver(snapshot([state('job', { status: 'queued' })]));
    const node = sidebar.list.rowNode('job')!;
    expect(
      (node.querySelector('.syft-pm-row-stop') as HTMLElement).hidden
    ).toBe(false);
    expect(
      (node.querySelector('.syft-pm-row-start') as HTMLElement).hidden
    ).toBe(true);
  });

  it('opens the notebook that started a process', () => {
    const openPath = vi.fn();
    const { sidebar, server } = harness({
      openPath,
      addDetail: d => Widget.attach(d, document.body)
    });
    server.deliver(
      snapshot([state('web', { origin: { notebook: '/root/nb/a.ipynb' } })])
    );
    const detail = sidebar.openDetail('web')!;
    widgets.push(detail);
    (
      detail.node.querySelector(
        '.syft-pm-detail-open-notebook'
      ) as HTMLButtonElement
    ).click();
    expect(openPath).toHaveBeenCalledWith('nb/a.ipynb');
  });
});

describe('describeConnectionError', () => {
  it('explains a missing server extension and a dead server', () => {
    expect(
      describeConnectionError(new SyftPmApiError('Not Found', 404, 'u'))
    ).toMatch(/Not Found \(is the syft_pm server extension enabled/);
    expect(
      describeConnectionError(new SyftPmApiError('Failed to fetch', 0, 'u'))
    ).toMatch(/Failed to fetch \(is the Jupyter server running/);
    expect(describeConnectionError('boom')).toBe(
      'Cannot reach the syft_pm server extension: boom'
    );
  });
});
