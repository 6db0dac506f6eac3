/**
 * The inline cell output of a process handle: a renderer for
 * `application/vnd.syft-pm.process+json`.
 *
 * The bundle is only a reference (registry id + name); the live state comes
 * from the store later. Until then the status is `unknown`.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { displayStatus, statusClass } from './format';
import { parseProcessReference } from './reference';
import {
  DisplayStatus,
  IProcessReference,
  PROCESS_MIME_TYPE,
  UNKNOWN_STATUS
} from './types';

/**
 * The CSS class of the renderer's root element.
 */
export const PROCESS_CLASS = 'syft-pm-process';

/**
 * A widget that renders one process reference.
 */
export class ProcessRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass(PROCESS_CLASS);
    this.node.dataset.status = UNKNOWN_STATUS;
  }

  /**
   * The reference rendered, or null when the bundle was not valid.
   */
  get reference(): IProcessReference | null {
    return this._reference;
  }

  /**
   * The status shown.
   */
  get status(): DisplayStatus {
    return this._status;
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const parsed = parseProcessReference(model.data[this._mimeType]);
    const doc = this.node.ownerDocument;
    this.node.textContent = '';
    this._statusNode = null;

    if (!parsed.ok) {
      this._reference = null;
      delete this.node.dataset.processName;
      this._status = UNKNOWN_STATUS;
      this.node.dataset.status = UNKNOWN_STATUS;
      const error = doc.createElement('div');
      error.className = 'syft-pm-error';
      error.textContent = `Cannot show this process: ${parsed.error}`;
      this.node.appendChild(error);
      return Promise.resolve();
    }

    const reference = parsed.value;
    this._reference = reference;
    this.node.dataset.processName = reference.name;
    this.node.title = `${reference.name} (registry ${reference.home})`;

    const header = doc.createElement('div');
    header.className = 'syft-pm-process-header';

    const name = doc.createElement('span');
    name.className = 'syft-pm-process-name';
    name.textContent = reference.name;

    const status = doc.createElement('span');
    this._statusNode = status;

    header.append(name, status);
    this.node.appendChild(header);
    this.setStatus(this._status);
    return Promise.resolve();
  }

  /**
   * Show a new status (anything unrecognised shows as `unknown`).
   */
  setStatus(status: string): void {
    const shown = displayStatus(status);
    this._status = shown;
    this.node.dataset.status = shown;
    if (this._statusNode) {
      this._statusNode.className = `syft-pm-status ${statusClass(shown)}`;
      this._statusNode.textContent = shown;
    }
  }

  private _mimeType: string;
  private _reference: IProcessReference | null = null;
  private _status: DisplayStatus = UNKNOWN_STATUS;
  private _statusNode: HTMLSpanElement | null = null;
}

/**
 * The renderer factory; `defaultRank` 0 puts it ahead of `text/html` (50).
 */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [PROCESS_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new ProcessRenderer(options)
};
