/**
 * The toolbar of a log view: the search box (searches 250 ms after the last
 * key, at once on Enter; Escape leaves the search), Follow and Times, Copy
 * and Download, and a status line.
 */
import { LogStreamName } from '../live/protocol';
import { iconButton } from '../ui/icons';

interface ICheckbox {
  label: HTMLLabelElement;
  input: HTMLInputElement;
}

function checkbox(
  doc: Document,
  text: string,
  className: string,
  checked: boolean
): ICheckbox {
  const label = doc.createElement('label');
  label.className = `syft-pm-lv-toggle ${className}`;
  const input = doc.createElement('input');
  input.type = 'checkbox';
  input.checked = checked;
  label.append(input, doc.createTextNode(text));
  return { label, input };
}

export class LogToolbar {
  constructor(doc: Document, options: LogToolbar.IOptions) {
    this._options = options;
    const stream = options.stream;
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-lv-toolbar';

    const search = (this._searchInput = doc.createElement('input'));
    search.type = 'search';
    search.className = 'syft-pm-lv-search jp-mod-styled';
    search.placeholder = `Search ${stream}`;
    search.setAttribute('aria-label', `Search ${stream}`);
    search.addEventListener('input', this._onSearchInput);
    search.addEventListener('keydown', this._onSearchKey);

    this._followBox = checkbox(doc, 'Follow', 'syft-pm-lv-follow', true);
    this._followBox.input.addEventListener('change', () =>
      options.onFollow(this._followBox.input.checked)
    );
    this._timesBox = checkbox(
      doc,
      'Times',
      'syft-pm-lv-times',
      options.showTimes
    );
    this._timesBox.input.addEventListener('change', () => options.onTimes());

    const copy = iconButton(doc, 'copy', 'Copy lines', 'syft-pm-lv-copy');
    copy.addEventListener('click', () => options.onCopy());
    const download = iconButton(
      doc,
      'download',
      `Download ${stream}`,
      'syft-pm-lv-download'
    );
    download.addEventListener('click', () => options.onDownload());

    this._infoNode = doc.createElement('span');
    this._infoNode.className = 'syft-pm-lv-info';
    this._infoNode.setAttribute('aria-live', 'polite');

    this.node.append(
      search,
      this._followBox.label,
      this._timesBox.label,
      copy,
      download,
      this._infoNode
    );
  }

  readonly node: HTMLDivElement;

  /** Whether lines show their times. */
  get showTimes(): boolean {
    return this._timesBox.input.checked;
  }

  /** Show whether the view follows. */
  set following(on: boolean) {
    this._followBox.input.checked = on;
  }

  /** Show the search text (when set from outside the box). */
  showSearch(text: string): void {
    if (this._searchInput.value !== text) {
      this._searchInput.value = text;
    }
  }

  /** The status line (errors marked as such). */
  setInfo(text: string, error = false): void {
    this._infoNode.textContent = text;
    this._infoNode.classList.toggle('syft-pm-mod-error', error);
  }

  dispose(): void {
    if (this._searchTimer !== null) {
      clearTimeout(this._searchTimer);
      this._searchTimer = null;
    }
  }

  private _onSearchInput = (): void => {
    if (this._searchTimer !== null) {
      clearTimeout(this._searchTimer);
    }
    this._searchTimer = setTimeout(() => {
      this._searchTimer = null;
      this._options.onSearch(this._searchInput.value.trim());
    }, 250);
  };

  private _onSearchKey = (event: KeyboardEvent): void => {
    if (event.key === 'Enter') {
      if (this._searchTimer !== null) {
        clearTimeout(this._searchTimer);
        this._searchTimer = null;
      }
      this._options.onSearch(this._searchInput.value.trim());
    } else if (event.key === 'Escape') {
      this._options.onSearch('');
    }
  };

  private _options: LogToolbar.IOptions;
  private _searchInput: HTMLInputElement;
  private _followBox: ICheckbox;
  private _timesBox: ICheckbox;
  private _infoNode: HTMLSpanElement;
  private _searchTimer: ReturnType<typeof setTimeout> | null = null;
}

export namespace LogToolbar {
  export interface IOptions {
    stream: LogStreamName;
    /** Whether the Times box starts checked. */
    showTimes: boolean;
    /** Search for this text ('' leaves the search). */
    onSearch: (text: string) => void;
    /** The user checked or unchecked Follow. */
    onFollow: (on: boolean) => void;
    /** The user checked or unchecked Times. */
    onTimes: () => void;
    onCopy: () => void;
    onDownload: () => void;
  }
}
