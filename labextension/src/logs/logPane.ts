/**
 * The tail of one log stream of one process, rendered incrementally from a
 * `LogRing`: only lines that arrived since the last update are added, the DOM
 * is bounded like the ring, and it follows new lines only while the user's
 * last scroll left it at the bottom.
 */
import { LogLine, LogStreamName } from '../live/protocol';
import { LogRing } from '../live/logRing';

/**
 * Pixels from the bottom of a log pane that still count as "at the bottom".
 */
const BOTTOM_SLACK_PX = 8;

/**
 * One log stream's pane: renders lines incrementally from a `LogRing`.
 */
export class LogPane {
  constructor(
    doc: Document,
    readonly stream: LogStreamName
  ) {
    this.node = doc.createElement('section');
    this.node.className = 'syft-pm-log';
    this.node.dataset.stream = stream;

    const header = doc.createElement('div');
    header.className = 'syft-pm-log-header';
    const title = doc.createElement('span');
    title.className = 'syft-pm-log-title';
    title.textContent = stream;
    this._countNode = doc.createElement('span');
    this._countNode.className = 'syft-pm-log-count';
    header.append(title, this._countNode);

    this.linesNode = doc.createElement('div');
    this.linesNode.className = 'syft-pm-log-lines';
    this.linesNode.setAttribute('role', 'log');
    this.linesNode.setAttribute('aria-label', `${stream} of the process`);
    this.linesNode.tabIndex = 0;
    // Follow new lines while the user's last scroll left the pane at its
    // bottom. Layout changes (theme switch, resize) also move scrollTop; only
    // a scroll the user started (wheel, keys, touch, scrollbar) stops
    // following, and reaching the bottom again always resumes it.
    const intent = (): void => {
      this._userIntent = true;
    };
    for (const type of ['wheel', 'keydown', 'touchstart', 'pointerdown']) {
      this.linesNode.addEventListener(type, intent, { passive: true });
    }
    this.linesNode.addEventListener('scroll', () => {
      if (this._atBottom()) {
        this._follow = true;
      } else if (this._userIntent) {
        this._follow = false;
      }
      this._userIntent = false;
    });

    this.node.append(header, this.linesNode);
  }

  readonly node: HTMLElement;
  readonly linesNode: HTMLDivElement;

  /** Log lines (and skip markers) currently in the DOM. */
  get renderedRows(): number {
    return this.linesNode.childElementCount;
  }

  /**
   * Bring the DOM up to date with `ring`: rebuild on `reset`, else append
   * only what arrived since the last call.
   */
  update(ring: LogRing, reset: boolean): void {
    const follow = this._follow;
    const doc = this.linesNode.ownerDocument;
    if (reset || ring !== this._ring || ring.total < this._total) {
      // A snapshot or a re-created process replaced the ring: start over.
      this._ring = ring;
      this.linesNode.textContent = '';
      this._total = 0;
      this._skipped = 0;
      this._rewrites = ring.rewrites;
    }
    const fresh = ring.total - this._total;
    if (ring.rewrites !== this._rewrites) {
      // A continuation drew over the line that was last at the previous
      // update (a progress bar): rewrite that one row, whatever else came.
      this._rewrites = ring.rewrites;
      const received = fresh - (ring.skipped - this._skipped);
      const line = ring.lines[ring.lines.length - 1 - received];
      const row = this.linesNode.lastElementChild as HTMLElement | null;
      if (line && row && row.classList.contains('syft-pm-log-line')) {
        this._setLine(row, line);
      }
    }
    if (fresh > 0) {
      const skipped = ring.skipped - this._skipped;
      const received = fresh - skipped;
      const kept = Math.min(received, ring.lines.length);
      const rows = doc.createDocumentFragment();
      let missing = skipped + (received - kept);
      if (this._total === 0) {
        // First render: the tail simply starts where it starts.
        missing = 0;
      }
      if (missing > 0) {
        rows.appendChild(this._marker(doc, missing));
      }
      const start = ring.lines.length - kept;
      for (let i = start; i < ring.lines.length; i++) {
        rows.appendChild(this._line(doc, ring.lines[i]));
      }
      this.linesNode.appendChild(rows);
      this._total = ring.total;
      this._skipped = ring.skipped;
      // Bound the DOM like the ring.
      let excess =
        this.linesNode.childElementCount - Math.max(1, ring.capacity);
      while (excess > 0 && this.linesNode.firstChild) {
        this.linesNode.removeChild(this.linesNode.firstChild);
        excess--;
      }
    }
    this.node.hidden = this.stream === 'stderr' && ring.total === 0;
    this._countNode.textContent =
      ring.total === 0
        ? 'no output yet'
        : `${ring.total} line${ring.total === 1 ? '' : 's'}` +
          (ring.dropped > 0 ? `, last ${ring.lines.length} shown` : '');
    if (follow) {
      this.linesNode.scrollTop = this.linesNode.scrollHeight;
    }
  }

  private _atBottom(): boolean {
    const el = this.linesNode;
    return el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
  }

  private _line(doc: Document, line: LogLine): HTMLDivElement {
    const row = doc.createElement('div');
    row.className = 'syft-pm-log-line';
    this._setLine(row, line);
    return row;
  }

  /** Write a line into its row, touching only what differs. */
  private _setLine(row: HTMLElement, [t, text]: LogLine): void {
    if (row.textContent !== text) {
      row.textContent = text;
    }
    const title = t !== null ? new Date(t * 1000).toLocaleTimeString() : '';
    if (row.title !== title) {
      row.title = title;
    }
  }

  private _marker(doc: Document, count: number): HTMLDivElement {
    const row = doc.createElement('div');
    row.className = 'syft-pm-log-skipped';
    row.textContent = `\u2026 ${count} line${count === 1 ? '' : 's'} skipped`;
    return row;
  }

  private _countNode: HTMLSpanElement;
  private _ring: LogRing | null = null;
  private _follow = true;
  private _userIntent = false;
  private _total = 0;
  private _skipped = 0;
  private _rewrites = 0;
}
