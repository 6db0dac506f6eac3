/**
 * The sidebar's toolbar: the search box and the status, origin and sort
 * selects. It reports what the user changes and shows the query it is given;
 * the query itself lives in the sidebar.
 */
import { IListQuery, SORT_CHOICES, SortKey, STATUS_FILTERS } from './model';

/** One option of a select. */
export interface IChoice {
  value: string;
  label: string;
}

export class SidebarToolbar {
  constructor(doc: Document, options: SidebarToolbar.IOptions) {
    const onChange = options.onChange;
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-toolbar';
    this._searchInput = doc.createElement('input');
    this._searchInput.type = 'search';
    this._searchInput.className = 'syft-pm-search jp-mod-styled';
    this._searchInput.placeholder = 'Search name, command, port, label\u2026';
    this._searchInput.setAttribute('aria-label', 'Search processes');
    this._searchInput.addEventListener('input', () =>
      onChange({ text: this._searchInput.value })
    );
    const filters = doc.createElement('div');
    filters.className = 'syft-pm-filters';
    this._statusSelect = select(
      doc,
      'syft-pm-filter-status',
      'Filter by status',
      STATUS_FILTERS
    );
    this._statusSelect.addEventListener('change', () =>
      onChange({ status: this._statusSelect.value })
    );
    this._originSelect = select(
      doc,
      'syft-pm-filter-origin',
      'Filter by origin',
      options.origins
    );
    this._originSelect.addEventListener('change', () =>
      onChange({ origin: this._originSelect.value })
    );
    this._sortSelect = select(doc, 'syft-pm-sort', 'Sort by', SORT_CHOICES);
    this._sortSelect.addEventListener('change', () =>
      onChange({ sort: this._sortSelect.value as SortKey })
    );
    filters.append(this._statusSelect, this._originSelect, this._sortSelect);
    this.node.append(this._searchInput, filters);
  }

  readonly node: HTMLDivElement;

  /** Show the parts of a query that were set. */
  show(query: Partial<IListQuery>): void {
    if (query.text !== undefined && this._searchInput.value !== query.text) {
      this._searchInput.value = query.text;
    }
    if (query.status !== undefined) {
      this._statusSelect.value = query.status;
    }
    if (query.origin !== undefined) {
      this._ensureOriginChoice(query.origin);
      this._originSelect.value = query.origin;
    }
    if (query.sort !== undefined) {
      this._sortSelect.value = query.sort;
    }
  }

  /** Offer these origins (the current one stays, even if none matches). */
  setOriginChoices(choices: IChoice[], current: string): void {
    const signature = choices.map(c => c.value).join('\n');
    if (signature === this._originSignature) {
      return;
    }
    this._originSignature = signature;
    fillSelect(this._originSelect, choices);
    if (!choices.some(c => c.value === current)) {
      this._ensureOriginChoice(current);
    }
    this._originSelect.value = current;
  }

  private _ensureOriginChoice(value: string): void {
    const options = [...this._originSelect.options];
    if (!options.some(o => o.value === value)) {
      const doc = this._originSelect.ownerDocument;
      const option = doc.createElement('option');
      option.value = value;
      option.textContent = value.replace(/^(notebook|kernel):/, '');
      this._originSelect.appendChild(option);
    }
  }

  private _originSignature = '';
  private _searchInput: HTMLInputElement;
  private _statusSelect: HTMLSelectElement;
  private _originSelect: HTMLSelectElement;
  private _sortSelect: HTMLSelectElement;
}

export namespace SidebarToolbar {
  export interface IOptions {
    /** The origins offered at first. */
    origins: readonly IChoice[];
    /** The user changed a part of the query. */
    onChange: (query: Partial<IListQuery>) => void;
  }
}

function select(
  doc: Document,
  className: string,
  label: string,
  choices: readonly IChoice[]
): HTMLSelectElement {
  const el = doc.createElement('select');
  el.className = `${className} jp-mod-styled`;
  el.setAttribute('aria-label', label);
  el.title = label;
  fillSelect(el, choices);
  return el;
}

function fillSelect(el: HTMLSelectElement, choices: readonly IChoice[]): void {
  const doc = el.ownerDocument;
  el.textContent = '';
  for (const choice of choices) {
    const option = doc.createElement('option');
    option.value = choice.value;
    option.textContent = choice.label;
    el.appendChild(option);
  }
}
