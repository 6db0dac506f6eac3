import { describe, expect, it } from 'vitest';

import {
  compareNames,
  isKernelOnly,
  labPath,
  matchesOrigin,
  matchesStatus,
  matchesText,
  mergeRows,
  originChoices,
  originKey,
  queryRows,
  rowUptime,
  sameNotebook,
  summarize
} from '../../src/sidebar/model';
import { row, state } from './fixtures';

const ctx = {
  notebookPath: 'analysis/a.ipynb',
  kernelId: 'kern-a',
  serverRoot: '/home/me/work'
};

const query = (over = {}) => ({
  text: '',
  status: 'all',
  origin: 'all',
  sort: 'default' as const,
  ...over
});

describe('mergeRows', () => {
  const server = (names: string[], registryId = 'reg-1') => {
    const states = names.map(n => state(n));
    return {
      registryId,
      clockOffset: 0,
      states,
      has: (n: string) => names.includes(n)
    };
  };

  it('keeps every server process as a server row keyed by name', () => {
    const rows = mergeRows(server(['a', 'b']), null);
    expect(rows.map(r => [r.key, r.source])).toEqual([
      ['a', 'server'],
      ['b', 'server']
    ]);
  });

  it('adds kernel processes the server does not know, marked as kernel rows', () => {
    const rows = mergeRows(server(['a']), {
      registryId: 'reg-1',
      clockOffset: 2,
      states: [state('a'), state('only-kernel')]
    });
    expect(rows.map(r => [r.key, r.name, r.source])).toEqual([
      ['a', 'a', 'server'],
      ['kernel:only-kernel', 'only-kernel', 'kernel']
    ]);
    expect(rows[1].clockOffset).toBe(2);
  });

  it('keeps every kernel process when the kernel uses another registry, even same names', () => {
    const rows = mergeRows(server(['web']), {
      registryId: 'reg-other',
      clockOffset: 0,
      states: [state('web')]
    });
    expect(rows.map(r => r.key)).toEqual(['web', 'kernel:web']);
  });

  it('shows all kernel processes when there is no server data at all', () => {
    const rows = mergeRows(
      { registryId: null, clockOffset: 0, states: [], has: () => false },
      { registryId: 'reg-k', clockOffset: 0, states: [state('x')] }
    );
    expect(rows.map(r => r.key)).toEqual(['kernel:x']);
  });

  it('isKernelOnly', () => {
    const s = { registryId: 'r1', has: (n: string) => n === 'a' };
    expect(isKernelOnly('a', 'r1', s)).toBe(false);
    expect(isKernelOnly('b', 'r1', s)).toBe(true);
    expect(isKernelOnly('a', 'r2', s)).toBe(true);
    expect(isKernelOnly('a', null, s)).toBe(false);
  });
});

describe('status filter', () => {
  it('matches groups and single statuses', () => {
    expect(matchesStatus('running', 'all')).toBe(true);
    expect(matchesStatus('running', 'active')).toBe(true);
    expect(matchesStatus('stopping', 'active')).toBe(true);
    expect(matchesStatus('failed', 'active')).toBe(false);
    expect(matchesStatus('failed', 'problems')).toBe(true);
    expect(matchesStatus('unhealthy', 'problems')).toBe(true);
    expect(matchesStatus('error', 'problems')).toBe(true);
    expect(matchesStatus('exited', 'finished')).toBe(true);
    expect(matchesStatus('running', 'finished')).toBe(false);
    expect(matchesStatus('stopped', 'stopped')).toBe(true);
    expect(matchesStatus('exited', 'stopped')).toBe(false);
  });
});

describe('origins', () => {
  it('turns recorded absolute notebook paths into Lab paths', () => {
    expect(labPath('/home/me/work/analysis/a.ipynb', '/home/me/work')).toBe(
      'analysis/a.ipynb'
    );
    expect(labPath('/home/me/work/a.ipynb', '/home/me/work/')).toBe('a.ipynb');
    expect(labPath('/elsewhere/a.ipynb', '/home/me/work')).toBe(
      '/elsewhere/a.ipynb'
    );
    expect(labPath('C:\\work\\a.ipynb', 'C:\\work')).toBe('a.ipynb');
    expect(labPath(null, '/x')).toBeNull();
  });

  it('recognises the active notebook by path, with or without a known root', () => {
    expect(
      sameNotebook(
        '/home/me/work/analysis/a.ipynb',
        'analysis/a.ipynb',
        '/home/me/work'
      )
    ).toBe(true);
    expect(
      sameNotebook('/home/me/work/analysis/a.ipynb', 'analysis/a.ipynb', null)
    ).toBe(true);
    expect(
      sameNotebook('/home/me/work/b/a.ipynb', 'analysis/a.ipynb', null)
    ).toBe(false);
    expect(sameNotebook(undefined, 'a.ipynb', null)).toBe(false);
  });

  it('"this notebook" matches the active notebook by path or by kernel id', () => {
    const byPath = row('p', {
      origin: { notebook: '/home/me/work/analysis/a.ipynb', kernel_id: 'old' }
    });
    const byKernel = row('k', { origin: { kernel_id: 'kern-a' } });
    const other = row('o', {
      origin: { notebook: '/home/me/work/b.ipynb', kernel_id: 'kern-b' }
    });
    const script = row('s', { origin: { user: 'me', host: 'h' } });
    expect(matchesOrigin(byPath, 'this', ctx)).toBe(true);
    expect(matchesOrigin(byKernel, 'this', ctx)).toBe(true);
    expect(matchesOrigin(other, 'this', ctx)).toBe(false);
    expect(matchesOrigin(script, 'this', ctx)).toBe(false);
    expect(matchesOrigin(other, 'notebook:b.ipynb', ctx)).toBe(true);
    expect(matchesOrigin(byKernel, 'kernel:kern-a', ctx)).toBe(true);
    expect(matchesOrigin(script, 'other', ctx)).toBe(true);
    expect(matchesOrigin(script, 'all', ctx)).toBe(true);
  });

  it('only-in-kernel matches kernel rows', () => {
    expect(matchesOrigin(row('x', {}, 'kernel'), 'kernel-only', ctx)).toBe(
      true
    );
    expect(matchesOrigin(row('x'), 'kernel-only', ctx)).toBe(false);
  });

  it('offers every origin seen, notebooks first', () => {
    const rows = [
      row('s', { origin: {} }),
      row('k', { origin: { kernel_id: 'abcdef0123456789' } }),
      row('n2', { origin: { notebook: '/home/me/work/z.ipynb' } }),
      row('n1', { origin: { notebook: '/home/me/work/a.ipynb' } }),
      row('n1b', { origin: { notebook: '/home/me/work/a.ipynb' } }),
      row('ko', {}, 'kernel')
    ];
    const choices = originChoices(rows, ctx);
    expect(choices.map(c => c.value)).toEqual([
      'all',
      'this',
      'kernel-only',
      'notebook:a.ipynb',
      'notebook:z.ipynb',
      'kernel:abcdef0123456789',
      'other'
    ]);
    expect(choices.find(c => c.value.startsWith('kernel:'))!.label).toBe(
      'kernel abcdef01'
    );
    expect(originKey(rows[0], ctx.serverRoot)).toBe('other');
  });
});

describe('text search', () => {
  const web = state('web-frontend', {
    command: 'python -m http.server 8080',
    labels: { team: 'ml' },
    metrics: {
      cpu_percent: 0,
      rss_bytes: 0,
      threads: 1,
      children: 0,
      ports: [8080]
    },
    origin: { notebook: '/home/me/work/serve.ipynb' }
  });

  it('matches name, command, labels, ports, notebook, status; all terms must match', () => {
    expect(matchesText(web, '')).toBe(true);
    expect(matchesText(web, 'WEB')).toBe(true);
    expect(matchesText(web, 'http.server')).toBe(true);
    expect(matchesText(web, 'team=ml')).toBe(true);
    expect(matchesText(web, ':8080')).toBe(true);
    expect(matchesText(web, 'serve.ipynb')).toBe(true);
    expect(matchesText(web, 'running')).toBe(true);
    expect(matchesText(web, 'web 8080')).toBe(true);
    expect(matchesText(web, 'web 9090')).toBe(false);
  });

  it('sees a changed state (the store replaces state objects)', () => {
    const s1 = state('a', { status: 'running' });
    expect(matchesText(s1, 'failed')).toBe(false);
    const s2 = { ...s1, status: 'failed' as const };
    expect(matchesText(s2, 'failed')).toBe(true);
  });
});

describe('queryRows: filter and sort', () => {
  const rows = [
    row('web-10', { status: 'running' }),
    row('web-2', { status: 'running' }),
    row('batch', { status: 'exited' }),
    row('crash', { status: 'failed' }),
    row('Api', { status: 'starting' }),
    row('old', { status: 'stopped' })
  ];

  it('puts active processes first, then failures, then the rest, by natural name', () => {
    expect(queryRows(rows, query(), ctx).map(r => r.name)).toEqual([
      'Api',
      'web-2',
      'web-10',
      'crash',
      'batch',
      'old'
    ]);
  });

  it('sorts by name, CPU, memory, restarts', () => {
    expect(
      queryRows(rows, query({ sort: 'name' }), ctx).map(r => r.name)
    ).toEqual(['Api', 'batch', 'crash', 'old', 'web-2', 'web-10']);
    const m = (cpu: number, rss: number) => ({
      metrics: {
        cpu_percent: cpu,
        rss_bytes: rss,
        threads: 1,
        children: 0,
        ports: []
      }
    });
    const r = [row('a', m(1, 300)), row('b', m(50, 100)), row('c', m(5, 200))];
    expect(queryRows(r, query({ sort: 'cpu' }), ctx).map(x => x.name)).toEqual([
      'b',
      'c',
      'a'
    ]);
    expect(
      queryRows(r, query({ sort: 'memory' }), ctx).map(x => x.name)
    ).toEqual(['a', 'c', 'b']);
    const rr = [row('x', { restarts: 1 }), row('y', { restarts: 4 })];
    expect(
      queryRows(rr, query({ sort: 'restarts' }), ctx).map(x => x.name)
    ).toEqual(['y', 'x']);
  });

  it('combines the status filter, the origin filter and the search', () => {
    expect(
      queryRows(rows, query({ status: 'active', text: 'web' }), ctx).map(
        r => r.name
      )
    ).toEqual(['web-2', 'web-10']);
    expect(
      queryRows(rows, query({ status: 'problems' }), ctx).map(r => r.name)
    ).toEqual(['crash']);
    expect(queryRows(rows, query({ origin: 'this' }), ctx)).toEqual([]);
  });

  it('is fast enough for 1,000 processes', () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      row(`proc-${i}`, { status: i % 3 ? 'running' : 'exited' })
    );
    const t0 = performance.now();
    const out = queryRows(many, query({ text: 'proc' }), ctx);
    expect(out).toHaveLength(1000);
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

describe('helpers', () => {
  it('compareNames is natural and total', () => {
    expect(['b10', 'b2', 'a'].sort(compareNames)).toEqual(['a', 'b2', 'b10']);
    expect(compareNames('x', 'x')).toBe(0);
  });

  it('rowUptime uses the row clock offset and only counts live statuses', () => {
    const r = { ...row('a', { started_at: 100 }), clockOffset: 10 };
    expect(rowUptime(r, 200_000)).toBe(90);
    expect(
      rowUptime(row('b', { status: 'exited', started_at: 100 }), 200_000)
    ).toBeNull();
  });

  it('summarize counts active and problem processes', () => {
    expect(
      summarize([
        row('a'),
        row('b', { status: 'unhealthy' }),
        row('c', { status: 'failed' }),
        row('d', { status: 'exited' })
      ])
    ).toEqual({ total: 4, active: 2, problems: 2 });
  });
});
