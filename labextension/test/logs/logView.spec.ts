// @vitest-environment happy-dom
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  ILogPage,
  ILogSince,
  ILogSource,
  KernelLogSource
} from '../../src/logs/logSource';
import { RestLogSource } from '../../src/sidebar/detail/restLogSource';
import {
  formatLineTime,
  linesToText,
  LogView,
  splitMatches,
  stripAnsi
} from '../../src/logs/logView';
import { LogLine, LogStreamName } from '../../src/live/protocol';
import {
  delta,
  FakeChannel,
  manualFrames,
  snapshot,
  state
} from '../sidebar/fixtures';

/**
 * A log of numbered lines; cursors are line indexes.
 */
class FakeSource implements ILogSource {
  constructor(public log: LogLine[] = []) {}
  canPage = true;
  searchWhere = 'server' as const;
  live = true;
  newLines: Signal<ILogSource, LogStreamName> = new Signal<
    ILogSource,
    LogStreamName
  >(this);
  isDisposed = false;
  calls: string[] = [];
  searches: string[] = [];

  async tail(_: LogStreamName, n: number): Promise<ILogPage> {
    this.calls.push(`tail ${n}`);
    const start = Math.max(0, this.log.length - n);
    return {
      lines: this.log.slice(start),
      before: start > 0 ? String(start) : null,
      cursor: String(this.log.length)
    };
  }
  async older(_: LogStreamName, before: string, n: number): Promise<ILogPage> {
    this.calls.push(`older ${before} ${n}`);
    const end = Number(before);
    const start = Math.max(0, end - n);
    return {
      lines: this.log.slice(start, end),
      before: start > 0 ? String(start) : null,
      cursor: null
    };
  }
  async since(_: LogStreamName, cursor: string, n: number): Promise<ILogSince> {
    this.calls.push(`since ${cursor}`);
    const from = Number(cursor);
    const lines = this.log.slice(from, from + n);
    return { lines, cursor: String(from + lines.length), skipped: 0 };
  }
  async search(_: LogStreamName, text: string): Promise<LogLine[]> {
    this.searches.push(text);
    return this.log.filter(l =>
      l[1].toLowerCase().includes(text.toLowerCase())
    );
  }
  append(count: number): void {
    const n = this.log.length;
    for (let i = 0; i < count; i++) {
      this.log.push([1_700_000_000 + n + i, `line ${n + i}`]);
    }
    this.newLines.emit('stdout');
  }
  dispose(): void {
    this.isDisposed = true;
  }
}

const views: Widget[] = [];
afterEach(() => {
  while (views.length) {
    views.pop()!.dispose();
  }
});

function makeView(source: ILogSource, capacity = 50) {
  const frames = manualFrames();
  const copy = vi.fn();
  const view = new LogView({
    name: 'web',
    stream: 'stdout',
    source,
    capacity,
    copy,
    requestFrame: frames.request
  });
  views.push(view);
  Widget.attach(view, document.body);
  return { view, frames, copy };
}

const shown = (view: LogView) =>
  [...view.node.querySelectorAll('.syft-pm-lv-lines .syft-pm-lv-text')].map(
    n => n.textContent
  );

const settle = () => new Promise(r => setTimeout(r, 0));

function numbered(n: number): LogLine[] {
  return Array.from(
    { length: n },
    (_, i) => [1_700_000_000 + i, `line ${i}`] as LogLine
  );
}

describe('LogView', () => {
  it('loads the tail, then follows new lines by cursor, one DOM batch per frame', async () => {
    const source = new FakeSource(numbered(5));
    const { view, frames } = makeView(source);
    await view.start();
    expect(source.calls).toEqual(['tail 50']);
    expect(frames.pending()).toBe(1);
    frames.flush();
    expect(shown(view)).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4'
    ]);

    source.append(3);
    await settle();
    source.append(2);
    await settle();
    // Two fetches, one frame.
    expect(source.calls.slice(1)).toEqual(['since 5', 'since 8']);
    expect(frames.pending()).toBe(1);
    frames.flush();
    expect(view.lineCount).toBe(10);
    expect(shown(view).slice(-2)).toEqual(['line 8', 'line 9']);
  });

  it('keeps at most `capacity` lines in the DOM while following', async () => {
    const source = new FakeSource(numbered(10));
    const { view, frames } = makeView(source, 20);
    await view.start();
    frames.flush();
    for (let i = 0; i < 10; i++) {
      source.append(100);
      await settle();
    }
    frames.flush();
    expect(view.lineCount).toBeLessThanOrEqual(21);
    expect(shown(view).at(-1)).toBe('line 1009');
    // Older lines are one scroll away.
    expect(view.node.querySelector('.syft-pm-lv-older')!.textContent).toBe(
      'Scroll up for older lines'
    );
  });

  it('pages older lines in above the first one', async () => {
    const source = new FakeSource(numbered(120));
    const { view, frames } = makeView(source, 50);
    await view.start();
    frames.flush();
    expect(shown(view)[0]).toBe('line 70');
    await view.loadOlder();
    expect(source.calls).toContain('older 70 200');
    expect(view.lineCount).toBe(120);
    expect(shown(view)[0]).toBe('line 0');
    expect(view.node.querySelector('.syft-pm-lv-older')!.textContent).toBe(
      'Beginning of the log'
    );
  });

  it('reads the tail again to page back after trimming', async () => {
    const source = new FakeSource(numbered(100));
    const { view, frames } = makeView(source, 20);
    await view.start();
    frames.flush();
    source.append(30);
    await settle();
    frames.flush();
    expect(shown(view)[0]).toBe('line 110');
    view.setFollow(false);
    await view.loadOlder();
    expect(source.calls).toContain('tail 220');
    expect(shown(view)[0]).toBe('line 0');
    expect(shown(view).at(-1)).toBe('line 129');
  });

  it('searches with highlights and returns to the live view', async () => {
    const source = new FakeSource([
      [1, 'GET /index 200'],
      [2, 'GET /missing 404'],
      [3, 'get /again 200']
    ]);
    const { view, frames } = makeView(source);
    await view.start();
    frames.flush();
    await view.search('get');
    expect(source.searches).toEqual(['get']);
    expect(view.node.dataset.mode).toBe('search');
    const marks = [
      ...view.node.querySelectorAll('.syft-pm-lv-results mark')
    ].map(m => m.textContent);
    expect(marks).toEqual(['GET', 'GET', 'get']);
    expect(view.node.querySelector('.syft-pm-lv-info')!.textContent).toBe(
      '3 matches'
    );
    await view.copyLines();
    await view.search('');
    expect(view.node.dataset.mode).toBe('live');
    expect(
      view.node.querySelector<HTMLElement>('.syft-pm-lv-results')!.hidden
    ).toBe(true);
    expect(view.lineCount).toBe(3);
  });

  it('copies the lines shown, with times when shown', async () => {
    const source = new FakeSource([
      [null, 'plain'],
      [1_700_000_000, '\u001b[31mred\u001b[0m']
    ]);
    const { view, frames, copy } = makeView(source);
    await view.start();
    frames.flush();
    await view.copyLines();
    const text = copy.mock.calls[0][0] as string;
    expect(text.split('\n')[0]).toBe('plain');
    expect(text.split('\n')[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}red$/);
  });

  it('downloads the stream (the last 10,000 lines) as a text file', async () => {
    const source = new FakeSource(numbered(3));
    const { view, frames } = makeView(source);
    await view.start();
    frames.flush();
    const urls: Blob[] = [];
    const create = vi
      .spyOn(URL, 'createObjectURL')
      .mockImplementation((b: Blob | MediaSource) => {
        urls.push(b as Blob);
        return 'blob:x';
      });
    const clicked: string[] = [];
    const click = vi
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function (this: HTMLAnchorElement) {
        clicked.push(this.download);
      });
    await view.download();
    expect(source.calls).toContain('tail 10000');
    expect(clicked).toEqual(['web.stdout.log']);
    expect(await urls[0].text()).toMatch(/line 0\n.*line 1\n.*line 2\n$/);
    create.mockRestore();
    click.mockRestore();
  });

  it('toggles line times with a class, without re-rendering lines', async () => {
    const source = new FakeSource(numbered(2));
    const { view, frames } = makeView(source);
    await view.start();
    frames.flush();
    const times = view.node.querySelector<HTMLInputElement>(
      '.syft-pm-lv-times input'
    )!;
    times.checked = false;
    times.dispatchEvent(new Event('change'));
    expect(view.node.classList.contains('syft-pm-mod-no-times')).toBe(true);
  });

  it('polls only while its source cannot ring', async () => {
    vi.useFakeTimers();
    try {
      const source = new FakeSource(numbered(3));
      const { view } = makeView(source);
      await view.start();
      vi.advanceTimersByTime(5000);
      expect(source.calls).toEqual(['tail 50']);
      source.live = false;
      source.log.push([1, 'line 3']);
      vi.advanceTimersByTime(2100);
      expect(source.calls).toEqual(['tail 50', 'since 3']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves no timer behind when disposed while its first read fails', async () => {
    vi.useFakeTimers();
    try {
      const source = new FakeSource();
      let fail: (error: Error) => void = () => undefined;
      source.tail = () =>
        new Promise((_, reject) => {
          fail = reject;
        });
      const { view } = makeView(source);
      const started = view.start();
      view.dispose();
      fail(new Error('the server went away'));
      await started;
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows a read error in the view', async () => {
    const source = new FakeSource();
    source.tail = () => Promise.reject(new Error('404 no such process'));
    const { view } = makeView(source);
    await view.start();
    expect(view.node.querySelector('.syft-pm-lv-info')!.textContent).toContain(
      '404 no such process'
    );
  });
});

describe('log text helpers', () => {
  it('splitMatches is case-insensitive and alternates plain/match', () => {
    expect(splitMatches('Error: error!', 'ERROR')).toEqual([
      '',
      'Error',
      ': ',
      'error',
      '!'
    ]);
    expect(splitMatches('abc', '')).toEqual(['abc']);
  });

  it('stripAnsi and formatLineTime', () => {
    expect(stripAnsi('\u001b[1;32mok\u001b[0m done')).toBe('ok done');
    expect(formatLineTime(null)).toBe('');
    expect(formatLineTime(0)).toMatch(/^\d\d:\d\d:\d\d\.000$/);
  });

  it('linesToText', () => {
    expect(
      linesToText(
        [
          [null, 'a'],
          [null, 'b']
        ],
        true
      )
    ).toBe('a\nb');
  });
});

describe('RestLogSource', () => {
  it('reads through the REST logs route and rings on log deltas of its process', async () => {
    const api = vi.fn(async (path: string) => {
      if (path.includes('search=')) {
        return {
          lines: [
            [2, 'b'],
            [1, 'a']
          ]
        };
      }
      return { lines: [[1, 'a']], before: null, cursor: '1:10', skipped: 0 };
    });
    const channel = new FakeChannel();
    const source = new RestLogSource('web', api as any, { channel });
    expect(channel.opens).toBe(1);
    const rings: string[] = [];
    source.newLines.connect((_, s) => rings.push(s));

    expect(await source.tail('stdout', 5)).toEqual({
      lines: [[1, 'a']],
      before: null,
      cursor: '1:10'
    });
    expect(api.mock.calls[0][0]).toBe(
      'processes/web/logs?stream=stdout&lines=5'
    );
    await source.since('stderr', '1:10', 100);
    expect(api.mock.calls[1][0]).toBe(
      'processes/web/logs?stream=stderr&lines=100&after=1%3A10'
    );
    await source.older('stdout', '1:0', 10);
    expect(api.mock.calls[2][0]).toContain('before=1%3A0');
    // Search answers newest first; the view wants oldest first.
    expect(await source.search('stdout', 'x y', 3)).toEqual([
      [1, 'a'],
      [2, 'b']
    ]);
    expect(api.mock.calls[3][0]).toContain('search=x+y');

    channel.deliver(
      delta(2, {
        logs: { web: { stderr: { lines: [[1, 'x']], skipped: 0 } }, other: {} }
      })
    );
    channel.deliver(
      delta(3, { logs: { other: { stdout: { lines: [], skipped: 0 } } } })
    );
    expect(rings).toEqual(['stderr']);
    channel.deliver(snapshot([]));
    expect(rings).toEqual(['stderr', 'stdout', 'stderr']);
    source.dispose();
    expect(channel.isDisposed).toBe(true);
  });
});

describe('KernelLogSource', () => {
  it('serves the lines its comm sends, follows by count, searches in the browser', async () => {
    const channel = new FakeChannel('kernel');
    const source = new KernelLogSource('job', channel, 100);
    const tail = source.tail('stdout', 10);
    channel.deliver({
      ...snapshot([state('job')], { registry: 'k' }),
      logs: {
        job: {
          stdout: {
            lines: [
              [1, 'one'],
              [2, 'two']
            ],
            skipped: 0
          }
        }
      }
    });
    const page = await tail;
    expect(page.lines.map(l => l[1])).toEqual(['one', 'two']);
    expect(page.before).toBeNull();
    channel.deliver(
      delta(2, {
        logs: { job: { stdout: { lines: [[3, 'Three']], skipped: 0 } } }
      })
    );
    const next = await source.since('stdout', page.cursor!, 10);
    expect(next.lines.map(l => l[1])).toEqual(['Three']);
    expect((await source.search('stdout', 'three', 10)).map(l => l[1])).toEqual(
      ['Three']
    );
    source.dispose();
  });
});

describe('LogView, output that is not lines', () => {
  it('shows a carriage-return bar as one line, and a continuation redraws it in place', async () => {
    const bar = Array.from({ length: 1000 }, (_, i) => `\rprogress ${i}`);
    const source = new FakeSource([
      [1, 'epoch 1'],
      [2, bar.join('')]
    ]);
    const { view, frames } = makeView(source);
    await view.start();
    frames.flush();
    expect(shown(view)).toEqual(['epoch 1', 'progress 999']);
    const lines = view.node.querySelector('.syft-pm-lv-lines')!;
    const before = lines.children.length;
    // The writer cut the bar's line: its next piece arrives flagged.
    source.log.push([3, '\rprogress 1000\rprogress 1001', 1]);
    source.newLines.emit('stdout');
    await settle();
    frames.flush();
    expect(shown(view)).toEqual(['epoch 1', 'progress 1001']);
    expect(lines.children.length).toBe(before);
    // The copied text is what is shown.
    expect(view.lines.map(l => l[1])).toEqual(['epoch 1', 'progress 1001']);
  });

  it('draws several continuations in one read over the same line', async () => {
    const source = new FakeSource([[1, '\rprogress 5']]);
    const { view, frames } = makeView(source);
    await view.start();
    frames.flush();
    source.log.push(
      [2, '\rprogress 6', 1],
      [3, '\rprogress 7', 1],
      [4, 'next']
    );
    source.newLines.emit('stdout');
    await settle();
    frames.flush();
    expect(shown(view)).toEqual(['progress 7', 'next']);
  });

  it('caps a huge line', async () => {
    const source = new FakeSource([[1, 'z'.repeat(2_000_000)]]);
    const { view, frames } = makeView(source);
    await view.start();
    frames.flush();
    expect(shown(view)[0]!.length).toBeLessThan(10_000);
  });

  it('follows a bar the kernel redraws over its last line', async () => {
    const channel = new FakeChannel();
    const source = new KernelLogSource('job', channel, 100);
    const tail = source.tail('stdout', 10);
    channel.deliver({
      ...snapshot([state('job')], { registry: 'k' }),
      logs: { job: { stdout: { lines: [[1, '\rstep 1']], skipped: 0 } } }
    });
    const page = await tail;
    expect(page.lines).toEqual([[1, 'step 1']]);
    channel.deliver(
      delta(2, {
        logs: { job: { stdout: { lines: [[2, '\rstep 2', 1]], skipped: 0 } } }
      })
    );
    const next = await source.since('stdout', page.cursor!, 10);
    // Not a new line: the last one again, as a redraw of itself.
    expect(next.lines).toEqual([[2, '\rstep 2', 1]]);
    expect(next.skipped).toBe(0);
    const after = await source.since('stdout', next.cursor!, 10);
    expect(after.lines).toEqual([]);
    source.dispose();
  });
});
