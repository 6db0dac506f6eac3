/**
 * The live lines of a log view in the DOM, built to take a flood: lines
 * wait in a pending buffer and reach the DOM once per animation frame, as
 * one fragment; while following, at most `capacity` lines stay (a ring: the
 * oldest nodes become the newest), otherwise up to four times as many.
 *
 * A full view under a flood makes no nodes: the nodes of the lines a frame
 * drops from the top are moved to the end and rewritten for the lines it
 * adds. New nodes (five per line) would be garbage at the rate of the flood,
 * and bring on full garbage collections, whose pauses grow with all the page
 * holds (300 ms in a JupyterLab whose Running panel listed 1,000 processes).
 */
import { gapNode, lineNode, rewriteLineNode } from './logText';
import { LogLine } from '../live/protocol';
import {
  continueText,
  displayLine,
  displayLines,
  isContinuation,
  withText
} from '../live/terminalText';

type FrameFn = (cb: () => void) => number;

export class RenderedLines {
  constructor(doc: Document, options: RenderedLines.IOptions) {
    this._options = options;
    this.capacity = options.capacity;
    this._frame =
      options.requestFrame ??
      (typeof requestAnimationFrame === 'function'
        ? (cb: () => void) => requestAnimationFrame(cb)
        : (cb: () => void) => setTimeout(cb, 16) as unknown as number);
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-lv-lines';
    this.node.setAttribute('role', 'log');
  }

  /** The element of the lines. */
  readonly node: HTMLDivElement;

  /** Lines kept while following. */
  capacity: number;

  /** The lines in the DOM, oldest first (a gap counts as a line). */
  get lines(): readonly LogLine[] {
    return this._lines;
  }

  /** Whether older lines were dropped from the top (no cursor before them). */
  get trimmed(): boolean {
    return this._trimmed;
  }

  /** Add lines at the end (at the next frame). */
  enqueue(lines: readonly LogLine[]): void {
    if (lines.length === 0) {
      return;
    }
    const shown = displayLines(lines);
    let i = 0;
    for (; i < shown.length && isContinuation(shown[i]); i++) {
      this._continueLast(shown[i]);
    }
    for (; i < shown.length; i++) {
      this._pending.push(shown[i]);
    }
    // More waiting than the view keeps: everything shown and the oldest
    // waiting lines would be trimmed right after the append; drop them now.
    // (Not following, the view keeps more, but a hidden page, with no
    // frames, must not pile up.)
    const keep = this._options.following() ? this.capacity : this.capacity * 4;
    const excess = this._pending.length - keep;
    if (excess > 0) {
      // As if added and trimmed: older lines are paged back in on scroll.
      this._pending.splice(0, excess);
      this._pendingGap = 0;
      this.node.textContent = '';
      this._lines = [];
      this._trimmed = true;
    }
    this._scheduleFlush();
  }

  /** Mark lines the source skipped (at the next frame). */
  enqueueGap(skipped: number): void {
    this._pendingGap += skipped;
    this._scheduleFlush();
  }

  /** Keep at most `limit` lines in the DOM (the oldest go). */
  trim(limit: number = this.capacity): void {
    const excess = this._lines.length - limit;
    if (excess <= 0) {
      return;
    }
    const nodes = this.node;
    if (excess >= nodes.childNodes.length) {
      nodes.textContent = '';
    } else {
      const range = nodes.ownerDocument.createRange();
      range.setStartBefore(nodes.firstChild!);
      range.setEndAfter(nodes.childNodes[excess - 1]);
      range.deleteContents();
    }
    this._lines.splice(0, excess);
    this._trimmed = true;
    this._options.trimmed();
  }

  /** Add older lines above the first one (now). */
  prepend(raw: readonly LogLine[]): void {
    const lines = displayLines(raw, true);
    const doc = this.node.ownerDocument;
    const fragment = doc.createDocumentFragment();
    for (const line of lines) {
      fragment.appendChild(lineNode(doc, line, ''));
    }
    this.node.insertBefore(fragment, this.node.firstChild);
    this._lines.unshift(...lines);
  }

  /** Show exactly these lines (now); pending lines are dropped. */
  replace(raw: readonly LogLine[]): void {
    const lines = displayLines(raw, true);
    const doc = this.node.ownerDocument;
    const fragment = doc.createDocumentFragment();
    for (const line of lines) {
      fragment.appendChild(lineNode(doc, line, ''));
    }
    this._pending = [];
    this._pendingGap = 0;
    this.node.textContent = '';
    this.node.appendChild(fragment);
    this._lines = lines;
    this._trimmed = false;
  }

  dispose(): void {
    this._disposed = true;
  }

  /**
   * Draw a continuation over the last line: the last waiting one, else the
   * last one in the DOM (one node rewritten, now). After a gap, or with
   * nothing shown, it starts a line of its own.
   */
  private _continueLast(piece: LogLine): void {
    const k = this._pending.length - 1;
    if (k >= 0) {
      const prev = this._pending[k];
      this._pending[k] = withText(
        prev,
        piece[0],
        continueText(prev[1], piece[1])
      );
      return;
    }
    const last = this.node.lastElementChild;
    if (
      this._pendingGap > 0 ||
      !last ||
      last.classList.contains('syft-pm-lv-gap')
    ) {
      this._pending.push(displayLine(piece));
      return;
    }
    const j = this._lines.length - 1;
    const prev = this._lines[j];
    const line = withText(prev, piece[0], continueText(prev[1], piece[1]));
    this._lines[j] = line;
    rewriteLineNode(last as HTMLElement, line);
  }

  private _scheduleFlush(): void {
    if (!this._flushScheduled) {
      this._flushScheduled = true;
      this._frame(this._flush);
    }
  }

  /**
   * Once per frame: one fragment in, excess out, then `flushed`. The nodes
   * of lines that would be trimmed right after the append are the nodes of
   * the lines appended (moved from the top, rewritten).
   */
  private _flush = (): void => {
    this._flushScheduled = false;
    if (this._disposed) {
      return;
    }
    const nodes = this.node;
    const doc = nodes.ownerDocument;
    const gap = this._pendingGap > 0 ? 1 : 0;
    const total = this._lines.length + gap + this._pending.length;
    const limit = this._options.following()
      ? this.capacity
      : total > this.capacity * 4
        ? this.capacity * 2
        : total;
    const spare = Math.min(
      total - limit,
      this._lines.length,
      this._pending.length
    );
    const fragment = doc.createDocumentFragment();
    if (gap) {
      fragment.appendChild(gapNode(doc, this._pendingGap));
      this._lines.push([null, `\u2026 ${this._pendingGap} lines skipped`]);
      this._pendingGap = 0;
    }
    let reused = 0;
    for (const line of this._pending) {
      const old = reused < spare ? nodes.firstElementChild : null;
      if (old) {
        rewriteLineNode(old as HTMLElement, line);
        fragment.appendChild(old); // moved from the top
        reused += 1;
      } else {
        fragment.appendChild(lineNode(doc, line, ''));
      }
      this._lines.push(line);
    }
    this._pending = [];
    nodes.appendChild(fragment);
    if (reused > 0) {
      this._lines.splice(0, reused);
      this._trimmed = true;
    }
    if (this._lines.length > limit) {
      this.trim(limit);
    } else if (reused > 0) {
      this._options.trimmed();
    }
    this._options.flushed();
  };

  private _options: RenderedLines.IOptions;
  private _frame: FrameFn;
  private _disposed = false;
  private _pending: LogLine[] = [];
  private _pendingGap = 0;
  private _flushScheduled = false;
  private _lines: LogLine[] = [];
  private _trimmed = false;
}

export namespace RenderedLines {
  export interface IOptions {
    /** Lines kept while following. */
    capacity: number;
    /** Whether the view follows new lines (it keeps fewer then). */
    following: () => boolean;
    /** Called after lines were trimmed from the top. */
    trimmed: () => void;
    /** Called after each flush (after trimming). */
    flushed: () => void;
    /** Schedule a DOM flush (tests pass one they run by hand). */
    requestFrame?: FrameFn;
  }
}
