/**
 * The syft_pm JupyterLab extension.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRunningSessionManagers } from '@jupyterlab/running';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { createRendererFactory } from './output/processRenderer';
import { LiveSettings, normalizeSettings } from './ui/settings';
import {
  addRunningSection,
  createSidebar,
  SidebarCommandIDs
} from './sidebar/plugin';

/**
 * The id of the main plugin (also the id of its settings).
 */
export const PLUGIN_ID = 'syft-pm:plugin';

/**
 * The command ids.
 */
export namespace CommandIDs {
  export const openSidebar = SidebarCommandIDs.openSidebar;
  export const stopProcess = SidebarCommandIDs.stop;
  export const restartProcess = SidebarCommandIDs.restart;
  export const showLogs = SidebarCommandIDs.showLogs;
  export const removeProcess = SidebarCommandIDs.remove;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'The syft_pm process manager: the Processes sidebar, the inline process output and a Processes section in the Running panel.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [
    ILayoutRestorer,
    ISettingRegistry,
    ICommandPalette,
    INotebookTracker,
    IRunningSessionManagers
  ],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    // The cell renderer reaches the kernel of its notebook through it.
    notebooks: INotebookTracker | null,
    running: IRunningSessionManagers | null
  ): void => {
    // The renderer goes in first, so outputs of notebooks opened while the
    // rest of the extension starts render with it (with the default settings
    // until the user's are loaded; outputs follow them from then on).
    const userSettings = new LiveSettings();
    const rendererFactory = createRendererFactory({
      tracker: notebooks,
      settings: userSettings
    });
    rendermime.addFactory(rendererFactory, rendererFactory.defaultRank);

    // The sidebar, its commands (open, stop, restart, show logs, remove) and
    // palette items, notifications and detail views: see sidebar/plugin.ts.
    const sidebar = createSidebar(app, { restorer, palette, notebooks });
    // A "Processes" section in the Running panel, fed by the sidebar's data.
    if (running) {
      addRunningSection(running, sidebar, () => {
        void app.commands.execute(SidebarCommandIDs.openSidebar);
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = (): void => {
            const current = normalizeSettings(settings.composite);
            userSettings.update(current);
            sidebar.updateSettings(current);
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            `syft-pm: could not load the settings of ${PLUGIN_ID}`,
            reason
          );
        });
    }
  }
};

export default [plugin];
