// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';

import { formatLineTime } from '../../src/logs/logText';
import { RenderedLines } from '../../src/logs/renderedLines';
import { LogLine } from '../../src/live/protocol';
import { manualFrames } from '../sidebar/fixtures';

function numbered(from: number, count: number): LogLine[] {
  return Array.from(
    { length: count },
    (_, i) => [1_700_000_000 + from + i, `line ${from + i}`] as LogLine
  );
}

const made: RenderedLines[] = [];
afterEach(() => {
  while (made.length) {
    const r = made.pop()!;
    r.dispose();
    r.node.remove();
  }
});

function makeLines(capacity: number, following: { on: boolean }) {
  const frames = manualFrames();
  const calls = { trimmed: 0, flushed: 0 };
  const rendered = new RenderedLines(document, {
    capacity,
    following: () => following.on,
    trimmed: () => (calls.trimmed += 1),
    flushed: () => (calls.flushed += 1),
    requestFrame: frames.request
  });
  document.body.appendChild(rendered.node);
  made.push(rendered);
  return { rendered, frames, calls };
}

/** The DOM says what `lines` says, node for node. */
function expectInSync(rendered: RenderedLines): void {
  const nodes = [...rendered.node.children] as HTMLElement[];
  expect(nodes.length).toBe(rendered.lines.length);
  rendered.lines.forEach((line, i) => {
    const node = nodes[i];
    if (node.classList.contains('syft-pm-lv-gap')) {
      expect(line[0]).toBeNull();
      expect(node.textContent).toMatch(/lines? skipped/);
      return;
    }
    expect(node.className).toBe('syft-pm-lv-line');
    expect(node.children.length).toBe(2);
    expect(node.querySelector('.syft-pm-lv-time')!.textContent).toBe(
      formatLineTime(line[0])
    );
    expect(node.querySelector('.syft-pm-lv-text')!.textContent).toBe(line[1]);
  });
}

describe('RenderedLines under a flood', () => {
  it('makes no DOM node once full: the lines it drops lend their nodes to the lines it adds', () => {
    const { rendered, frames } = makeLines(50, { on: true });
    rendered.enqueue(numbered(0, 50));
    frames.flush();
    expectInSync(rendered);

    const createElement = vi.spyOn(document, 'createElement');
    const createText = vi.spyOn(document, 'createTextNode');
    const seen = new Set<Element>(rendered.node.children);
    // 100 frames of 20 lines (a flood of 2,000 lines through a 50-line view).
    for (let k = 0; k < 100; k++) {
      rendered.enqueue(numbered(50 + k * 20, 20));
      frames.flush();
      for (const node of rendered.node.children) {
        seen.add(node);
      }
    }
    // Before: three elements and two text nodes per line, 10,000 nodes.
    expect(createElement).not.toHaveBeenCalled();
    expect(createText).not.toHaveBeenCalled();
    expect(seen.size).toBe(50);
    expect(rendered.lines.map(l => l[1])).toEqual(
      numbered(2000, 50).map(l => l[1])
    );
    expect(rendered.trimmed).toBe(true);
    expectInSync(rendered);
  });

  it('says it trimmed once per frame that dropped lines, and flushed once per frame', () => {
    const { rendered, frames, calls } = makeLines(10, { on: true });
    rendered.enqueue(numbered(0, 10));
    frames.flush();
    expect(calls).toEqual({ trimmed: 0, flushed: 1 });
    rendered.enqueue(numbered(10, 3));
    frames.flush();
    expect(calls).toEqual({ trimmed: 1, flushed: 2 });
    expectInSync(rendered);
  });

  it('keeps the DOM and its lines in step through gaps, redraws and not following', () => {
    const following = { on: true };
    const { rendered, frames } = makeLines(10, following);
    rendered.enqueue(numbered(0, 8));
    frames.flush();
    // A gap, then lines: the gap's node is a line's node later on.
    rendered.enqueue([]);
    rendered.enqueueGap(500);
    rendered.enqueue(numbered(508, 5));
    frames.flush();
    expectInSync(rendered);
    expect(rendered.lines.length).toBe(10);
    for (let k = 0; k < 5; k++) {
      rendered.enqueue(numbered(600 + k * 4, 4));
      frames.flush();
      expectInSync(rendered);
    }
    expect(rendered.node.querySelector('.syft-pm-lv-gap')).toBeNull();

    // A bar redrawn over the last line: the same node, its text rewritten.
    const last = rendered.node.lastElementChild;
    rendered.enqueue([[9, '\rbar 1\rbar 2', 1]]);
    expect(rendered.node.lastElementChild).toBe(last);
    expect(rendered.lines.at(-1)![1]).toBe('bar 2619'); // over 'line 619'
    expectInSync(rendered);

    // Not following, the view keeps up to four times as many, then half.
    following.on = false;
    for (let k = 0; k < 10; k++) {
      rendered.enqueue(numbered(1000 + k * 7, 7));
      frames.flush();
      expectInSync(rendered);
      expect(rendered.lines.length).toBeLessThanOrEqual(40);
    }
    expect(rendered.lines.at(-1)![1]).toBe('line 1069');
    // Following again: back to `capacity`, the newest ones.
    following.on = true;
    rendered.enqueue(numbered(1070, 1));
    frames.flush();
    expectInSync(rendered);
    expect(rendered.lines.map(l => l[1])).toEqual(
      numbered(1061, 10).map(l => l[1])
    );
  });

  it('draws a line without a time and with colour escapes in a reused node', () => {
    const { rendered, frames } = makeLines(3, { on: true });
    rendered.enqueue(numbered(0, 3));
    frames.flush();
    rendered.enqueue([
      [null, 'no time'],
      [5, '\u001b[31mred\u001b[0m']
    ]);
    frames.flush();
    const texts = [...rendered.node.querySelectorAll('.syft-pm-lv-text')].map(
      n => n.textContent
    );
    const times = [...rendered.node.querySelectorAll('.syft-pm-lv-time')].map(
      n => n.textContent
    );
    expect(texts).toEqual(['line 2', 'no time', 'red']);
    expect(times).toEqual([
      formatLineTime(1_700_000_002),
      '',
      formatLineTime(5)
    ]);
  });
});
