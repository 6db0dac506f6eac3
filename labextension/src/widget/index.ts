/**
 * The anywidget module of `syft_pm.kernel.widget.ProcessWidget`: the cell
 * view of one process for front ends that load no JupyterLab extension
 * (VS Code, Colab). Built on its own as a plain ES module
 * (`syft_pm/kernel/static/widget.js`, see `labextension/build-widget.mjs`).
 */
import { IRenderProps } from './model';
import { MountedWidget } from './mount';

/**
 * Draw one view of the widget's model into `el`; the returned function
 * (called by anywidget when the view goes away) releases it.
 */
export function render({ model, el }: IRenderProps): () => void {
  const mounted = new MountedWidget(model, el);
  return () => mounted.dispose();
}

export default { render };
