/**
 * The "Details" list of a process's detail view: what the live state says
 * (status, resources, ports, health, lifecycle, command, origin) and what
 * `info()` adds (provenance, registry, log files, the rest of the config).
 */
import {
  bindText,
  formatBytes,
  formatCpu,
  formatUptime
} from '../../process/format';
import { IProcessRow, rowUptime, statusText } from '../model';
import { PortUrl } from '../ports';
import { isUp, LOG_STREAMS } from '../../live/protocol';

function fmtTime(t: unknown): string {
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    return '';
  }
  return new Date(t * 1000).toLocaleString();
}

function fmtValue(v: unknown): string {
  if (v === null || v === undefined || v === '') {
    return '';
  }
  if (typeof v === 'string') {
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    return String(v);
  }
  if (Array.isArray(v) && v.every(x => typeof x === 'string')) {
    return v.join(' ');
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${typeof x === 'object' ? JSON.stringify(x) : x}`)
      .join(' \u00b7 ');
  }
  return JSON.stringify(v);
}

/**
 * The lines of the environment fact: `info()` lists the variable names only
 * (values can hold secrets; Python reveals them on request), older servers
 * sent a name-to-value object.
 */
export function envLines(env: unknown): string[] {
  if (Array.isArray(env)) {
    return env.map(name => String(name));
  }
  if (env && typeof env === 'object') {
    return Object.entries(env as Record<string, unknown>).map(
      ([name, value]) => `${name}=${fmtValue(value)}`
    );
  }
  return [];
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function configLabel(key: string): string {
  const words = key.replace(/_/g, ' ');
  return capitalize(words);
}

/**
 * What the facts are made of besides the row.
 */
export interface IFactsInput {
  /** `info()` of the process, once read. */
  info: Record<string, unknown> | null;
  /** Why `info()` is not there, if it is not. */
  infoError: string | null;
  portUrl: PortUrl;
}

/**
 * Fill `dl` with the facts of `row`; returns the uptime's element (it ticks),
 * if shown.
 */
export function renderFacts(
  dl: HTMLDListElement,
  row: IProcessRow,
  input: IFactsInput
): HTMLElement | null {
  const s = row.state;
  const info = input.info;
  const doc = dl.ownerDocument;
  dl.textContent = '';
  const add = (
    label: string,
    value: string | Node | null | undefined,
    cls = ''
  ): HTMLElement | null => {
    if (value === null || value === undefined || value === '') {
      return null;
    }
    const pair = doc.createElement('div');
    pair.className = 'syft-pm-detail-fact';
    const dt = doc.createElement('dt');
    dt.textContent = label;
    const dd = doc.createElement('dd');
    if (cls) {
      dd.className = cls;
    }
    if (typeof value === 'string') {
      dd.textContent = value;
    } else {
      dd.appendChild(value);
    }
    pair.append(dt, dd);
    dl.appendChild(pair);
    return dd;
  };
  const nowMs = Date.now();
  add('Status', statusText(row, nowMs), 'syft-pm-detail-fact-status');
  add('Reason', s.reason ?? s.error);
  add('PID', s.pid !== null && isUp(s.status) ? String(s.pid) : '');
  const up = rowUptime(row, nowMs);
  const uptimeNode = add(
    'Uptime',
    up === null ? '' : formatUptime(up),
    'syft-pm-detail-fact-uptime'
  );
  const m = isUp(s.status) ? s.metrics : null;
  if (m) {
    add('CPU', formatCpu(m.cpu_percent));
    add('Memory', formatBytes(m.rss_bytes));
    add('Threads', String(m.threads));
    add('Children', String(m.children));
  }
  const ports = m?.ports ?? [];
  if (ports.length) {
    const span = doc.createElement('span');
    span.className = 'syft-pm-detail-fact-ports';
    for (const port of ports) {
      const a = doc.createElement('a');
      a.className = 'syft-pm-port-link';
      a.href = input.portUrl(port);
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = `${port}`;
      a.title = a.href;
      span.appendChild(a);
    }
    add('Ports', span);
  }
  if (s.health) {
    const h = s.health;
    const parts = [h.status ?? 'unknown'];
    if (h.message) {
      parts.push(h.message);
    }
    if (h.consecutive_failures) {
      parts.push(`${h.consecutive_failures} failure(s) in a row`);
    }
    if (h.checked_at) {
      parts.push(`checked ${fmtTime(h.checked_at)}`);
    }
    add(
      'Health',
      parts.join(' \u00b7 '),
      `syft-pm-health-${h.status ?? 'none'}`
    );
  }
  add('Restarts', String(s.restarts ?? 0));
  add('Restart reason', s.restarts ? s.restart_reason : '');
  add('Restart policy', s.restart_policy);
  add('Memory limit', s.max_memory ? formatBytes(s.max_memory) : '');
  add('Bound to', s.bind ? bindText(s.bind) : '');
  add('Exit code', s.exit_code === null ? '' : String(s.exit_code));
  add('Signal', s.signal);
  add('Started', fmtTime(s.started_at));
  add('Ready', fmtTime(s.ready_at));
  add('Ended', isUp(s.status) ? '' : fmtTime(s.ended_at));
  add('Stop reason', s.stop_reason);
  add('Next restart', fmtTime(s.next_restart_at));
  add('TTL', s.ttl ? `${s.ttl} s` : '');
  add('Command', s.command, 'syft-pm-detail-fact-code');
  add('Working directory', s.cwd, 'syft-pm-detail-fact-code');
  const labels = Object.entries(s.labels ?? {});
  if (labels.length) {
    add('Labels', labels.map(([k, v]) => `${k}=${v}`).join(', '));
  }
  const o = s.origin ?? {};
  add('Notebook', o.notebook, 'syft-pm-detail-fact-code');
  add('Kernel', o.kernel_id, 'syft-pm-detail-fact-code');
  if (o.user || o.host) {
    add('Started by', [o.user, o.host].filter(Boolean).join(' @ '));
  }
  add('Source', o.source);
  add(
    'Seen through',
    row.source === 'kernel' ? 'the active notebook\u2019s kernel only' : ''
  );

  if (info) {
    const prov = (info.provenance ?? {}) as Record<string, unknown>;
    add('Started from', fmtValue(prov.python), 'syft-pm-detail-fact-code');
    add('Starter pid', fmtValue(prov.pid));
    add('Registry', fmtValue(info.registry_home), 'syft-pm-detail-fact-code');
    add('Directory', fmtValue(info.directory), 'syft-pm-detail-fact-code');
    const logs = (info.logs ?? {}) as Record<string, unknown>;
    for (const stream of LOG_STREAMS) {
      const paths = logs[stream];
      if (Array.isArray(paths) && paths.length) {
        add(`${stream} files`, paths.join('\n'), 'syft-pm-detail-fact-code');
      }
    }
    const config = (info.config ?? {}) as Record<string, unknown>;
    const shown = new Set([
      'cmd',
      'cwd',
      'restart',
      'ttl',
      'labels',
      'name',
      'schema'
    ]);
    for (const [k, v] of Object.entries(config)) {
      if (shown.has(k)) {
        continue;
      }
      if (k === 'env' && v && typeof v === 'object') {
        const env = envLines(v);
        if (env.length) {
          const details = doc.createElement('details');
          const sum = doc.createElement('summary');
          sum.textContent = `${env.length} variable${env.length === 1 ? '' : 's'}`;
          const pre = doc.createElement('pre');
          pre.textContent = env.join('\n');
          details.append(sum, pre);
          add('Environment', details, 'syft-pm-detail-fact-code');
        }
        continue;
      }
      add(
        configLabel(k),
        k.endsWith('_at') ? fmtTime(v) : fmtValue(v),
        'syft-pm-detail-fact-code'
      );
    }
  } else if (input.infoError) {
    add('More', input.infoError);
  }
  return uptimeNode;
}
