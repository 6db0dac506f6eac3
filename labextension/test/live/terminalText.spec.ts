import { describe, expect, it } from 'vitest';

import { LogLine } from '../../src/live/protocol';
import {
  capLine,
  continueText,
  CUT_MARK,
  DISPLAY_CAP,
  displayLine,
  displayLines,
  renderCR
} from '../../src/live/terminalText';

describe('renderCR', () => {
  it.each([
    ['plain', 'plain'],
    ['abcdef\rxy', 'xycdef'],
    ['\rprogress 1\rprogress 2\rprogress 3', 'progress 3'],
    ['progress 10\rprogress 9', 'progress 90'],
    ['done\r', 'done'],
    ['windows line\r', 'windows line'],
    ['\r', ''],
    ['', ''],
    ['a\r\rb', 'b']
  ])('shows %j as a terminal would: %j', (raw, shown) => {
    expect(renderCR(raw)).toBe(shown);
  });

  it('is linear: a bar redrawn 500,000 times renders at once', () => {
    const raw = Array.from(
      { length: 500_000 },
      (_, i) => `\rprogress ${i}`
    ).join('');
    const started = performance.now();
    expect(renderCR(raw)).toBe('progress 499999');
    // Generous bound (a shared CI machine): a quadratic walk takes minutes.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('capLine', () => {
  it('cuts a huge line to the cap and marks it, and cutting twice changes nothing', () => {
    const huge = 'x'.repeat(DISPLAY_CAP * 10);
    const capped = capLine(huge);
    expect(capped).toHaveLength(DISPLAY_CAP + 1);
    expect(capped.endsWith(CUT_MARK)).toBe(true);
    expect(capLine(capped)).toBe(capped);
    expect(capLine('short')).toBe('short');
  });

  it('renders before it cuts: a long bar shows its last state', () => {
    const raw = '\r' + 'a'.repeat(DISPLAY_CAP * 2) + '\rfinal';
    const [, text] = displayLine([1, raw]);
    expect(text.startsWith('final')).toBe(true);
    expect(text).toHaveLength(DISPLAY_CAP + 1);
  });
});

describe('continuations', () => {
  it('draw a cut piece over the text shown so far', () => {
    expect(continueText('progress 1', '\rprogress 2\rprogress 3')).toBe(
      'progress 3'
    );
    expect(continueText('a long li', 'ne goes on')).toBe('a long line goes on');
  });

  it('merge within a batch, and leave a leading one to the caller', () => {
    const lines: LogLine[] = [
      [1, '\rstep 1', 1],
      [2, 'epoch 1\r'],
      [3, '\r 10%\r 20%'],
      [4, '\r 30%\r 40%', 1],
      [5, '\r 50%', 1]
    ];
    expect(displayLines(lines)).toEqual([
      [1, '\rstep 1', 1],
      [2, 'epoch 1'],
      [5, ' 50%']
    ]);
    // Nothing before the batch (a page of older lines): it starts a line.
    expect(displayLines(lines, true)[0]).toEqual([1, 'step 1']);
  });

  it('leave a run of leading ones raw, to be drawn one by one', () => {
    const lines: LogLine[] = [
      [1, '\rprogress 6', 1],
      [2, '\rprogress 7', 1],
      [3, 'next']
    ];
    const shown = displayLines(lines);
    expect(shown).toEqual([
      [1, '\rprogress 6', 1],
      [2, '\rprogress 7', 1],
      [3, 'next']
    ]);
    let last = 'progress 5';
    for (const [, piece] of shown.slice(0, 2)) {
      last = continueText(last, piece);
    }
    expect(last).toBe('progress 7');
  });
});
