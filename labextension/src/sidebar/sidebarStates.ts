/**
 * What the sidebar shows instead of rows: loading, offline (the server
 * extension cannot be reached), empty (with a snippet to start a first
 * process) and "no match" (with a button that clears the filters).
 */
import { iconButton } from '../ui/icons';

/**
 * The snippet the empty state offers.
 */
export const START_SNIPPET = `import syft_pm
syft_pm.run("web", ["python", "-m", "http.server", "8000"])`;

/**
 * What the content area shows (`data-state` of the sidebar).
 */
export type ContentState = 'list' | 'nomatch' | 'empty' | 'offline' | 'loading';

/**
 * The state of the content area, from the number of rows (all, and shown
 * after filtering) and where the data comes from.
 */
export function contentState(
  total: number,
  shown: number,
  live: boolean,
  failed: boolean
): ContentState {
  if (total > 0 && shown === 0) {
    return 'nomatch';
  } else if (total > 0) {
    return 'list';
  } else if (live) {
    return 'empty';
  } else if (failed) {
    return 'offline';
  }
  return 'loading';
}

/**
 * The node that shows a state other than the list.
 */
export class SidebarStates {
  constructor(doc: Document, options: SidebarStates.IOptions) {
    this._options = options;
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-state';
  }

  readonly node: HTMLDivElement;

  /** The state shown ('' before the first one). */
  get shown(): ContentState | '' {
    return this._shown;
  }

  show(state: ContentState): void {
    if (this._shown === state) {
      return;
    }
    this._shown = state;
    const doc = this.node.ownerDocument;
    const node = this.node;
    node.textContent = '';
    node.className = `syft-pm-state syft-pm-state-${state}`;
    node.hidden = state === 'list';
    switch (state) {
      case 'nomatch': {
        const p = doc.createElement('p');
        p.textContent = 'No process matches the search and filters.';
        const clear = doc.createElement('button');
        clear.type = 'button';
        clear.className = 'jp-mod-styled syft-pm-clear-filters';
        clear.textContent = 'Clear filters';
        clear.addEventListener('click', () => this._options.clearFilters());
        node.append(p, clear);
        break;
      }
      case 'empty': {
        node.classList.add('syft-pm-empty');
        const title = doc.createElement('p');
        title.className = 'syft-pm-empty-title';
        title.textContent = 'No processes yet';
        const p = doc.createElement('p');
        p.textContent =
          'Start a long-running process from a notebook cell; it keeps running when the kernel restarts and shows up here, with its logs.';
        const pre = doc.createElement('pre');
        pre.className = 'syft-pm-snippet';
        const code = doc.createElement('code');
        code.textContent = START_SNIPPET;
        pre.appendChild(code);
        const copy = iconButton(
          doc,
          'copy',
          'Copy the snippet',
          'syft-pm-copy-snippet'
        );
        copy.addEventListener('click', () =>
          this._options.copySnippet(START_SNIPPET)
        );
        const wrap = doc.createElement('div');
        wrap.className = 'syft-pm-snippet-wrap';
        wrap.append(pre, copy);
        const cli = doc.createElement('p');
        cli.className = 'syft-pm-empty-cli';
        cli.append('From a terminal: ');
        const c = doc.createElement('code');
        c.textContent = 'syft-pm run web -- python -m http.server 8000';
        cli.appendChild(c);
        node.append(title, p, wrap, cli);
        break;
      }
      case 'offline': {
        const p = doc.createElement('p');
        p.textContent =
          'No process list yet: the server extension cannot be reached (see above). It is retried automatically.';
        node.appendChild(p);
        break;
      }
      case 'loading': {
        const p = doc.createElement('p');
        p.textContent = 'Loading processes\u2026';
        node.appendChild(p);
        break;
      }
    }
  }

  private _options: SidebarStates.IOptions;
  private _shown: ContentState | '' = '';
}

export namespace SidebarStates {
  export interface IOptions {
    /** The "Clear filters" button of the no-match state. */
    clearFilters: () => void;
    /** The copy button of the empty state's snippet. */
    copySnippet: (text: string) => void;
  }
}
