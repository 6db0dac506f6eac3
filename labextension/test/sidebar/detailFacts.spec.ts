// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';

import { renderFacts } from '../../src/sidebar/detail/detailFacts';
import { IProcessRow } from '../../src/sidebar/model';
import { row as makeRow } from './fixtures';

function facts(row: IProcessRow): Record<string, string> {
  const dl = document.createElement('dl');
  renderFacts(dl, row, {
    info: null,
    infoError: null,
    portUrl: port => `http://localhost:${port}/`
  });
  const out: Record<string, string> = {};
  for (const pair of Array.from(dl.querySelectorAll('.syft-pm-detail-fact'))) {
    out[pair.querySelector('dt')!.textContent!] =
      pair.querySelector('dd')!.textContent!;
  }
  return out;
}

describe('detail facts of issue 14', () => {
  it('shows the ready time, binding, memory limit and restart reason', () => {
    const readyAt = 1_700_000_000;
    const row = makeRow('web', {
      status: 'running',
      pid: 7,
      started_at: readyAt - 2,
      ready_at: readyAt,
      restarts: 1,
      restart_reason: 'supervisor was killed',
      max_memory: 512 * 1024 * 1024,
      bind: {
        to: 'kernel',
        kernel_id: 'abcdef0123',
        pid: 9,
        lost_at: null,
        grace: 30
      }
    });
    const f = facts(row);
    expect(f['Ready']).toBe(new Date(readyAt * 1000).toLocaleString());
    expect(f['Restart reason']).toBe('supervisor was killed');
    expect(f['Memory limit']).toBe('512 MiB');
    expect(f['Bound to']).toBe('kernel abcdef01');
  });
});
