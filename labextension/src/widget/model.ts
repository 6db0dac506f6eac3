/**
 * The part of an anywidget model the widget uses.
 *
 * anywidget hands `render` a proxy of the ipywidgets model with `get`, `set`,
 * `save_changes`, `send`, `on` and `off` (the same in JupyterLab, VS Code and
 * Colab). Only custom messages (`send`, `msg:custom`) and the synced traits
 * are used, so nothing here depends on a particular widget manager.
 */

/** A listener of `msg:custom`: the content a kernel's `widget.send(...)` sent. */
export type CustomMessageListener = (
  content: unknown,
  buffers?: unknown
) => void;

/**
 * The anywidget model as `render({ model })` receives it.
 */
export interface IWidgetModel {
  /** A synced trait (`name`, `registry_id`, `home`). */
  get(key: string): unknown;
  /** A custom message to the kernel (`ProcessWidget._on_custom` there). */
  send(content: object, callbacks?: unknown, buffers?: unknown[]): void;
  on(event: 'msg:custom', callback: CustomMessageListener): void;
  off(event: 'msg:custom', callback?: CustomMessageListener): void;
}

/**
 * What anywidget passes to `render`.
 */
export interface IRenderProps {
  model: IWidgetModel;
  el: HTMLElement;
}
