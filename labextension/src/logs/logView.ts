/**
 * A log viewer for one stream of one process: follows new lines, pages older
 * lines in on scroll, searches with highlights, shows line times, copies and
 * downloads.
 *
 * Built to take a flood: fetched lines go to a pending buffer and reach the
 * DOM once per animation frame, as one fragment; the DOM keeps at most
 * `capacity` lines while following (a ring: the oldest nodes are rewritten
 * as the newest, so a flood makes no garbage nodes), and the only layout
 * read per frame is the one scroll-to-bottom after the append.
 *
 * This module is the widget: layout, following and scrolling, search
 * results, copy and download. Its parts: the lines in the DOM
 * (`renderedLines.ts`), reading the source (`logFeed.ts`), the toolbar
 * (`logToolbar.ts`) and one line as text and DOM (`logText.ts`).
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { LogFeed } from './logFeed';
import { ILogSource } from './logSource';
import { RenderedLines } from './renderedLines';
import { lineNode, linesToText } from './logText';
import { LogToolbar } from './logToolbar';
import { LogLine, LogStreamName } from '../live/protocol';

export {
  formatLineTime,
  linesToText,
  splitMatches,
  stripAnsi
} from './logText';

/** Matches shown by a search. */
const SEARCH_LIMIT = 500;
/** Lines downloaded (the server's maximum per request). */
const DOWNLOAD_LINES = 10000;
/** Distance from the bottom (px) that still counts as "at the bottom". */
const BOTTOM_SLACK = 24;

type FrameFn = (cb: () => void) => number;

export class LogView extends Widget {
  constructor(options: LogView.IOptions) {
    super();
    this.addClass('syft-pm-logview');
    this.stream = options.stream;
    this.processName = options.name;
    this._source = options.source;
    this._copy = options.copy ?? defaultCopy;
    this.node.dataset.stream = options.stream;

    const doc = this.node.ownerDocument;
    this._toolbar = new LogToolbar(doc, {
      stream: options.stream,
      showTimes: options.showTimes ?? true,
      onSearch: text => void this.search(text),
      onFollow: on => this.setFollow(on),
      onTimes: () => this._applyTimes(),
      onCopy: () => void this.copyLines(),
      onDownload: () => void this.download()
    });

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

    this._rendered = new RenderedLines(doc, {
      capacity: Math.max(10, options.capacity),
      following: () => this._follow,
      trimmed: () => this._feed.updateOlder(),
      flushed: this._onFlushed,
      requestFrame: options.requestFrame
    });
    this._feed = new LogFeed({
      source: options.source,
      stream: options.stream,
      rendered: this._rendered,
      scrollNode: scroll,
      isVisible: () => this.isVisible,
      setInfo: (text, error) => this._toolbar.setInfo(text, error),
      loaded: () => this._updateCount()
    });
    this._resultsNode = doc.createElement('div');
    this._resultsNode.className = 'syft-pm-lv-results';
    this._resultsNode.hidden = true;
    scroll.append(this._feed.olderNode, this._rendered.node, this._resultsNode);

    this._jumpButton = doc.createElement('button');
    this._jumpButton.type = 'button';
    this._jumpButton.className = 'syft-pm-lv-jump jp-mod-styled';
    this._jumpButton.textContent = 'Jump to latest';
    this._jumpButton.hidden = true;
    this._jumpButton.addEventListener('click', () => this.setFollow(true));

    this.node.append(this._toolbar.node, scroll, this._jumpButton);
    this._applyTimes();
  }

  readonly stream: LogStreamName;
  readonly processName: string;

  /** Whether new lines scroll into view. */
  get following(): boolean {
    return this._follow;
  }

  /** The lines in the DOM of the live view (tests, benchmarks). */
  get lineCount(): number {
    return this._rendered.lines.length;
  }

  /** Lines loaded so far (live view), oldest first. */
  get lines(): readonly LogLine[] {
    return this._rendered.lines;
  }

  /** The search shown, or '' in the live view. */
  get query(): string {
    return this._query;
  }

  /** How many lines the live view keeps while following. */
  get capacity(): number {
    return this._rendered.capacity;
  }

  set capacity(value: number) {
    this._rendered.capacity = Math.max(10, Math.floor(value));
    if (this._follow) {
      this._rendered.trim();
    }
  }

  /** Load the last lines and start following. */
  start(): Promise<void> {
    return this._feed.start();
  }

  setFollow(follow: boolean): void {
    this._follow = follow;
    this._toolbar.following = follow;
    this._jumpButton.hidden = follow || this._query !== '';
    this.node.classList.toggle('syft-pm-mod-following', follow);
    if (follow) {
      this._rendered.trim();
      this._scrollToBottom();
    }
  }

  /** Show lines containing `text` (highlighted); '' returns to the live view. */
  async search(text: string): Promise<void> {
    this._query = text;
    this._toolbar.showSearch(text);
    const token = ++this._searchToken;
    if (!text) {
      this._resultsNode.hidden = true;
      this._resultsNode.textContent = '';
      this._rendered.node.hidden = false;
      this._feed.olderNode.hidden = false;
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
    const lines = this._query ? this._results : this._rendered.lines;
    try {
      await this._copy(linesToText(lines, this._toolbar.showTimes));
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
        : this._rendered.lines;
    } catch (error) {
      this._setInfo(`Download failed: ${message(error)}`, true);
      return;
    }
    const text = linesToText(lines, this._toolbar.showTimes) + '\n';
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

  /** Page older lines in above the first one shown. */
  loadOlder(): Promise<void> {
    return this._feed.loadOlder();
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
    this._feed.dispose();
    this._toolbar.dispose();
    this._resize?.disconnect();
    this._resize = null;
    this._rendered.dispose();
    super.dispose();
  }

  /** After each flush of new lines: scroll, status, count. */
  private _onFlushed = (): void => {
    if (this._follow && !this._query) {
      this._scrollToBottom();
    }
    this._feed.updateOlder();
    this._updateCount();
  };

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

  private _showResults(found: LogLine[], needle: string): void {
    this._results = found;
    const doc = this.node.ownerDocument;
    const fragment = doc.createDocumentFragment();
    for (const line of found) {
      fragment.appendChild(lineNode(doc, line, needle));
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
    this._rendered.node.hidden = true;
    this._feed.olderNode.hidden = true;
    this._jumpButton.hidden = true;
    const more =
      found.length >= SEARCH_LIMIT ? ` (the newest ${SEARCH_LIMIT})` : '';
    this._setInfo(
      `${found.length} match${found.length === 1 ? '' : 'es'}${more}`
    );
    this._scrollNode.scrollTop = this._scrollNode.scrollHeight;
  }

  private _applyTimes(): void {
    this.node.classList.toggle(
      'syft-pm-mod-no-times',
      !this._toolbar.showTimes
    );
  }

  private _scrollToBottom(): void {
    const el = this._scrollNode;
    el.scrollTop = el.scrollHeight;
    this._autoTop = el.scrollTop;
  }

  private _updateCount(): void {
    this.node.dataset.lines = String(this._rendered.lines.length);
  }

  private _setInfo(text: string, error = false): void {
    this._toolbar.setInfo(text, error);
  }

  private _source: ILogSource;
  private _copy: (text: string) => Promise<void> | void;
  private _toolbar: LogToolbar;
  private _rendered: RenderedLines;
  private _feed: LogFeed;
  private _follow = true;
  private _results: LogLine[] = [];
  private _query = '';
  private _searchToken = 0;
  private _autoTop: number | null = null;
  private _resize: ResizeObserver | null = null;
  private _scrollNode: HTMLDivElement;
  private _resultsNode: HTMLDivElement;
  private _jumpButton: HTMLButtonElement;
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
