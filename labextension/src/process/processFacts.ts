/**
 * The facts line of a process view: pid, uptime, how it ended, restarts,
 * health (with the age of the last check), cpu, memory and ports. Uptime and
 * health age tick by this browser's clock, corrected by the store's offset.
 */
import {
  bindText,
  formatBytes,
  formatClock,
  formatUptime,
  PLACEHOLDER,
  runnerText
} from './format';
import { IHealth, IProcessState, isUp } from '../live/protocol';
import { ProcessStore } from '../live/processStore';

export class ProcessFacts {
  constructor(
    doc: Document,
    private readonly _store: ProcessStore,
    private readonly _name: string,
    private readonly _now: () => number
  ) {
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-facts';
  }

  readonly node: HTMLDivElement;

  /** Show the facts of `state` (none when undefined). */
  render(state: IProcessState | undefined): void {
    const facts = this.node;
    facts.textContent = '';
    this._uptimeNode = null;
    this._healthAgeNode = null;
    if (!state) {
      facts.hidden = true;
      return;
    }
    facts.hidden = false;
    const up = isUp(state.status);
    if (state.pid !== null && (up || state.status === 'starting')) {
      this._fact('pid', 'pid', String(state.pid));
    }
    if (state.runner) {
      this._fact('runner', 'runs', runnerText(state.runner));
    }
    if (state.bind) {
      this._fact(
        'bind',
        'bound to',
        bindText(state.bind),
        'stopped when this kernel shuts down or dies (not when it restarts)'
      );
    }
    if (up) {
      this._uptimeNode = this._fact('uptime', 'up', this._uptimeText());
    }
    if (up && state.ready_at !== null) {
      this._fact('ready', 'ready', formatClock(state.ready_at));
    }
    if (!up && state.status !== 'starting') {
      if (state.signal) {
        this._fact('exit', 'killed by', state.signal);
      } else if (state.exit_code !== null) {
        this._fact('exit', 'exit code', String(state.exit_code));
      }
    }
    if (state.restarts > 0 || restartsOnItsOwn(state.restart_policy)) {
      this._fact('restarts', 'restarts', String(state.restarts));
    }
    if (state.restarts > 0 && state.restart_reason) {
      this._fact('restart-reason', 'restarted', state.restart_reason);
    }
    if (state.health) {
      const node = this._fact(
        'health',
        'health',
        healthLabel(state.health),
        state.health.message ?? ''
      );
      node.classList.add(healthClass(state.health));
      if (state.health.checked_at !== null) {
        this._healthAgeNode = node.ownerDocument.createElement('span');
        this._healthAgeNode.className = 'syft-pm-health-age';
        this._healthAgeNode.textContent = this._healthAgeText();
        node.appendChild(this._healthAgeNode);
      }
    }
    if (state.metrics && up) {
      const m = state.metrics;
      this._fact(
        'cpu',
        'cpu',
        Number.isFinite(m.cpu_percent)
          ? `${m.cpu_percent.toFixed(1)}%`
          : PLACEHOLDER
      );
      this._fact('memory', 'mem', formatBytes(m.rss_bytes));
      if (state.max_memory !== null) {
        this._fact('max-memory', 'limit', formatBytes(state.max_memory));
      }
      if (m.ports && m.ports.length > 0) {
        this._fact(
          'ports',
          m.ports.length > 1 ? 'ports' : 'port',
          m.ports.join(', ')
        );
      }
    }
    facts.hidden = facts.childElementCount === 0;
  }

  /** Refresh what the clock changes (uptime, health age). */
  tick(): void {
    if (this._uptimeNode) {
      this._uptimeNode.textContent = this._uptimeText();
    }
    if (this._healthAgeNode) {
      this._healthAgeNode.textContent = this._healthAgeText();
    }
  }

  private _fact(
    key: string,
    label: string,
    value: string,
    title = ''
  ): HTMLElement {
    const doc = this.node.ownerDocument;
    const item = doc.createElement('span');
    item.className = 'syft-pm-fact';
    item.dataset.fact = key;
    const labelNode = doc.createElement('span');
    labelNode.className = 'syft-pm-fact-label';
    labelNode.textContent = label;
    const valueNode = doc.createElement('span');
    valueNode.className = 'syft-pm-fact-value';
    valueNode.textContent = value;
    if (title) {
      valueNode.title = title;
    }
    item.append(labelNode, valueNode);
    this.node.appendChild(item);
    return valueNode;
  }

  private _uptimeText(): string {
    return formatUptime(this._store.uptime(this._name, this._now()));
  }

  private _healthAgeText(): string {
    const checked = this._store.get(this._name)?.health?.checked_at;
    if (checked === null || checked === undefined) {
      return '';
    }
    const age = this._now() / 1000 - (checked + this._store.clockOffset);
    return ` \u00b7 ${formatUptime(Math.max(0, age))} ago`;
  }

  private _uptimeNode: HTMLElement | null = null;
  private _healthAgeNode: HTMLElement | null = null;
}

function healthLabel(health: IHealth): string {
  const status = health.status ?? 'unknown';
  const failures = health.consecutive_failures ?? 0;
  return failures > 1 && status !== 'healthy' && status !== 'ok'
    ? `${status} (${failures}\u00d7)`
    : status;
}

function healthClass(health: IHealth): string {
  switch (health.status) {
    case 'healthy':
    case 'ok':
    case 'passing':
      return 'syft-pm-tone-ok';
    case 'unhealthy':
    case 'failing':
    case 'failed':
      return 'syft-pm-tone-error';
    default:
      return 'syft-pm-tone-unknown';
  }
}

/** Whether a restart policy restarts the process by itself. */
function restartsOnItsOwn(policy: string | null): boolean {
  return !!policy && policy !== 'no' && policy !== 'never';
}
