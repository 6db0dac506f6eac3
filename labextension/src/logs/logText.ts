/**
 * One log line as a user sees it: without colour escapes, with its time,
 * with the matches of a search highlighted, as a DOM node and as copied or
 * downloaded text.
 */
import { LogLine } from '../live/protocol';

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

/**
 * The node of a line: its time and its text, with the matches of `needle`
 * marked.
 */
export function lineNode(
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

/**
 * The node that stands for lines skipped while following.
 */
export function gapNode(doc: Document, skipped: number): HTMLDivElement {
  const node = doc.createElement('div');
  node.className = 'syft-pm-lv-line syft-pm-lv-gap';
  node.textContent = `\u2026 ${skipped.toLocaleString()} line${skipped === 1 ? '' : 's'} skipped (too many to show live; download the log for all of them)`;
  return node;
}
