/**
 * What a view keeps of one log stream: its last lines, as shown, bounded.
 */
import { LogLine } from './protocol';
import {
  continueText,
  displayLine,
  isContinuation,
  withText
} from './terminalText';

/**
 * A bounded ring of log lines for one stream of one process.
 */
export class LogRing {
  constructor(capacity: number) {
    this._capacity = capacity;
  }

  /** The most lines kept. */
  get capacity(): number {
    return this._capacity;
  }

  /** The retained lines, oldest first. */
  get lines(): readonly LogLine[] {
    return this._lines;
  }

  /** Lines the Python side skipped (flood) or the ring dropped (capacity). */
  get dropped(): number {
    return this._dropped;
  }

  /**
   * Lines ever appended, dropped included (a continuation adds none): lets
   * views render incrementally.
   */
  get total(): number {
    return this._total;
  }

  /**
   * Lines the Python side skipped (flood), never received: with `total` a view
   * tells how many of the retained lines are new since it last looked.
   */
  get skipped(): number {
    return this._skipped;
  }

  /**
   * Times the last line was drawn over by a continuation: with `total`, a view
   * tells that only its last line changed (and rewrites that one node).
   */
  get rewrites(): number {
    return this._rewrites;
  }

  /**
   * Add lines from the wire, as shown (`displayLine`): carriage returns
   * rendered, long lines capped, a continuation drawn over the line before
   * (unless lines were skipped in between: then it starts a line).
   */
  append(lines: readonly LogLine[], skipped = 0): void {
    this._dropped += skipped;
    this._skipped += skipped;
    this._total += skipped;
    let joinable = skipped === 0;
    for (const line of lines) {
      const last = this._lines.length - 1;
      if (joinable && last >= 0 && isContinuation(line)) {
        const prev = this._lines[last];
        this._lines[last] = withText(
          prev,
          line[0],
          continueText(prev[1], line[1])
        );
        this._rewrites += 1;
      } else {
        this._lines.push(displayLine(line));
        this._total += 1;
      }
      joinable = true;
    }
    this._bound();
  }

  /** Keep at most `capacity` lines from now on (the oldest go now). */
  resize(capacity: number): void {
    this._capacity = capacity;
    this._bound();
  }

  clear(): void {
    this._lines = [];
    this._dropped = 0;
    this._skipped = 0;
    this._total = 0;
    this._rewrites = 0;
  }

  private _bound(): void {
    const excess = this._lines.length - this._capacity;
    if (excess > 0) {
      this._lines.splice(0, excess);
      this._dropped += excess;
    }
  }

  private _capacity: number;
  private _lines: LogLine[] = [];
  private _dropped = 0;
  private _skipped = 0;
  private _total = 0;
  private _rewrites = 0;
}
