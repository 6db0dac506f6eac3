/**
 * Where a detail view goes in the application shell.
 *
 * JupyterLab's main area is a dock panel: a detail view splits it and sits
 * below the notebook. Notebook 7's main area holds exactly one widget (the
 * notebook of the page) and silently ignores a second one, so there the view
 * goes to the `down` panel, else to the `right` side panel. The shell is told
 * apart by what it offers, not by its URL: a shell with a document `mode`
 * (JupyterLab's, whose main area is a dock) tries the main area first; any
 * other tries `down` and `right` first, and the main area last (it would take
 * the page's own place while still empty). The first area that actually
 * takes the widget wins.
 */
import { SplitPanel, Widget } from '@lumino/widgets';

/**
 * The part of a shell the placement uses (`JupyterFrontEnd.IShell` fits).
 */
export interface IDetailShell {
  add(
    widget: Widget,
    area?: string,
    options?: { mode?: string; rank?: number; activate?: boolean }
  ): void;
  activateById(id: string): void;
  /** JupyterLab's shell: 'multiple-document' or 'single-document'. */
  readonly mode?: string;
}

interface IArea {
  area: string;
  options?: { mode?: string; rank?: number };
}

const MAIN: IArea = { area: 'main', options: { mode: 'split-bottom' } };
const DOWN: IArea = { area: 'down' };
const RIGHT: IArea = { area: 'right', options: { rank: 1000 } };

/** The areas tried, in order, in `shell`. */
export function detailAreas(shell: IDetailShell): string[] {
  return areasOf(shell).map(a => a.area);
}

function areasOf(shell: IDetailShell): IArea[] {
  return typeof shell.mode === 'string'
    ? [MAIN, DOWN, RIGHT]
    : [DOWN, RIGHT, MAIN];
}

/**
 * Add `detail` to the first area of `shell` that takes it (unless it is
 * already shown somewhere), then reveal it. Returns the area it is in, or
 * null when no area took it (a shell of some other kind).
 */
export function showDetail(shell: IDetailShell, detail: Widget): string | null {
  let where: string | null = detail.parent ? 'attached' : null;
  if (!where) {
    for (const { area, options } of areasOf(shell)) {
      try {
        shell.add(detail, area, options);
      } catch {
        // An area this shell does not have.
        continue;
      }
      // A shell that ignores the widget leaves it without a parent.
      if (detail.parent) {
        where = area;
        break;
      }
    }
  }
  if (where) {
    shell.activateById(detail.id);
    if (where === 'down') {
      makeRoom(detail);
    }
  }
  return where;
}

/** The share of a vertical split a down-area detail view gets at least. */
export const DOWN_SHARE = 0.4;

/**
 * Give a view in the down area a usable height: Notebook 7 opens that area
 * a few lines tall, too little for a log. The nearest vertical split above
 * the view is resized so the part holding it gets `DOWN_SHARE`, only when it
 * has less (a size the user chose is kept).
 */
export function makeRoom(detail: Widget): void {
  let child: Widget = detail;
  let parent = detail.parent;
  while (parent && !(parent instanceof SplitPanel)) {
    child = parent;
    parent = parent.parent;
  }
  if (!parent || parent.orientation !== 'vertical') {
    return;
  }
  const index = parent.widgets.indexOf(child);
  const sizes = parent.relativeSizes();
  const total = sizes.reduce((a, b) => a + b, 0);
  if (index < 0 || total <= 0 || sizes[index] / total >= DOWN_SHARE) {
    return;
  }
  const rest = (1 - DOWN_SHARE) / Math.max(1, sizes.length - 1);
  parent.setRelativeSizes(
    sizes.map((_, i) => (i === index ? DOWN_SHARE : rest))
  );
}
