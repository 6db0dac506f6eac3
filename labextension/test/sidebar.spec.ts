// @vitest-environment happy-dom
import { Widget } from '@lumino/widgets';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { SyftPmApiError } from '../src/request';
import {
  describeConnectionError,
  ProcessSidebar,
  SIDEBAR_ID,
  StatusFetcher
} from '../src/sidebar';
import { IServerStatus } from '../src/types';

// The real LabIcon pulls in @jupyterlab/ui-components (React, web
// components), whose ESM does not load in node; the sidebar only needs an
// icon object to put on its title.
vi.mock('../src/icons', () => ({
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

const widgets: Widget[] = [];

function attach(sidebar: ProcessSidebar): ProcessSidebar {
  widgets.push(sidebar);
  Widget.attach(sidebar, document.body);
  return sidebar;
}

const $ = (sidebar: Widget, selector: string) =>
  sidebar.node.querySelector<HTMLElement>(selector);

afterEach(() => {
  while (widgets.length) {
    widgets.pop()!.dispose();
  }
});

describe('ProcessSidebar', () => {
  it('has the id, caption and header of the Processes sidebar', () => {
    const { fetcher } = deferredFetcher();
    const sidebar = new ProcessSidebar({ fetchStatus: fetcher });
    widgets.push(sidebar);
    expect(sidebar.id).toBe(SIDEBAR_ID);
    expect(sidebar.id).toBe('syft-pm-sidebar');
    expect(sidebar.title.caption).toBe('Processes');
    expect(sidebar.title.icon).toBeTruthy();
    expect($(sidebar, '.syft-pm-sidebar-title')?.textContent).toBe('Processes');
  });

  it('asks for the status when attached and shows the server version', async () => {
    const { fetcher, calls } = deferredFetcher();
    const sidebar = attach(new ProcessSidebar({ fetchStatus: fetcher }));
    expect(calls).toHaveLength(1);
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
    const sidebar = attach(new ProcessSidebar({ fetchStatus: fetcher }));
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
    const sidebar = attach(new ProcessSidebar({ fetchStatus: fetcher }));
    calls[0].resolve({} as IServerStatus);
    await vi.waitFor(() => expect(sidebar.connection).toBe('failed'));
    expect(sidebar.errorMessage).toMatch(/no "version"/);
  });

  it('ignores the answer of a request a newer one replaced', async () => {
    const { fetcher, calls } = deferredFetcher();
    const sidebar = attach(new ProcessSidebar({ fetchStatus: fetcher }));
    const second = sidebar.refresh();
    expect(calls[0].signal.aborted).toBe(true);
    calls[1].resolve({ version: 'new' });
    calls[0].resolve({ version: 'old' });
    await second;
    await Promise.resolve();
    expect(sidebar.serverVersion).toBe('new');
  });

  it('aborts its request and stays quiet after dispose', async () => {
    const { fetcher, calls } = deferredFetcher();
    const sidebar = attach(new ProcessSidebar({ fetchStatus: fetcher }));
    const changes: string[] = [];
    sidebar.connectionChanged.connect((_, state) => changes.push(state));
    sidebar.dispose();
    expect(sidebar.isDisposed).toBe(true);
    expect(calls[0].signal.aborted).toBe(true);
    calls[0].reject(new SyftPmApiError('late', 0, 'x'));
    await Promise.resolve();
    expect(changes).toEqual([]);
    await sidebar.refresh();
    expect(calls).toHaveLength(1);
  });

  it('keeps the settings it is given', () => {
    const { fetcher } = deferredFetcher();
    const sidebar = new ProcessSidebar({
      fetchStatus: fetcher,
      settings: { tick: 250 }
    });
    widgets.push(sidebar);
    expect(sidebar.settings).toEqual({
      tick: 250,
      logLines: 500,
      notifications: true
    });
    sidebar.updateSettings({ tick: 2000, logLines: 20, notifications: false });
    expect(sidebar.settings.logLines).toBe(20);
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
