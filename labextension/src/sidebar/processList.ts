/**
 * The rows of the Processes sidebar: a keyed list of plain DOM nodes.
 *
 * Each row is built once and updated in place: a row whose state object did
 * not change is not touched, and a changed row only writes the cells whose
 * text changed. The order is fixed up by moving only misplaced nodes. One
 * delegated listener serves every row. Uptimes tick from one timer of the
 * panel through `tick()`.
 */
import {
  formatBytes,
  formatCpu,
  formatUptime,
  runnerText,
  statusClass
} from '../process/format';
import { PortUrl } from './ports';
import { IProcessRow, rowUptime, statusText } from './model';
import { iconButton } from '../ui/icons';
import { isActive, isUp } from '../live/protocol';

export type RowAction = 'stop' | 'start' | 'restart' | 'open';

export const ROW_CLASS = 'syft-pm-row';

/**
 * One row's nodes, and the last values written into them.
 */
const templates = new WeakMap<Document, HTMLLIElement>();

/**
 * The nodes of an empty row, built once per document: a row is a deep clone
 * of it (much cheaper than building ~25 nodes and parsing 4 SVG icons).
 */
function rowTemplate(doc: Document): HTMLLIElement {
  let node = templates.get(doc);
  if (node) {
    return node;
  }
  node = doc.createElement('li');
  node.className = ROW_CLASS;
  node.setAttribute('role', 'option');
  node.setAttribute('aria-selected', 'false');

  const dot = span(doc, 'syft-pm-row-dot');
  const main = doc.createElement('div');
  main.className = 'syft-pm-row-main';
  const line1 = doc.createElement('div');
  line1.className = 'syft-pm-row-line';
  const name = span(doc, 'syft-pm-row-name');
  const badge = span(doc, 'syft-pm-row-badge');
  badge.textContent = 'kernel';
  badge.title =
    'Seen only through the kernel of the active notebook: the server extension does not see this process (another SYFT_PM_HOME or host)';
  badge.hidden = true;
  const health = span(doc, 'syft-pm-row-health');
  const uptime = span(doc, 'syft-pm-row-uptime');
  uptime.title = 'Uptime';
  line1.append(name, badge, health, uptime);

  const line2 = doc.createElement('div');
  line2.className = 'syft-pm-row-line syft-pm-row-details';
  const titled = (cls: string, title: string) => {
    const el = span(doc, cls);
    el.title = title;
    return el;
  };
  line2.append(
    span(doc, 'syft-pm-row-status'),
    titled('syft-pm-row-pid', 'Process id'),
    titled('syft-pm-row-cpu', 'CPU (process tree)'),
    titled('syft-pm-row-mem', 'Memory (resident, process tree)'),
    titled('syft-pm-row-ports', 'Listening ports'),
    titled('syft-pm-row-restarts', 'Restarts')
  );
  main.append(line1, line2);

  const actions = doc.createElement('div');
  actions.className = 'syft-pm-row-actions';
  const buttons: [RowAction, 'stop' | 'start' | 'restart' | 'logs', string][] =
    [
      ['stop', 'stop', 'Stop'],
      ['start', 'start', 'Start'],
      ['restart', 'restart', 'Restart'],
      ['open', 'logs', 'Details and logs']
    ];
  for (const [action, icon, label] of buttons) {
    const button = iconButton(doc, icon, label, `syft-pm-row-${action}`);
    button.dataset.action = action;
    actions.appendChild(button);
  }
  node.append(dot, main, actions);
  templates.set(doc, node);
  return node;
}

/**
 * One row's nodes, and the last values written into them.
 */
class RowView {
  constructor(doc: Document, row: IProcessRow) {
    const node = rowTemplate(doc).cloneNode(true) as HTMLLIElement;
    node.dataset.key = row.key;
    node.dataset.processName = row.name;
    this.node = node;
    const [dot, main, actions] = node.children as unknown as HTMLElement[];
    const [line1, line2] = main.children as unknown as HTMLElement[];
    this.dot = dot;
    [this.name, this.badge, this.health, this.uptime] =
      line1.children as unknown as HTMLElement[];
    [this.status, this.pid, this.cpu, this.mem, this.ports, this.restarts] =
      line2.children as unknown as HTMLElement[];
    [this.stopButton, this.startButton] =
      actions.children as unknown as HTMLButtonElement[];
    this.name.textContent = row.name;
  }

  readonly node: HTMLLIElement;
  /** How often the row was (re)rendered: tests check unchanged rows stay 0. */
  renders = 0;
  row: IProcessRow | null = null;

  update(row: IProcessRow, nowMs: number, portUrl: PortUrl): void {
    const prev = this.row;
    this.row = row;
    if (prev && prev.state === row.state && prev.source === row.source) {
      return;
    }
    this.renders += 1;
    const s = row.state;
    const node = this.node;
    if (node.dataset.status !== s.status) {
      node.dataset.status = s.status;
    }
    if (node.dataset.source !== row.source) {
      node.dataset.source = row.source;
      this.badge.hidden = row.source !== 'kernel';
    }
    const up = isUp(s.status);
    this.set('dot', this.dot, '', `syft-pm-row-dot ${statusClass(s.status)}`);
    this.dot.title = s.status;
    this.set('status', this.status, statusText(row, nowMs));
    this.status.title = s.reason ?? s.error ?? '';
    // A scheduler's process: where it runs says more than a pid on another host.
    const where = s.runner ? runnerText(s.runner) : '';
    const pid = up && s.pid !== null ? `pid ${s.pid}` : '';
    this.set('pid', this.pid, where || pid);
    this.pid.title = where ? 'Where it runs' : 'Process id';
    const m = up ? s.metrics : null;
    this.set('cpu', this.cpu, m ? formatCpu(m.cpu_percent) : '');
    this.set('mem', this.mem, m ? formatBytes(m.rss_bytes) : '');
    this.setPorts(m ? m.ports : [], portUrl);
    this.set(
      'restarts',
      this.restarts,
      s.restarts > 0 ? `\u21bb ${s.restarts}` : ''
    );
    const health = s.health;
    const hs = health?.status ?? '';
    this.set(
      'health',
      this.health,
      hs ? (hs === 'healthy' ? '\u2665' : `\u2665 ${hs}`) : '',
      `syft-pm-row-health syft-pm-health-${hs || 'none'}`
    );
    this.health.title = health
      ? `Health: ${hs}${health.message ? ` \u2014 ${health.message}` : ''}`
      : '';
    const active = isActive(s.status);
    this.stopButton.hidden = !active;
    this.startButton.hidden = active;
    this.tick(nowMs);
  }

  tick(nowMs: number): void {
    const row = this.row;
    if (!row) {
      return;
    }
    const up = rowUptime(row, nowMs);
    this.set('uptime', this.uptime, up === null ? '' : formatUptime(up));
    if (row.state.status === 'starting' && row.state.next_restart_at) {
      this.set('status', this.status, statusText(row, nowMs));
    }
  }

  private setPorts(ports: number[], portUrl: PortUrl): void {
    const text = ports.join(',');
    if (this._last.ports === text) {
      return;
    }
    this._last.ports = text;
    const cell = this.ports;
    cell.textContent = '';
    const doc = cell.ownerDocument;
    for (const port of ports.slice(0, 4)) {
      const a = doc.createElement('a');
      a.className = 'syft-pm-port-link';
      a.href = portUrl(port);
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = `:${port}`;
      a.title = `Open port ${port} (${a.href})`;
      cell.appendChild(a);
    }
    if (ports.length > 4) {
      cell.appendChild(doc.createTextNode(` +${ports.length - 4}`));
    }
  }

  private set(
    key: string,
    el: HTMLElement,
    text: string,
    className?: string
  ): void {
    if (this._last[key] !== text) {
      this._last[key] = text;
      el.textContent = text;
    }
    if (className !== undefined && this._last[`${key}.class`] !== className) {
      this._last[`${key}.class`] = className;
      el.className = className;
    }
  }

  private _last: Record<string, string> = {};
  private dot: HTMLElement;
  private name: HTMLElement;
  private badge: HTMLElement;
  private health: HTMLElement;
  private uptime: HTMLElement;
  private status: HTMLElement;
  private pid: HTMLElement;
  private cpu: HTMLElement;
  private mem: HTMLElement;
  private ports: HTMLElement;
  private restarts: HTMLElement;
  private stopButton: HTMLButtonElement;
  private startButton: HTMLButtonElement;
}

function span(doc: Document, className: string): HTMLSpanElement {
  const el = doc.createElement('span');
  el.className = className;
  return el;
}

/**
 * The list: rows in display order, selection, keyboard navigation.
 */
export class ProcessList {
  constructor(doc: Document, options: ProcessList.IOptions) {
    this._options = options;
    const node = doc.createElement('ul');
    node.className = 'syft-pm-list';
    node.setAttribute('role', 'listbox');
    node.setAttribute('aria-label', 'Processes');
    node.tabIndex = 0;
    node.addEventListener('click', this._onClick);
    node.addEventListener('dblclick', this._onDblClick);
    node.addEventListener('keydown', this._onKeyDown);
    this.node = node;
  }

  readonly node: HTMLUListElement;

  /** The keys shown, in order. */
  get keys(): readonly string[] {
    return this._order;
  }

  get selected(): string | null {
    return this._selected;
  }

  /** How often a row was rendered (tests, benchmarks). */
  renders(key: string): number {
    return this._views.get(key)?.renders ?? 0;
  }

  /**
   * Show `rows` in this order. Rows whose state object is unchanged are not
   * touched; only misplaced nodes move.
   */
  render(rows: readonly IProcessRow[], nowMs: number = Date.now()): void {
    const doc = this.node.ownerDocument;
    const portUrl = this._options.portUrl;
    const keep = new Set<string>();
    const first = this._order.length === 0;
    const fragment = first ? doc.createDocumentFragment() : null;
    for (const row of rows) {
      keep.add(row.key);
      let view = this._views.get(row.key);
      if (!view) {
        view = new RowView(doc, row);
        this._views.set(row.key, view);
      }
      view.update(row, nowMs, portUrl);
      if (fragment) {
        fragment.appendChild(view.node);
      }
    }
    // Drop rows no longer shown (filtered out or removed); a filtered row's
    // view is kept for when it comes back, a removed row's is forgotten.
    for (const key of this._order) {
      if (!keep.has(key)) {
        const view = this._views.get(key);
        view?.node.remove();
      }
    }
    if (fragment) {
      this.node.appendChild(fragment);
    } else {
      let cursor: ChildNode | null = this.node.firstChild;
      for (const row of rows) {
        const node = this._views.get(row.key)!.node;
        if (node === cursor) {
          cursor = cursor.nextSibling;
        } else {
          this.node.insertBefore(node, cursor);
        }
      }
    }
    this._order = rows.map(r => r.key);
    if (this._selected !== null && !keep.has(this._selected)) {
      // A row filtered out or removed is no longer what commands act on.
      this.select(null);
    }
  }

  /** Forget the views of removed rows. */
  forget(keys: Iterable<string>): void {
    for (const key of keys) {
      const view = this._views.get(key);
      if (view) {
        view.node.remove();
        this._views.delete(key);
      }
    }
    this._order = this._order.filter(k => this._views.has(k));
  }

  /** Refresh what depends on the clock (uptimes, restart countdowns). */
  tick(nowMs: number = Date.now()): void {
    for (const key of this._order) {
      this._views.get(key)?.tick(nowMs);
    }
  }

  select(key: string | null, options: { focus?: boolean } = {}): void {
    this._selected = key;
    this._markSelected(key);
    if (key !== null && options.focus) {
      const view = this._views.get(key);
      view?.node.scrollIntoView?.({ block: 'nearest' });
    }
    this._options.onSelect?.(key);
  }

  rowNode(key: string): HTMLElement | null {
    return this._views.get(key)?.node ?? null;
  }

  dispose(): void {
    this.node.removeEventListener('click', this._onClick);
    this.node.removeEventListener('dblclick', this._onDblClick);
    this.node.removeEventListener('keydown', this._onKeyDown);
    this._views.clear();
  }

  private _markSelected(key: string | null): void {
    if (this._marked === key) {
      return;
    }
    if (this._marked !== null) {
      const old = this._views.get(this._marked);
      old?.node.classList.remove('syft-pm-mod-selected');
      old?.node.setAttribute('aria-selected', 'false');
    }
    this._marked = key;
    if (key !== null) {
      const view = this._views.get(key);
      view?.node.classList.add('syft-pm-mod-selected');
      view?.node.setAttribute('aria-selected', 'true');
    }
  }

  private _keyOf(target: EventTarget | null): string | null {
    const el = target as HTMLElement | null;
    const row = el?.closest?.(`.${ROW_CLASS}`) as HTMLElement | null;
    return row?.dataset.key ?? null;
  }

  private _onClick = (event: MouseEvent): void => {
    const target = event.target as HTMLElement;
    if (target.closest('a')) {
      return; // port links open by themselves
    }
    const key = this._keyOf(target);
    if (key === null) {
      return;
    }
    const button = target.closest('button[data-action]') as HTMLElement | null;
    this.select(key);
    if (button) {
      event.stopPropagation();
      this._options.onAction(key, button.dataset.action as RowAction);
    }
  };

  private _onDblClick = (event: MouseEvent): void => {
    const target = event.target as HTMLElement;
    if (target.closest('button, a')) {
      return;
    }
    const key = this._keyOf(target);
    if (key !== null) {
      this._options.onAction(key, 'open');
    }
  };

  private _onKeyDown = (event: KeyboardEvent): void => {
    const order = this._order;
    if (order.length === 0) {
      return;
    }
    const index = this._selected === null ? -1 : order.indexOf(this._selected);
    let next = index;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(order.length - 1, index + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, index - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = order.length - 1;
        break;
      case 'Enter':
        if (this._selected !== null) {
          this._options.onAction(this._selected, 'open');
          event.preventDefault();
        }
        return;
      default:
        return;
    }
    event.preventDefault();
    if (next >= 0 && next !== index) {
      this.select(order[next], { focus: true });
    }
  };

  private _options: ProcessList.IOptions;
  private _views = new Map<string, RowView>();
  private _order: string[] = [];
  private _selected: string | null = null;
  private _marked: string | null = null;
}

export namespace ProcessList {
  export interface IOptions {
    onAction: (key: string, action: RowAction) => void;
    onSelect?: (key: string | null) => void;
    portUrl: PortUrl;
  }
}
