/**
 * The fixed lines around the sidebar's list: the header (title and a summary
 * of the fleet), the flash message line (what an action or a copy did), and
 * the footer (server version, "live", the active notebook's kernel).
 */
import { IActiveNotebook } from './processFleet';
import { ExtensionConnection } from './extensionConnection';
import {
  IOriginContext,
  IProcessRow,
  isFromActiveNotebook,
  summarize
} from './model';

/**
 * The header: title and "n/m active · k problems".
 */
export class SidebarHeader {
  constructor(doc: Document) {
    this.node = doc.createElement('header');
    this.node.className = 'syft-pm-sidebar-header';
    const heading = doc.createElement('h2');
    heading.className = 'syft-pm-sidebar-title';
    heading.textContent = 'Processes';
    this._summaryNode = doc.createElement('span');
    this._summaryNode.className = 'syft-pm-summary';
    this.node.append(heading, this._summaryNode);
  }

  readonly node: HTMLElement;

  renderSummary(rows: Iterable<IProcessRow>): void {
    const sum = summarize(rows);
    this._summaryNode.textContent = sum.total
      ? `${sum.active}/${sum.total} active${sum.problems ? ` \u00b7 ${sum.problems} problem${sum.problems === 1 ? '' : 's'}` : ''}`
      : '';
    this._summaryNode.title = `${sum.total} processes: ${sum.active} active, ${sum.problems} failed or unhealthy`;
    this._summaryNode.classList.toggle(
      'syft-pm-mod-problems',
      sum.problems > 0
    );
  }

  private _summaryNode: HTMLSpanElement;
}

/**
 * A message shown for a while (3 s, errors 10 s).
 */
export class FlashMessage {
  constructor(doc: Document) {
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-sidebar-message';
    this.node.setAttribute('role', 'status');
    this.node.hidden = true;
  }

  readonly node: HTMLDivElement;

  show(text: string, error = false): void {
    const node = this.node;
    node.textContent = text;
    node.hidden = false;
    node.classList.toggle('syft-pm-mod-error', error);
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._timer = setTimeout(
      () => {
        this._timer = null;
        node.hidden = true;
        node.textContent = '';
      },
      error ? 10_000 : 3000
    );
  }

  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/**
 * The footer: the server extension's version (or "Connecting"), whether
 * updates arrive live, and what the active notebook's kernel reports.
 */
export class SidebarFooter {
  constructor(doc: Document) {
    this.node = doc.createElement('footer');
    this.node.className = 'syft-pm-sidebar-footer';
    this._versionNode = doc.createElement('span');
    this._versionNode.className = 'syft-pm-server-version';
    this._liveNode = doc.createElement('span');
    this._liveNode.className = 'syft-pm-sidebar-live';
    this._kernelNode = doc.createElement('span');
    this._kernelNode.className = 'syft-pm-kernel-status';
    this.node.append(this._versionNode, this._liveNode, this._kernelNode);
  }

  readonly node: HTMLElement;

  renderServer(
    state: ExtensionConnection.State,
    serverVersion: string | null,
    live: boolean
  ): void {
    const version = this._versionNode;
    if (serverVersion !== null && state !== 'failed') {
      version.hidden = false;
      version.textContent = `syft_pm server ${serverVersion}`;
    } else if (state === 'connecting' || state === 'idle') {
      version.hidden = false;
      version.textContent = 'Connecting to the syft_pm server\u2026';
    } else {
      version.hidden = true;
      version.textContent = '';
    }
    this._liveNode.textContent = live ? 'live' : '';
    this._liveNode.title = live
      ? 'Updates arrive as they happen'
      : 'Not receiving updates';
  }

  renderKernel(
    nb: IActiveNotebook | null,
    kernelLive: boolean,
    rows: Iterable<IProcessRow>,
    originCtx: IOriginContext
  ): void {
    let text = '';
    let title = '';
    if (nb && kernelLive) {
      let only = 0;
      let mine = 0;
      for (const row of rows) {
        if (row.source === 'kernel') {
          only += 1;
        }
        if (isFromActiveNotebook(row, originCtx)) {
          mine += 1;
        }
      }
      const name = nb.path.split('/').pop();
      text = `${name}: ${mine} here${only ? `, ${only} only in its kernel` : ''}`;
      title = `The kernel of ${nb.path} reports its processes too${only ? `; ${only} of them use a registry the server does not see` : ''}.`;
    } else if (nb) {
      const name = nb.path.split('/').pop();
      text = `${name}`;
      title = `${nb.path}: its kernel has not imported syft_pm (or has no kernel).`;
    }
    if (this._kernelNode.textContent !== text) {
      this._kernelNode.textContent = text;
      this._kernelNode.title = title;
    }
  }

  private _versionNode: HTMLSpanElement;
  private _liveNode: HTMLSpanElement;
  private _kernelNode: HTMLSpanElement;
}
