/**
 * A log line as a terminal would show it, cheap enough for a flood.
 *
 * Programs that draw progress bars (tqdm, pip, curl) redraw one line with
 * carriage returns and no newline: `"\rprogress 1\rprogress 2..."`. The files
 * and the wire keep the raw text (docs/protocol.md); a view shows what a
 * terminal shows: each `\r` returns to column 0 and the following text
 * overwrites (`"abcdef\rxy"` shows `"xycdef"`), as Python's
 * `syft_pm.termtext.render_cr` does. A piece of a line the writer had to cut
 * (64 KiB) arrives flagged as continuing the line before it, and is drawn over
 * that line instead of starting a new one. Every shown line is capped, so one
 * huge line cannot freeze the DOM.
 *
 * Pure and linear in the text: applied once, where lines enter a view's
 * buffer (the store's `LogRing`, the log view's `RenderedLines`).
 */
import { LogLine } from './protocol';

/** The most characters shown of one line; the rest is cut to `CUT_MARK`. */
export const DISPLAY_CAP = 8192;

/** Marks a line that was cut to `DISPLAY_CAP`. */
export const CUT_MARK = '\u2026';

/**
 * What a terminal shows for `text` (one line) after its carriage returns.
 * A trailing `\r` (or a `\r\n` line end) changes nothing.
 */
export function renderCR(text: string): string {
  if (text.indexOf('\r') === -1) {
    return text;
  }
  // Overlay the segments from the last one back, each only where it shows:
  // every character is looked at once, and only shown ones are copied.
  let shown = '';
  let end = text.length;
  for (;;) {
    const cr = end > 0 ? text.lastIndexOf('\r', end - 1) : -1;
    const start = cr + 1;
    if (end - start > shown.length) {
      shown += text.slice(start + shown.length, end);
    }
    if (cr < 0) {
      return shown;
    }
    end = cr;
  }
}

/** `text` cut to `DISPLAY_CAP` characters and `CUT_MARK` (idempotent). */
export function capLine(text: string): string {
  return text.length > DISPLAY_CAP
    ? text.slice(0, DISPLAY_CAP) + CUT_MARK
    : text;
}

/** The text a view shows for a line's raw text. */
export function displayText(text: string): string {
  return capLine(renderCR(text));
}

/**
 * The text shown once `piece`, the continuation of a cut line, is drawn
 * after `shown`, the text shown so far for that line.
 */
export function continueText(shown: string, piece: string): string {
  return capLine(renderCR(shown + piece));
}

/** Whether a line from the wire continues the line before it. */
export function isContinuation(line: LogLine): boolean {
  return line.length > 2 && !!line[2];
}

/** The line as shown: its text rendered and capped, no continuation flag. */
export function displayLine(line: LogLine): LogLine {
  const text = displayText(line[1]);
  return text === line[1] && line.length === 2 ? line : [line[0], text];
}

/**
 * Lines as shown, the continuations among them drawn over the line before.
 * Continuations at the start stay raw and flagged (their line is the
 * caller's: the last line it shows; draw them over it one by one), unless
 * `first` says nothing comes before them.
 */
export function displayLines(
  lines: readonly LogLine[],
  first = false
): LogLine[] {
  const out: LogLine[] = [];
  for (const line of lines) {
    const last = out.length - 1;
    if (!isContinuation(line)) {
      out.push(displayLine(line));
    } else if (last >= 0 && !isContinuation(out[last])) {
      const prev = out[last];
      out[last] = withText(prev, line[0], continueText(prev[1], line[1]));
    } else if (last < 0 && first) {
      out.push(displayLine(line));
    } else {
      out.push(line); // raw: the caller draws it over its last line
    }
  }
  return out;
}

/** A shown line rewritten by a continuation (the later time, same flag). */
export function withText(
  prev: LogLine,
  t: number | null,
  text: string
): LogLine {
  const time = t ?? prev[0];
  return prev.length > 2 ? [time, text, prev[2]] : [time, text];
}
