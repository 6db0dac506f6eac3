// @vitest-environment happy-dom
import { Panel, SplitPanel, Widget } from '@lumino/widgets';
import { afterEach, describe, expect, it } from 'vitest';

import {
  detailAreas,
  DOWN_SHARE,
  IDetailShell,
  makeRoom,
  showDetail
} from '../../src/sidebar/detailArea';

/**
 * A shell with real Lumino panels per area. `mainHoldsOne` copies Notebook
 * 7's main area, which ignores a widget when it already holds one; an area
 * the shell does not have is refused the way each shell refuses it.
 */
class FakeShell implements IDetailShell {
  constructor(
    readonly areas: string[],
    readonly options: { mode?: string; mainHoldsOne?: boolean } = {}
  ) {
    for (const area of areas) {
      const panel = new Panel();
      Widget.attach(panel, document.body);
      this.panels.set(area, panel);
    }
    if (options.mode !== undefined) {
      this.mode = options.mode;
    }
  }

  readonly mode?: string;
  readonly panels = new Map<string, Panel>();
  readonly calls: string[] = [];
  readonly activated: string[] = [];

  add(widget: Widget, area = 'main', options?: { mode?: string }): void {
    this.calls.push(options?.mode ? `${area}:${options.mode}` : area);
    const panel = this.panels.get(area);
    if (!panel) {
      if (this.options.mode !== undefined) {
        throw new Error(`no area ${area}`);
      }
      return; // Notebook 7 logs "Cannot add widget to area" and returns.
    }
    if (area === 'main' && this.options.mainHoldsOne && panel.widgets.length) {
      return;
    }
    panel.addWidget(widget);
  }

  activateById(id: string): void {
    this.activated.push(id);
  }

  dispose(): void {
    for (const panel of this.panels.values()) {
      panel.dispose();
    }
  }
}

const shells: FakeShell[] = [];
function shell(...args: ConstructorParameters<typeof FakeShell>): FakeShell {
  const s = new FakeShell(...args);
  shells.push(s);
  return s;
}

function detail(): Widget {
  const w = new Widget();
  w.id = 'syft-pm-detail-web';
  return w;
}

afterEach(() => {
  while (shells.length) {
    shells.pop()!.dispose();
  }
});

describe('showDetail: where a detail view opens', () => {
  it('splits the main area of JupyterLab (a shell with a document mode)', () => {
    const lab = shell(['main', 'down', 'left', 'right'], {
      mode: 'multiple-document'
    });
    lab.panels.get('main')!.addWidget(new Widget()); // the notebook
    const d = detail();
    expect(detailAreas(lab)).toEqual(['main', 'down', 'right']);
    expect(showDetail(lab, d)).toBe('main');
    expect(lab.calls).toEqual(['main:split-bottom']);
    expect(d.parent).toBe(lab.panels.get('main'));
    expect(lab.activated).toEqual([d.id]);
  });

  it('opens in the down area of Notebook 7, whose main area holds the notebook', () => {
    const nb = shell(['main', 'down', 'left', 'right'], { mainHoldsOne: true });
    const notebook = new Widget();
    nb.panels.get('main')!.addWidget(notebook);
    const d = detail();
    expect(showDetail(nb, d)).toBe('down');
    expect(nb.calls).toEqual(['down']);
    expect(d.parent).toBe(nb.panels.get('down'));
    expect(nb.panels.get('main')!.widgets).toEqual([notebook]);
    expect(nb.activated).toEqual([d.id]);
  });

  it('falls back to the right area, then the main area, when there is no down area', () => {
    const noDown = shell(['main', 'right'], { mainHoldsOne: true });
    noDown.panels.get('main')!.addWidget(new Widget());
    const d = detail();
    expect(showDetail(noDown, d)).toBe('right');
    expect(noDown.calls).toEqual(['down', 'right']);

    const mainOnly = shell(['main'], { mainHoldsOne: true });
    const e = detail();
    expect(showDetail(mainOnly, e)).toBe('main');
    expect(mainOnly.calls).toEqual(['down', 'right', 'main:split-bottom']);
  });

  it('tries the next area when one throws', () => {
    const lab = shell(['down'], { mode: 'single-document' });
    const d = detail();
    expect(showDetail(lab, d)).toBe('down');
    expect(lab.calls).toEqual(['main:split-bottom', 'down']);
  });

  it('only reveals a view that is already shown', () => {
    const nb = shell(['main', 'down'], { mainHoldsOne: true });
    const d = detail();
    nb.panels.get('down')!.addWidget(d);
    expect(showDetail(nb, d)).toBe('attached');
    expect(nb.calls).toEqual([]);
    expect(nb.activated).toEqual([d.id]);
  });

  it('says so when no area takes the view', () => {
    const none = shell([], { mainHoldsOne: true });
    const d = detail();
    expect(showDetail(none, d)).toBeNull();
    expect(none.activated).toEqual([]);
  });
});

describe('makeRoom: a down-area view gets a usable height', () => {
  function split(sizes: number[]): { split: SplitPanel; down: Panel } {
    const s = new SplitPanel({ orientation: 'vertical' });
    const main = new Widget();
    const down = new Panel();
    s.addWidget(main);
    s.addWidget(down);
    s.setRelativeSizes(sizes);
    return { split: s, down };
  }

  it('grows the part of the vertical split that holds the view', () => {
    const { split: s, down } = split([0.9, 0.1]);
    const d = detail();
    down.addWidget(d);
    makeRoom(d);
    const sizes = s.relativeSizes();
    expect(sizes[1]).toBeCloseTo(DOWN_SHARE);
    expect(sizes[0]).toBeCloseTo(1 - DOWN_SHARE);
    s.dispose();
  });

  it('keeps a size the user made larger, and ignores other layouts', () => {
    const { split: s, down } = split([0.3, 0.7]);
    const d = detail();
    down.addWidget(d);
    makeRoom(d);
    expect(s.relativeSizes()[1]).toBeCloseTo(0.7);
    s.dispose();
    const lone = detail();
    expect(() => makeRoom(lone)).not.toThrow();
  });
});
