/**
 * One log line as a user sees it: without colour escapes, with its time,
 * with the matches of a search highlighted, as a DOM node and as copied or
 * downloaded text.
 */
import { LogLine } from '../live/protocol';

// Colour and cursor escapes are noise in a plain-text view.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

const LINE_CLASS = 'syft-pm-lv-line';
const TIME_CLASS = 'syft-pm-lv-time';
const TEXT_CLASS = 'syft-pm-lv-text';
const TEXT_NODE = 3;

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
  node.className = LINE_CLASS;
  const time = doc.createElement('span');
  time.className = TIME_CLASS;
  time.textContent = formatLineTime(line[0]);
  const text = doc.createElement('span');
  text.className = TEXT_CLASS;
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
 * Make `node`, a node of a line or a gap no longer shown, the node of `line`
 * (no search marks): a log view under a flood moves the nodes of the lines
 * it drops to the end for the lines it adds, instead of making new ones.
 * The node of a line keeps its elements and text nodes; only their text
 * changes.
 */
export function rewriteLineNode(node: HTMLElement, line: LogLine): void {
  const time = node.firstChild;
  const text = node.lastChild;
  if (
    node.className !== LINE_CLASS ||
    node.childNodes.length !== 2 ||
    !isSpan(time, TIME_CLASS) ||
    !isSpan(text, TEXT_CLASS)
  ) {
    const fresh = lineNode(node.ownerDocument, line, '');
    node.className = LINE_CLASS;
    node.replaceChildren(...fresh.childNodes);
    return;
  }
  setText(time, formatLineTime(line[0]));
  setText(text, stripAnsi(line[1]));
}

function isSpan(node: ChildNode | null, cls: string): node is HTMLElement {
  return (
    node !== null &&
    node.nodeName === 'SPAN' &&
    (node as HTMLElement).className === cls
  );
}

/** `el`'s text, rewriting its one text node in place when it has one. */
function setText(el: HTMLElement, value: string): void {
  const only = el.firstChild;
  if (only !== null && only === el.lastChild && only.nodeType === TEXT_NODE) {
    const t = only as Text;
    if (t.data !== value) {
      t.data = value;
    }
  } else {
    el.textContent = value;
  }
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
