// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';

import { formatCpu } from '../../src/process/format';
import { IProcessRow, statusText } from '../../src/sidebar/model';
import { ProcessList } from '../../src/sidebar/processList';
import { row } from './fixtures';

function makeList() {
  const onAction = vi.fn();
  const onSelect = vi.fn();
  const list = new ProcessList(document, {
    onAction,
    onSelect,
    portUrl: p => `http://h:${p}/`
  });
  document.body.appendChild(list.node);
  return { list, onAction, onSelect };
}

const names = (list: ProcessList) =>
  [...list.node.querySelectorAll<HTMLElement>('.syft-pm-row')].map(
    n => n.dataset.processName
  );

const NOW = 1_700_000_100_000;

describe('ProcessList rows', () => {
  it('shows dot, name, pid, uptime, CPU, memory, ports, health and restarts', () => {
    const { list } = makeList();
    list.render(
      [
        row('web', {
          pid: 4242,
          started_at: 1_700_000_000,
          restarts: 2,
          metrics: {
            cpu_percent: 3.25,
            rss_bytes: 50 * 1024 * 1024,
            threads: 4,
            children: 1,
            ports: [8080, 9090]
          },
          health: {
            status: 'healthy',
            message: 'HTTP 200',
            checked_at: 1,
            source: 'http',
            consecutive_failures: 0
          }
        })
      ],
      NOW
    );
    const node = list.rowNode('web')!;
    expect(node.dataset.processName).toBe('web');
    expect(node.dataset.status).toBe('running');
    expect(node.dataset.source).toBe('server');
    const text = (sel: string) => node.querySelector(sel)!.textContent;
    expect(node.querySelector('.syft-pm-row-dot')!.className).toContain(
      'syft-pm-tone-ok'
    );
    expect(text('.syft-pm-row-name')).toBe('web');
    expect(text('.syft-pm-row-pid')).toBe('pid 4242');
    expect(text('.syft-pm-row-uptime')).toBe('1m 40s');
    expect(text('.syft-pm-row-cpu')).toBe('3.3%');
    expect(text('.syft-pm-row-mem')).toBe('50 MiB');
    expect(text('.syft-pm-row-restarts')).toBe('\u21bb 2');
    expect(text('.syft-pm-row-health')).toBe('\u2665');
    const links =
      node.querySelectorAll<HTMLAnchorElement>('.syft-pm-port-link');
    expect([...links].map(a => a.getAttribute('href'))).toEqual([
      'http://h:8080/',
      'http://h:9090/'
    ]);
    expect(node.querySelector<HTMLElement>('.syft-pm-row-badge')!.hidden).toBe(
      true
    );
  });

  it('says where a scheduler runs a process instead of its pid', () => {
    const { list } = makeList();
    list.render(
      [
        row('train', {
          status: 'running',
          pid: 77,
          runner: {
            kind: 'slurm',
            job_id: '42',
            node: 'node07',
            partition: 'gpu'
          }
        }),
        row('wait', {
          status: 'queued',
          runner: { kind: 'slurm', job_id: '43', node: null, partition: null }
        })
      ],
      NOW
    );
    const pid = (name: string) =>
      list.rowNode(name)!.querySelector('.syft-pm-row-pid')!.textContent;
    expect(pid('train')).toBe('slurm job 42 on node07 (gpu)');
    expect(pid('wait')).toBe('slurm job 43 (queued)');
  });

  it('shows what matters for finished processes and marks kernel rows', () => {
    const { list } = makeList();
    list.render(
      [
        row('crash', { status: 'failed', exit_code: 3, reason: 'exit code 3' }),
        row('k', {}, 'kernel')
      ],
      NOW
    );
    const crash = list.rowNode('crash')!;
    expect(crash.querySelector('.syft-pm-row-status')!.textContent).toBe(
      'failed (exit 3)'
    );
    expect(crash.querySelector('.syft-pm-row-pid')!.textContent).toBe('');
    expect(crash.querySelector('.syft-pm-row-uptime')!.textContent).toBe('');
    expect(crash.querySelector<HTMLElement>('.syft-pm-row-stop')!.hidden).toBe(
      true
    );
    expect(crash.querySelector<HTMLElement>('.syft-pm-row-start')!.hidden).toBe(
      false
    );
    const k = list.rowNode('kernel:k')!;
    expect(k.dataset.processName).toBe('k');
    expect(k.dataset.source).toBe('kernel');
    expect(k.querySelector<HTMLElement>('.syft-pm-row-badge')!.hidden).toBe(
      false
    );
  });

  it('re-renders only rows whose state changed, in place', () => {
    const { list } = makeList();
    const rows = Array.from({ length: 50 }, (_, i) => row(`p${i}`));
    list.render(rows, NOW);
    const nodeBefore = list.rowNode('p7');
    expect(list.renders('p7')).toBe(1);
    const next: IProcessRow[] = rows.slice();
    next[7] = { ...rows[7], state: { ...rows[7].state, status: 'stopped' } };
    list.render(next, NOW);
    expect(list.renders('p7')).toBe(2);
    expect(list.rowNode('p7')).toBe(nodeBefore);
    expect(list.rowNode('p7')!.dataset.status).toBe('stopped');
    for (let i = 0; i < 50; i++) {
      if (i !== 7) {
        expect(list.renders(`p${i}`)).toBe(1);
      }
    }
  });

  it('reorders by moving nodes, keeps them, and drops rows no longer shown', () => {
    const { list } = makeList();
    const a = row('a');
    const b = row('b');
    const c = row('c');
    list.render([a, b, c], NOW);
    const nodeA = list.rowNode('a');
    list.render([c, a, b], NOW);
    expect(names(list)).toEqual(['c', 'a', 'b']);
    expect(list.rowNode('a')).toBe(nodeA);
    list.render([a], NOW);
    expect(names(list)).toEqual(['a']);
    list.render([b, a], NOW);
    expect(names(list)).toEqual(['b', 'a']);
    list.forget(['b']);
    expect(names(list)).toEqual(['a']);
    expect(list.renders('b')).toBe(0);
  });

  it('ticks uptimes from one call, without re-rendering rows', () => {
    const { list } = makeList();
    list.render([row('a', { started_at: 1_700_000_000 })], NOW);
    list.tick(NOW + 5000);
    expect(
      list.rowNode('a')!.querySelector('.syft-pm-row-uptime')!.textContent
    ).toBe('1m 45s');
    expect(list.renders('a')).toBe(1);
  });

  it('selects on click, runs row buttons, opens on double click and Enter', () => {
    const { list, onAction, onSelect } = makeList();
    list.render([row('a'), row('b')], NOW);
    (
      list.rowNode('b')!.querySelector('.syft-pm-row-name') as HTMLElement
    ).click();
    expect(list.selected).toBe('b');
    expect(onSelect).toHaveBeenLastCalledWith('b');
    expect(list.rowNode('b')!.getAttribute('aria-selected')).toBe('true');
    (
      list.rowNode('a')!.querySelector('.syft-pm-row-stop') as HTMLElement
    ).click();
    expect(onAction).toHaveBeenLastCalledWith('a', 'stop');
    expect(list.selected).toBe('a');
    list
      .rowNode('b')!
      .dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    expect(onAction).toHaveBeenLastCalledWith('b', 'open');
    list.node.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown' }));
    expect(list.selected).toBe('b');
    list.node.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp' }));
    expect(list.selected).toBe('a');
    list.node.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(onAction).toHaveBeenLastCalledWith('a', 'open');
  });

  it('clears the selection when its row goes away', () => {
    const { list } = makeList();
    list.render([row('a'), row('b')], NOW);
    list.select('a');
    list.render([row('b')], NOW);
    expect(list.selected).toBeNull();
  });

  it('leaves every row alone when nothing changed (timing: bench/bench_sidebar.py)', () => {
    const { list } = makeList();
    const rows = Array.from({ length: 200 }, (_, i) => row(`proc-${i}`));
    list.render(rows, NOW);
    expect(list.node.children).toHaveLength(200);
    const observer = new MutationObserver(() => undefined);
    observer.observe(list.node, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true
    });
    list.render(rows.slice(), NOW);
    expect(observer.takeRecords()).toEqual([]);
    observer.disconnect();
  });
});

describe('row text helpers', () => {
  it('statusText', () => {
    expect(statusText(row('a', { status: 'exited', exit_code: 0 }), NOW)).toBe(
      'exited'
    );
    expect(statusText(row('a', { status: 'exited', exit_code: 2 }), NOW)).toBe(
      'exited (2)'
    );
    expect(
      statusText(row('a', { status: 'failed', signal: 'SIGKILL' }), NOW)
    ).toBe('failed (SIGKILL)');
    expect(
      statusText(row('a', { status: 'stopped', stop_reason: 'ttl' }), NOW)
    ).toBe('stopped (TTL)');
    expect(
      statusText(
        row('a', { status: 'starting', next_restart_at: NOW / 1000 + 3 }),
        NOW
      )
    ).toBe('restarting in 3s');
    expect(statusText(row('a', { status: 'error' }), NOW)).toBe('unreadable');
    // A ready spec not met yet: the command runs, it is not ready.
    expect(
      statusText(
        row('a', { status: 'starting', pid: 7, started_at: 1, ready_at: null }),
        NOW
      )
    ).toBe('starting\u2026');
    expect(
      statusText(row('a', { status: 'stopped', stop_reason: 'memory' }), NOW)
    ).toBe('stopped (memory)');
    expect(
      statusText(row('a', { status: 'stopped', stop_reason: 'kernel' }), NOW)
    ).toBe('stopped (kernel gone)');
  });

  it('formatCpu', () => {
    expect(formatCpu(0)).toBe('0.0%');
    expect(formatCpu(12.7)).toBe('13%');
    expect(formatCpu(null)).toBe('');
  });
});
