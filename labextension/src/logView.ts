/**
 * A log viewer for one stream of one process: follows new lines, pages older
 * lines in on scroll, searches with highlights, shows line times, copies and
 * downloads.
 *
 * Built to take a flood: fetched lines go to a pending buffer and reach the
 * DOM once per animation frame, as one fragment; the DOM keeps at most
 * `capacity` lines while following (a ring: the oldest nodes go), and the
 * only layout read per frame is the one scroll-to-bottom after the append.
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ILogSource } from './logSource';
import { LogLine, LogStreamName } from './protocol';
import { iconButton } from './sidebarIcons';

/** Lines fetched per request while following. */
const FOLLOW_PAGE = 2000;
/** Lines per page of older lines. */
const OLDER_PAGE = 200;
/** Matches shown by a search. */
const SEARCH_LIMIT = 500;
/** Lines downloaded (the server's maximum per request). */
const DOWNLOAD_LINES = 10000;
/** Fallback poll while following, when no doorbell rang for a while. */
const POLL_MS = 2000;
/** Distance from the bottom (px) that still counts as "at the bottom". */
const BOTTOM_SLACK = 24;

// Colour and cursor escapes are noise in a plain-text view.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.indexOf('\u001b') === -1 ? text : text.replace(ANSI, '');
}

/**
 * `HH:MM:SS.mmm` in local time, or '' for a line without a time.
 */
export function formatLineTime(t: number | null): string {
  if (t === null || !Number.isFinite(t)) {
    return '';
  }
  const d = new Date(t * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * Split `text` around case-insensitive occurrences of `needle`, for
 * highlighting: [plain, match, plain, match, ..., plain].
 */
export function splitMatches(text: string, needle: string): string[] {
  if (!needle) {
    return [text];
  }
  const lower = text.toLowerCase();
  const n = needle.toLowerCase();
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    const i = lower.indexOf(n, at);
    if (i === -1) {
      parts.push(text.slice(at));
      return parts;
    }
    parts.push(text.slice(at, i), text.slice(i, i + n.length));
    at = i + n.length;
  }
}

/**
 * The text of lines as a user copies or downloads it.
 */
export function linesToText(lines: readonly LogLine[], times: boolean): string {
  return lines
    .map(([t, text]) => {
      const line = stripAnsi(text);
      return times && t !== null ? `${formatLineTime(t)}  ${line}` : line;
    })
    .join('\n');
}

type FrameFn = (cb: () => void) => number;

export class LogView extends Widget {
  constructor(options: LogView.IOptions) {
    super();
    this.addClass('syft-pm-logview');
    this.stream = options.stream;
    this.processName = options.name;
    this._source = options.source;
    this._capacity = Math.max(10, options.capacity);
    this._copy = options.copy ?? defaultCopy;
    this._frame =
      options.requestFrame ??
      (typeof requestAnimationFrame === 'function'
        ? (cb: () => void) => requestAnimationFrame(cb)
        : (cb: () => void) => setTimeout(cb, 16) as unknown as number);
    this.node.dataset.stream = options.stream;

    const doc = this.node.ownerDocument;
    const toolbar = doc.createElement('div');
    toolbar.className = 'syft-pm-lv-toolbar';

    const search = (this._searchInput = doc.createElement('input'));
    search.type = 'search';
    search.className = 'syft-pm-lv-search jp-mod-styled';
    search.placeholder = `Search ${options.stream}`;
    search.setAttribute('aria-label', `Search ${options.stream}`);
    search.addEventListener('input', this._onSearchInput);
    search.addEventListener('keydown', this._onSearchKey);

    this._followBox = checkbox(doc, 'Follow', 'syft-pm-lv-follow', true);
    this._followBox.input.addEventListener('change', () =>
      this.setFollow(this._followBox.input.checked)
    );
    this._timesBox = checkbox(
      doc,
      'Times',
      'syft-pm-lv-times',
      options.showTimes ?? true
    );
    this._timesBox.input.addEventListener('change', () => this._applyTimes());

    const copy = iconButton(doc, 'copy', 'Copy lines', 'syft-pm-lv-copy');
    copy.addEventListener('click', () => void this.copyLines());
    const download = iconButton(
      doc,
      'download',
      `Download ${options.stream}`,
      'syft-pm-lv-download'
    );
    download.addEventListener('click', () => void this.download());

    this._infoNode = doc.createElement('span');
    this._infoNode.className = 'syft-pm-lv-info';
    this._infoNode.setAttribute('aria-live', 'polite');

    toolbar.append(
      search,
      this._followBox.label,
      this._timesBox.label,
      copy,
      download,
      this._infoNode
    );

    const scroll = (this._scrollNode = doc.createElement('div'));
    scroll.className = 'syft-pm-lv-scroll';
    scroll.tabIndex = 0;
    scroll.addEventListener('scroll', this._onScroll, { passive: true });
    if (typeof ResizeObserver !== 'undefined') {
      // Following stays at the bottom when the view is resized.
      this._resize = new ResizeObserver(() => {
        if (this._follow && !this._query) {
          this._scrollToBottom();
        }
      });
      this._resize.observe(scroll);
    }

    this._olderNode = doc.createElement('div');
    this._olderNode.className = 'syft-pm-lv-older';
    this._linesNode = doc.createElement('div');
    this._linesNode.className = 'syft-pm-lv-lines';
    this._linesNode.setAttribute('role', 'log');
    this._resultsNode = doc.createElement('div');
    this._resultsNode.className = 'syft-pm-lv-results';
    this._resultsNode.hidden = true;
    scroll.append(this._olderNode, this._linesNode, this._resultsNode);

    this._jumpButton = doc.createElement('button');
    this._jumpButton.type = 'button';
    this._jumpButton.className = 'syft-pm-lv-jump jp-mod-styled';
    this._jumpButton.textContent = 'Jump to latest';
    this._jumpButton.hidden = true;
    this._jumpButton.addEventListener('click', () => this.setFollow(true));

    this.node.append(toolbar, scroll, this._jumpButton);
    this._applyTimes();

    this._source.newLines.connect(this._onNewLines, this);
  }

  readonly stream: LogStreamName;
  readonly processName: string;

  /** Whether new lines scroll into view. */
  get following(): boolean {
    return this._follow;
  }

  /** The lines in the DOM of the live view (tests, benchmarks). */
  get lineCount(): number {
    return this._domLines.length;
  }

  /** Lines loaded so far (live view), oldest first. */
  get lines(): readonly LogLine[] {
    return this._domLines;
  }

  /** The search shown, or '' in the live view. */
  get query(): string {
    return this._query;
  }

  /** How many lines the live view keeps while following. */
  get capacity(): number {
    return this._capacity;
  }

  set capacity(value: number) {
    this._capacity = Math.max(10, Math.floor(value));
    if (this._follow) {
      this._trim();
    }
  }

  /** Load the last lines and start following. */
  async start(): Promise<void> {
    if (this._started) {
      return;
    }
    this._started = true;
    this._setInfo('Loading\u2026');
    this._fetching = true;
    try {
      const page = await this._source.tail(this.stream, this._capacity);
      if (this.isDisposed) {
        return;
      }
      this._before = page.before;
      this._cursor = page.cursor;
      this._enqueue(page.lines);
      this._updateOlder();
      this._setInfo('');
    } catch (error) {
      if (!this.isDisposed) {
        this._setInfo(`Cannot read the log: ${message(error)}`, true);
      }
    } finally {
      this._fetching = false;
    }
    this._poll = setInterval(this._onPoll, POLL_MS);
    if (this._again) {
      void this._fetchNew();
    }
  }

  setFollow(follow: boolean): void {
    this._follow = follow;
    this._followBox.input.checked = follow;
    this._jumpButton.hidden = follow || this._query !== '';
    this.node.classList.toggle('syft-pm-mod-following', follow);
    if (follow) {
      this._trim();
      this._scrollToBottom();
    }
  }

  /** Show lines containing `text` (highlighted); '' returns to the live view. */
  async search(text: string): Promise<void> {
    this._query = text;
    if (this._searchInput.value !== text) {
      this._searchInput.value = text;
    }
    const token = ++this._searchToken;
    if (!text) {
      this._resultsNode.hidden = true;
      this._resultsNode.textContent = '';
      this._linesNode.hidden = false;
      this._olderNode.hidden = false;
      this.node.dataset.mode = 'live';
      this._jumpButton.hidden = this._follow;
      this._setInfo('');
      if (this._follow) {
        this._scrollToBottom();
      }
      return;
    }
    this.node.dataset.mode = 'search';
    this._setInfo('Searching\u2026');
    try {
      const found = await this._source.search(this.stream, text, SEARCH_LIMIT);
      if (token !== this._searchToken || this.isDisposed) {
        return;
      }
      this._showResults(found, text);
    } catch (error) {
      if (token === this._searchToken && !this.isDisposed) {
        this._setInfo(`Search failed: ${message(error)}`, true);
      }
    }
  }

  /** Copy the lines shown (search results or the live view). */
  async copyLines(): Promise<void> {
    const lines = this._query ? this._results : this._domLines;
    try {
      await this._copy(linesToText(lines, this._timesBox.input.checked));
      this._setInfo(
        `Copied ${lines.length} line${lines.length === 1 ? '' : 's'}`
      );
    } catch (error) {
      this._setInfo(`Copy failed: ${message(error)}`, true);
    }
  }

  /** Download the stream (up to the last 10,000 lines) as a text file. */
  async download(): Promise<void> {
    let lines: readonly LogLine[];
    try {
      lines = this._source.canPage
        ? (await this._source.tail(this.stream, DOWNLOAD_LINES)).lines
        : this._domLines;
    } catch (error) {
      this._setInfo(`Download failed: ${message(error)}`, true);
      return;
    }
    const text = linesToText(lines, this._timesBox.input.checked) + '\n';
    const doc = this.node.ownerDocument;
    const blob = new Blob([text], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = doc.createElement('a');
    a.href = url;
    a.download = `${this.processName}.${this.stream}.log`;
    a.style.display = 'none';
    doc.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this._setInfo(`Downloaded ${lines.length} lines`);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._follow && !this._query) {
      this._scrollToBottom();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
    if (this._searchTimer !== null) {
      clearTimeout(this._searchTimer);
      this._searchTimer = null;
    }
    this._resize?.disconnect();
    this._resize = null;
    this._source.newLines.disconnect(this._onNewLines, this);
    super.dispose();
  }

  // -- new lines ---------------------------------------------------------------

  private _onNewLines(_: ILogSource, stream: LogStreamName): void {
    if (stream === this.stream) {
      this._lastRing = Date.now();
      void this._fetchNew();
    }
  }

  private _onPoll = (): void => {
    // Only when the source cannot ring (its websocket is down, say).
    if (this._source.live) {
      return;
    }
    if (Date.now() - this._lastRing >= POLL_MS && this.isVisible) {
      void this._fetchNew();
    }
  };

  /** Fetch lines after the cursor; one request at a time, none lost. */
  private async _fetchNew(): Promise<void> {
    if (this._fetching || !this._started) {
      this._again = true;
      return;
    }
    if (this._cursor === null) {
      return;
    }
    this._fetching = true;
    this._again = false;
    try {
      const r = await this._source.since(
        this.stream,
        this._cursor,
        FOLLOW_PAGE
      );
      if (this.isDisposed) {
        return;
      }
      this._cursor = r.cursor ?? this._cursor;
      if (r.skipped > 0) {
        this._enqueueGap(r.skipped);
      }
      this._enqueue(r.lines);
      if (r.skipped > 0 || r.lines.length >= FOLLOW_PAGE) {
        this._again = true;
      }
    } catch {
      // The next ring or poll tries again.
    } finally {
      this._fetching = false;
    }
    if (this._again && !this.isDisposed) {
      void this._fetchNew();
    }
  }

  private _enqueue(lines: readonly LogLine[]): void {
    if (lines.length === 0) {
      return;
    }
    for (const line of lines) {
      this._pending.push(line);
    }
    // More waiting than the view keeps: everything shown and the oldest
    // waiting lines would be trimmed right after the append; drop them now.
    // (Not following, the view keeps more, but a hidden page, with no
    // frames, must not pile up.)
    const keep = this._follow ? this._capacity : this._capacity * 4;
    const excess = this._pending.length - keep;
    if (excess > 0) {
      // As if added and trimmed: older lines are paged back in on scroll.
      this._pending.splice(0, excess);
      this._pendingGap = 0;
      this._linesNode.textContent = '';
      this._domLines = [];
      this._trimmed = true;
    }
    this._scheduleFlush();
  }

  private _enqueueGap(skipped: number): void {
    this._pendingGap += skipped;
    this._scheduleFlush();
  }

  private _scheduleFlush(): void {
    if (!this._flushScheduled) {
      this._flushScheduled = true;
      this._frame(this._flush);
    }
  }

  /** Once per frame: one fragment in, excess out, one scroll. */
  private _flush = (): void => {
    this._flushScheduled = false;
    if (this.isDisposed) {
      return;
    }
    const doc = this.node.ownerDocument;
    const fragment = doc.createDocumentFragment();
    if (this._pendingGap > 0) {
      fragment.appendChild(this._gapNode(doc, this._pendingGap));
      this._domLines.push([null, `\u2026 ${this._pendingGap} lines skipped`]);
      this._pendingGap = 0;
    }
    for (const line of this._pending) {
      fragment.appendChild(this._lineNode(doc, line, ''));
      this._domLines.push(line);
    }
    this._pending = [];
    this._linesNode.appendChild(fragment);
    if (this._follow) {
      this._trim();
      if (!this._query) {
        this._scrollToBottom();
      }
    } else if (this._domLines.length > this._capacity * 4) {
      this._trim(this._capacity * 2);
    }
    this._updateOlder();
    this._updateCount();
  };

  /** Keep at most `limit` lines in the DOM (the oldest go). */
  private _trim(limit: number = this._capacity): void {
    const excess = this._domLines.length - limit;
    if (excess <= 0) {
      return;
    }
    const nodes = this._linesNode;
    if (excess >= nodes.childNodes.length) {
      nodes.textContent = '';
    } else {
      const range = nodes.ownerDocument.createRange();
      range.setStartBefore(nodes.firstChild!);
      range.setEndAfter(nodes.childNodes[excess - 1]);
      range.deleteContents();
    }
    this._domLines.splice(0, excess);
    this._trimmed = true;
    this._updateOlder();
  }

  private _lineNode(
    doc: Document,
    line: LogLine,
    needle: string
  ): HTMLDivElement {
    const node = doc.createElement('div');
    node.className = 'syft-pm-lv-line';
    const time = doc.createElement('span');
    time.className = 'syft-pm-lv-time';
    time.textContent = formatLineTime(line[0]);
    const text = doc.createElement('span');
    text.className = 'syft-pm-lv-text';
    const body = stripAnsi(line[1]);
    if (needle) {
      const parts = splitMatches(body, needle);
      for (let i = 0; i < parts.length; i++) {
        if (i % 2 === 1) {
          const mark = doc.createElement('mark');
          mark.className = 'syft-pm-lv-match';
          mark.textContent = parts[i];
          text.appendChild(mark);
        } else if (parts[i]) {
          text.appendChild(doc.createTextNode(parts[i]));
        }
      }
    } else {
      text.textContent = body;
    }
    node.append(time, text);
    return node;
  }

  private _gapNode(doc: Document, skipped: number): HTMLDivElement {
    const node = doc.createElement('div');
    node.className = 'syft-pm-lv-line syft-pm-lv-gap';
    node.textContent = `\u2026 ${skipped.toLocaleString()} line${skipped === 1 ? '' : 's'} skipped (too many to show live; download the log for all of them)`;
    return node;
  }

  // -- older lines ---------------------------------------------------------------

  private _onScroll = (): void => {
    const el = this._scrollNode;
    if (this._autoTop !== null && Math.abs(el.scrollTop - this._autoTop) < 2) {
      // Our own scroll to the bottom: a layout change since (the details
      // above growing) must not read as the user scrolling away.
      return;
    }
    this._autoTop = null;
    const atBottom =
      el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (!this._query) {
      if (atBottom !== this._follow) {
        this.setFollow(atBottom);
      }
      if (el.scrollTop < 40) {
        void this.loadOlder();
      }
    }
  };

  /** Page older lines in above the first one shown. */
  async loadOlder(): Promise<void> {
    if (this._loadingOlder || !this._source.canPage) {
      return;
    }
    if (this._trimmed) {
      return this._reanchor();
    }
    if (this._before === null) {
      return;
    }
    this._loadingOlder = true;
    this._olderNode.textContent = 'Loading older lines\u2026';
    try {
      const page = await this._source.older(
        this.stream,
        this._before,
        OLDER_PAGE
      );
      if (this.isDisposed) {
        return;
      }
      this._before = page.before;
      if (page.lines.length) {
        const el = this._scrollNode;
        const doc = this.node.ownerDocument;
        const fragment = doc.createDocumentFragment();
        for (const line of page.lines) {
          fragment.appendChild(this._lineNode(doc, line, ''));
        }
        const height = el.scrollHeight;
        this._linesNode.insertBefore(fragment, this._linesNode.firstChild);
        this._domLines.unshift(...page.lines);
        // Keep the lines the user was reading where they were.
        el.scrollTop += el.scrollHeight - height;
      }
    } catch (error) {
      this._setInfo(`Cannot load older lines: ${message(error)}`, true);
    } finally {
      this._loadingOlder = false;
      this._updateOlder();
      this._updateCount();
    }
  }

  /**
   * The oldest lines shown were trimmed, so no cursor points before them:
   * read the tail again, long enough to hold what is shown plus a page, and
   * show it in place (one replacement, on a user's scroll to the top).
   */
  private async _reanchor(): Promise<void> {
    if (this._fetching) {
      return;
    }
    this._loadingOlder = true;
    this._fetching = true;
    this._olderNode.textContent = 'Loading older lines\u2026';
    const shown = this._domLines.length;
    try {
      const page = await this._source.tail(this.stream, shown + OLDER_PAGE);
      if (this.isDisposed) {
        return;
      }
      const doc = this.node.ownerDocument;
      const fragment = doc.createDocumentFragment();
      for (const line of page.lines) {
        fragment.appendChild(this._lineNode(doc, line, ''));
      }
      // Pending lines are older than the new cursor: the tail holds them.
      this._pending = [];
      this._pendingGap = 0;
      this._linesNode.textContent = '';
      this._linesNode.appendChild(fragment);
      this._domLines = page.lines.slice();
      this._before = page.before;
      this._cursor = page.cursor ?? this._cursor;
      this._trimmed = false;
      const first = page.lines.length - shown;
      const anchor = this._linesNode.children[Math.max(0, first)] as
        HTMLElement | undefined;
      if (anchor) {
        this._scrollNode.scrollTop = anchor.offsetTop;
      }
    } catch (error) {
      this._setInfo(`Cannot load older lines: ${message(error)}`, true);
    } finally {
      this._fetching = false;
      this._loadingOlder = false;
      this._updateOlder();
      this._updateCount();
    }
    if (this._again) {
      void this._fetchNew();
    }
  }

  private _updateOlder(): void {
    let text: string;
    if (!this._source.canPage) {
      text = 'Lines the kernel sent since this view opened';
    } else if (this._trimmed || this._before !== null) {
      text = 'Scroll up for older lines';
    } else {
      text = this._cursor === null ? '' : 'Beginning of the log';
    }
    if (this._olderNode.textContent !== text) {
      this._olderNode.textContent = text;
    }
  }

  // -- search --------------------------------------------------------------------

  private _onSearchInput = (): void => {
    if (this._searchTimer !== null) {
      clearTimeout(this._searchTimer);
    }
    this._searchTimer = setTimeout(() => {
      this._searchTimer = null;
      void this.search(this._searchInput.value.trim());
    }, 250);
  };

  private _onSearchKey = (event: KeyboardEvent): void => {
    if (event.key === 'Enter') {
      if (this._searchTimer !== null) {
        clearTimeout(this._searchTimer);
        this._searchTimer = null;
      }
      void this.search(this._searchInput.value.trim());
    } else if (event.key === 'Escape') {
      void this.search('');
    }
  };

  private _showResults(found: LogLine[], needle: string): void {
    this._results = found;
    const doc = this.node.ownerDocument;
    const fragment = doc.createDocumentFragment();
    for (const line of found) {
      fragment.appendChild(this._lineNode(doc, line, needle));
    }
    const node = this._resultsNode;
    node.textContent = '';
    if (found.length === 0) {
      const empty = doc.createElement('div');
      empty.className = 'syft-pm-lv-empty';
      empty.textContent = `No line of ${this.stream} contains \u201c${needle}\u201d.`;
      node.appendChild(empty);
    }
    node.appendChild(fragment);
    node.hidden = false;
    this._linesNode.hidden = true;
    this._olderNode.hidden = true;
    this._jumpButton.hidden = true;
    const more =
      found.length >= SEARCH_LIMIT ? ` (the newest ${SEARCH_LIMIT})` : '';
    this._setInfo(
      `${found.length} match${found.length === 1 ? '' : 'es'}${more}`
    );
    this._scrollNode.scrollTop = this._scrollNode.scrollHeight;
  }

  // -- helpers -------------------------------------------------------------------

  private _applyTimes(): void {
    this.node.classList.toggle(
      'syft-pm-mod-no-times',
      !this._timesBox.input.checked
    );
  }

  private _scrollToBottom(): void {
    const el = this._scrollNode;
    el.scrollTop = el.scrollHeight;
    this._autoTop = el.scrollTop;
  }

  private _updateCount(): void {
    this.node.dataset.lines = String(this._domLines.length);
  }

  private _setInfo(text: string, error = false): void {
    this._infoNode.textContent = text;
    this._infoNode.classList.toggle('syft-pm-mod-error', error);
  }

  private _source: ILogSource;
  private _capacity: number;
  private _copy: (text: string) => Promise<void> | void;
  private _frame: FrameFn;
  private _started = false;
  private _follow = true;
  private _fetching = false;
  private _again = false;
  private _cursor: string | null = null;
  private _before: string | null = null;
  private _trimmed = false;
  private _loadingOlder = false;
  private _pending: LogLine[] = [];
  private _pendingGap = 0;
  private _flushScheduled = false;
  private _domLines: LogLine[] = [];
  private _results: LogLine[] = [];
  private _query = '';
  private _searchToken = 0;
  private _searchTimer: ReturnType<typeof setTimeout> | null = null;
  private _poll: ReturnType<typeof setInterval> | null = null;
  private _lastRing = 0;
  private _autoTop: number | null = null;
  private _resize: ResizeObserver | null = null;
  private _searchInput: HTMLInputElement;
  private _followBox: { label: HTMLLabelElement; input: HTMLInputElement };
  private _timesBox: { label: HTMLLabelElement; input: HTMLInputElement };
  private _infoNode: HTMLSpanElement;
  private _scrollNode: HTMLDivElement;
  private _olderNode: HTMLDivElement;
  private _linesNode: HTMLDivElement;
  private _resultsNode: HTMLDivElement;
  private _jumpButton: HTMLButtonElement;
}

function checkbox(
  doc: Document,
  text: string,
  className: string,
  checked: boolean
): { label: HTMLLabelElement; input: HTMLInputElement } {
  const label = doc.createElement('label');
  label.className = `syft-pm-lv-toggle ${className}`;
  const input = doc.createElement('input');
  input.type = 'checkbox';
  input.checked = checked;
  label.append(input, doc.createTextNode(text));
  return { label, input };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function defaultCopy(text: string): Promise<void> {
  await navigator.clipboard.writeText(text);
}

export namespace LogView {
  export interface IOptions {
    name: string;
    stream: LogStreamName;
    source: ILogSource;
    /** Lines kept in the DOM while following (the `logLines` setting). */
    capacity: number;
    showTimes?: boolean;
    /** Put text on the clipboard (the app passes JupyterLab's Clipboard). */
    copy?: (text: string) => Promise<void> | void;
    /** Schedule a DOM flush (tests pass a synchronous one). */
    requestFrame?: FrameFn;
  }
}
