/**
 * What a log view reads from its source, and when: the tail to start with,
 * then the lines after a cursor whenever the source rings (new lines), with
 * a slow poll while it cannot ring; one request at a time and none lost.
 * Scrolling up pages older lines in before the first one, or, once the top
 * was trimmed, reads the tail again, long enough to hold what is shown.
 *
 * The lines go to a `RenderedLines`; the line above them (`olderNode`) says
 * whether there are older lines, or that this is the beginning.
 */
import { ILogSource } from './logSource';
import { RenderedLines } from './renderedLines';
import { LogStreamName } from '../live/protocol';

/** Lines fetched per request while following. */
const FOLLOW_PAGE = 2000;
/** Lines per page of older lines. */
const OLDER_PAGE = 200;
/** Fallback poll while following, when no doorbell rang for a while. */
const POLL_MS = 2000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class LogFeed {
  constructor(options: LogFeed.IOptions) {
    this._options = options;
    this._source = options.source;
    this._stream = options.stream;
    this._rendered = options.rendered;
    this.olderNode = options.rendered.node.ownerDocument.createElement('div');
    this.olderNode.className = 'syft-pm-lv-older';
    this._source.newLines.connect(this._onNewLines, this);
  }

  /** The line above the lines: older lines, loading, or the beginning. */
  readonly olderNode: HTMLDivElement;

  /** Load the last lines and start following. */
  async start(): Promise<void> {
    if (this._started) {
      return;
    }
    this._started = true;
    this._options.setInfo('Loading\u2026');
    this._fetching = true;
    try {
      const page = await this._source.tail(
        this._stream,
        this._rendered.capacity
      );
      if (this._disposed) {
        return;
      }
      this._before = page.before;
      this._cursor = page.cursor;
      this._rendered.enqueue(page.lines);
      this.updateOlder();
      this._options.setInfo('');
    } catch (error) {
      if (!this._disposed) {
        this._options.setInfo(`Cannot read the log: ${message(error)}`, true);
      }
    } finally {
      this._fetching = false;
    }
    if (this._disposed) {
      return; // closed while the first read was in flight: nothing to follow
    }
    this._poll = setInterval(this._onPoll, POLL_MS);
    if (this._again) {
      void this._fetchNew();
    }
  }

  /** Page older lines in above the first one shown. */
  async loadOlder(): Promise<void> {
    if (this._loadingOlder || !this._source.canPage) {
      return;
    }
    if (this._rendered.trimmed) {
      return this._reanchor();
    }
    if (this._before === null) {
      return;
    }
    this._loadingOlder = true;
    this.olderNode.textContent = 'Loading older lines\u2026';
    try {
      const page = await this._source.older(
        this._stream,
        this._before,
        OLDER_PAGE
      );
      if (this._disposed) {
        return;
      }
      this._before = page.before;
      if (page.lines.length) {
        const el = this._options.scrollNode;
        const height = el.scrollHeight;
        this._rendered.prepend(page.lines);
        // Keep the lines the user was reading where they were.
        el.scrollTop += el.scrollHeight - height;
      }
    } catch (error) {
      this._options.setInfo(`Cannot load older lines: ${message(error)}`, true);
    } finally {
      this._loadingOlder = false;
      this.updateOlder();
      this._options.loaded();
    }
  }

  /** Say what is above the first line. */
  updateOlder(): void {
    let text: string;
    if (!this._source.canPage) {
      text = 'Lines the kernel sent since this view opened';
    } else if (this._rendered.trimmed || this._before !== null) {
      text = 'Scroll up for older lines';
    } else {
      text = this._cursor === null ? '' : 'Beginning of the log';
    }
    if (this.olderNode.textContent !== text) {
      this.olderNode.textContent = text;
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
    this._source.newLines.disconnect(this._onNewLines, this);
  }

  private _onNewLines(_: ILogSource, stream: LogStreamName): void {
    if (stream === this._stream) {
      this._lastRing = Date.now();
      void this._fetchNew();
    }
  }

  private _onPoll = (): void => {
    // Only when the source cannot ring (its websocket is down, say).
    if (this._source.live) {
      return;
    }
    if (Date.now() - this._lastRing >= POLL_MS && this._options.isVisible()) {
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
        this._stream,
        this._cursor,
        FOLLOW_PAGE
      );
      if (this._disposed) {
        return;
      }
      this._cursor = r.cursor ?? this._cursor;
      if (r.skipped > 0) {
        this._rendered.enqueueGap(r.skipped);
      }
      this._rendered.enqueue(r.lines);
      if (r.skipped > 0 || r.lines.length >= FOLLOW_PAGE) {
        this._again = true;
      }
    } catch {
      // The next ring or poll tries again.
    } finally {
      this._fetching = false;
    }
    if (this._again && !this._disposed) {
      void this._fetchNew();
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
    this.olderNode.textContent = 'Loading older lines\u2026';
    const shown = this._rendered.lines.length;
    try {
      const page = await this._source.tail(this._stream, shown + OLDER_PAGE);
      if (this._disposed) {
        return;
      }
      // Pending lines are older than the new cursor: the tail holds them.
      this._rendered.replace(page.lines);
      this._before = page.before;
      this._cursor = page.cursor ?? this._cursor;
      const first = page.lines.length - shown;
      const anchor = this._rendered.node.children[Math.max(0, first)] as
        HTMLElement | undefined;
      if (anchor) {
        this._options.scrollNode.scrollTop = anchor.offsetTop;
      }
    } catch (error) {
      this._options.setInfo(`Cannot load older lines: ${message(error)}`, true);
    } finally {
      this._fetching = false;
      this._loadingOlder = false;
      this.updateOlder();
      this._options.loaded();
    }
    if (this._again) {
      void this._fetchNew();
    }
  }

  private _options: LogFeed.IOptions;
  private _source: ILogSource;
  private _stream: LogStreamName;
  private _rendered: RenderedLines;
  private _disposed = false;
  private _started = false;
  private _fetching = false;
  private _again = false;
  private _cursor: string | null = null;
  private _before: string | null = null;
  private _loadingOlder = false;
  private _poll: ReturnType<typeof setInterval> | null = null;
  private _lastRing = 0;
}

export namespace LogFeed {
  export interface IOptions {
    source: ILogSource;
    stream: LogStreamName;
    /** Where the lines go. */
    rendered: RenderedLines;
    /** The scrolling element (keeps the lines read in place). */
    scrollNode: HTMLElement;
    /** Whether the view is visible (no poll otherwise). */
    isVisible: () => boolean;
    /** Show a status or an error in the view's toolbar. */
    setInfo: (text: string, error?: boolean) => void;
    /** Called after older lines were loaded (or failed to). */
    loaded: () => void;
  }
}
