/**
 * Wires the Processes sidebar into JupyterLab: the left area and the layout
 * restorer, the active notebook, the commands and the palette, dialogs,
 * notifications, the clipboard and the shell area for detail views.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRunningSessionManagers } from '@jupyterlab/running';
import { IDisposable } from '@lumino/disposable';

import { ProcessDetail } from './detail/processDetail';
import { IDetailShell, showDetail } from './detailArea';
import { processIcon } from './processIcon';
import { INoticeAction, INotifier } from './notifications';
import { detectServerProxy } from './ports';
import { LogStreamName, LOG_STREAMS } from '../live/protocol';
import { ProcessSidebar, SIDEBAR_ID } from './processSidebar';
import { firstData, RunningProcesses } from './runningProcesses';

/**
 * The sidebar's commands. Each process command takes `{name}`; without it,
 * it acts on the selected row, else asks which process.
 */
export namespace SidebarCommandIDs {
  export const openSidebar = 'syft-pm:open-sidebar';
  export const stop = 'syft-pm:stop';
  export const restart = 'syft-pm:restart';
  export const showLogs = 'syft-pm:show-logs';
  export const remove = 'syft-pm:remove';
}

/**
 * The rank of the sidebar in the left area.
 */
const SIDEBAR_RANK = 200;

const CATEGORY = 'Process Manager';

function notificationOptions(
  notice: { type: string },
  actions: INoticeAction[]
) {
  return {
    // Failures stay until dismissed; warnings fade (both stay in the
    // notification center).
    autoClose: notice.type === 'error' ? (false as const) : 8000,
    actions: actions.map(a => ({
      label: a.label,
      callback: () => a.callback()
    }))
  };
}

const notifier: INotifier = {
  emit: (notice, actions) =>
    Notification.emit(
      notice.message,
      notice.type,
      notificationOptions(notice, actions)
    ),
  update: (id, notice, actions) =>
    Notification.update({
      id,
      message: notice.message,
      type: notice.type,
      ...notificationOptions(notice, actions)
    })
};

async function confirm(
  title: string,
  body: string,
  ok: string
): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: ok })]
  });
  return result.button.accept;
}

/**
 * Create the sidebar, add it to the left area, and register its commands.
 */
export function createSidebar(
  app: JupyterFrontEnd,
  options: {
    restorer: ILayoutRestorer | null;
    palette: ICommandPalette | null;
    notebooks: INotebookTracker | null;
  }
): ProcessSidebar {
  const { restorer, palette, notebooks } = options;
  const sidebar = new ProcessSidebar({
    notifier,
    confirm,
    copy: text => Clipboard.copyToSystem(text),
    openPath: path => {
      void app.commands.execute('docmanager:open', { path });
    },
    addDetail: (detail: ProcessDetail) => {
      // Below the notebook in JupyterLab; Notebook 7's main area holds only
      // its page's document, so there it opens in the down (or right) area.
      if (showDetail(app.shell as IDetailShell, detail) === null) {
        console.warn(
          `syft-pm: this application shell has no area for the details of ${detail.title.label}`
        );
      }
    },
    detectProxy: () => detectServerProxy(),
    baseUrl: PageConfig.getBaseUrl(),
    serverRoot: PageConfig.getOption('serverRoot') || null,
    detailIcon: processIcon
  });
  sidebar.title.icon = processIcon;
  app.shell.add(sidebar, 'left', { rank: SIDEBAR_RANK });
  if (restorer) {
    restorer.add(sidebar, SIDEBAR_ID);
  }

  if (notebooks) {
    trackActiveNotebook(sidebar, notebooks);
  }
  addCommands(app, sidebar, palette);
  return sidebar;
}

/**
 * Add a "Processes" section to the Running panel, fed by the sidebar's fleet
 * (no connection of its own); stopping there goes through the sidebar, which
 * shows a failure.
 */
export function addRunningSection(
  managers: IRunningSessionManagers,
  sidebar: ProcessSidebar,
  showSidebar?: () => void
): IDisposable {
  const section = new RunningProcesses({
    fleet: sidebar.fleet,
    open: key => {
      sidebar.openDetail(key);
    },
    stop: key => sidebar.perform(key, 'stop'),
    showAll: showSidebar,
    icon: processIcon
  });
  // Added once there is something to show (see runningProcesses.ts).
  let added: IDisposable | null = null;
  void firstData(sidebar.fleet).then(() => {
    if (!section.isDisposed) {
      added = managers.add(section);
    }
  });
  return {
    get isDisposed() {
      return section.isDisposed;
    },
    dispose: () => {
      added?.dispose();
      section.dispose();
    }
  };
}

/**
 * Keep the sidebar on the active notebook: its path and its kernel.
 */
function trackActiveNotebook(
  sidebar: ProcessSidebar,
  notebooks: INotebookTracker
): void {
  let current: NotebookPanel | null = null;
  const update = (): void => {
    if (sidebar.isDisposed) {
      return;
    }
    const panel = current;
    if (!panel || panel.isDisposed) {
      sidebar.setActiveNotebook(null);
      return;
    }
    sidebar.setActiveNotebook({
      path: panel.context.path,
      kernel: panel.sessionContext.session?.kernel ?? null
    });
  };
  const follow = (): void => {
    if (current) {
      current.sessionContext.kernelChanged.disconnect(update);
      current.context.pathChanged.disconnect(update);
    }
    current = notebooks.currentWidget;
    if (current) {
      current.sessionContext.kernelChanged.connect(update);
      current.context.pathChanged.connect(update);
      // The session (and its kernel) may come after the panel.
      void current.sessionContext.ready.then(update, () => undefined);
    }
    update();
  };
  notebooks.currentChanged.connect(follow);
  follow();
}

function addCommands(
  app: JupyterFrontEnd,
  sidebar: ProcessSidebar,
  palette: ICommandPalette | null
): void {
  const { commands } = app;
  const nameOf = (args: Record<string, unknown>): string | null =>
    typeof args.name === 'string' && args.name ? args.name : null;

  /** The process a command acts on: its argument, the selection, or ask. */
  const target = async (
    args: Record<string, unknown>,
    verb: string
  ): Promise<string | null> => {
    const name = nameOf(args) ?? sidebar.selectedName;
    if (name) {
      return name;
    }
    const names = [...sidebar.fleet.rows.values()].map(r => r.name).sort();
    if (names.length === 0) {
      Notification.info('There are no processes yet.', { autoClose: 4000 });
      return null;
    }
    const result = await InputDialog.getItem({
      title: `${verb} which process?`,
      items: names,
      current: 0
    });
    return result.button.accept ? result.value : null;
  };

  const label = (verb: string) => (args: Record<string, unknown>) => {
    const name = nameOf(args);
    if (name) {
      return `${verb} ${name}`;
    }
    return args.isPalette ? `${verb} Process\u2026` : verb;
  };

  commands.addCommand(SidebarCommandIDs.openSidebar, {
    label: 'Show Process Manager',
    caption: 'Show the Processes sidebar',
    icon: args => (args.isPalette ? undefined : processIcon),
    execute: () => {
      app.shell.activateById(sidebar.id);
    }
  });

  commands.addCommand(SidebarCommandIDs.stop, {
    label: label('Stop'),
    caption: 'Stop a process and its whole process tree',
    execute: async args => {
      const name = await target(args, 'Stop');
      if (name) {
        await sidebar.perform(name, 'stop');
      }
    }
  });

  commands.addCommand(SidebarCommandIDs.restart, {
    label: label('Restart'),
    caption: 'Stop a process and start it again with the same configuration',
    execute: async args => {
      const name = await target(args, 'Restart');
      if (name) {
        await sidebar.perform(name, 'restart');
      }
    }
  });

  commands.addCommand(SidebarCommandIDs.showLogs, {
    label: label('Show Logs of'),
    caption: 'Open the details and logs of a process',
    execute: async args => {
      const name = await target(args, 'Show the logs of');
      if (!name) {
        return;
      }
      const stream = (LOG_STREAMS as readonly string[]).includes(
        args.stream as string
      )
        ? (args.stream as LogStreamName)
        : undefined;
      await sidebar.showLogs(name, stream);
    }
  });

  commands.addCommand(SidebarCommandIDs.remove, {
    label: label('Remove'),
    caption: 'Remove a process entry and its logs (asks first)',
    execute: async args => {
      const name = await target(args, 'Remove');
      if (name) {
        await sidebar.remove(name);
      }
    }
  });

  if (palette) {
    for (const command of [
      SidebarCommandIDs.openSidebar,
      SidebarCommandIDs.stop,
      SidebarCommandIDs.restart,
      SidebarCommandIDs.showLogs,
      SidebarCommandIDs.remove
    ]) {
      palette.addItem({ command, category: CATEGORY });
    }
  }
}
