/**
 * What the sidebar's commands, rows and detail views do to a process, by
 * name or row key: find it (waiting briefly for one that was only just
 * started), stop, restart or start it, and remove it after asking. Failures
 * are shown in the panel and rethrown.
 */
import { ProcessFleet } from './processFleet';
import { Action, isActive } from '../live/protocol';
import { IProcessRow } from './model';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function defaultConfirm(title: string, body: string): Promise<boolean> {
  return typeof window !== 'undefined' && window.confirm(`${title}\n\n${body}`);
}

export class ProcessActions {
  constructor(options: ProcessActions.IOptions) {
    this._options = options;
    this._fleet = options.fleet;
  }

  /** The row of a process name or row key (the selected row by default). */
  resolve(nameOrKey: string | null | undefined): IProcessRow | undefined {
    if (!nameOrKey) {
      const key = this._options.selected();
      return key === null ? undefined : this._fleet.row(key);
    }
    return this._fleet.row(nameOrKey) ?? this._fleet.rowByName(nameOrKey);
  }

  /**
   * The row of a process, waiting up to `timeoutMs` for it to arrive (a
   * command issued right after a start can beat the websocket's delta).
   */
  whenKnown(
    nameOrKey: string | null | undefined,
    timeoutMs = 5000
  ): Promise<IProcessRow | undefined> {
    const row = this.resolve(nameOrKey);
    if (row || !nameOrKey || this._options.isDisposed()) {
      return Promise.resolve(row);
    }
    return new Promise(resolve => {
      const done = (found: IProcessRow | undefined) => {
        clearTimeout(timer);
        this._fleet.rowsChanged.disconnect(check);
        resolve(found);
      };
      const check = () => {
        const found = this.resolve(nameOrKey);
        if (found) {
          done(found);
        }
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this._fleet.rowsChanged.connect(check);
    });
  }

  /**
   * Stop, restart or start a process (the selected one by default); shows
   * failures in the panel and rethrows them.
   */
  async perform(
    nameOrKey: string | null | undefined,
    action: Exclude<Action, 'remove'>
  ): Promise<void> {
    const row = await this.whenKnown(nameOrKey);
    if (!row) {
      const error = new Error(`no process ${nameOrKey ?? '(none selected)'}`);
      this._options.flash(`Could not ${action}: ${error.message}`, true);
      throw error;
    }
    try {
      await this._fleet.perform(row.key, action);
    } catch (error) {
      this._options.flash(
        `Could not ${action} ${row.name}: ${errorText(error)}`,
        true
      );
      throw error;
    }
  }

  /**
   * Ask, then remove a process (stopping it first if it runs). Resolves to
   * whether it was removed.
   */
  async remove(nameOrKey: string | null | undefined): Promise<boolean> {
    const row = await this.whenKnown(nameOrKey);
    if (!row) {
      return false;
    }
    const running = isActive(row.state.status);
    const confirm = this._options.confirm ?? defaultConfirm;
    const ok = await confirm(
      `Remove ${row.name}?`,
      `${running ? `${row.name} is ${row.state.status}: it will be stopped first. ` : ''}Its registry entry and its logs are deleted; this cannot be undone.`,
      'Remove'
    );
    if (!ok) {
      return false;
    }
    try {
      await this._fleet.perform(row.key, 'remove', { force: running });
    } catch (error) {
      this._options.flash(
        `Could not remove ${row.name}: ${errorText(error)}`,
        true
      );
      throw error;
    }
    return true;
  }

  private _options: ProcessActions.IOptions;
  private _fleet: ProcessFleet;
}

export namespace ProcessActions {
  export interface IOptions {
    /** Where the processes are. */
    fleet: ProcessFleet;
    /** The key of the selected row, if any. */
    selected: () => string | null;
    /** Whether the sidebar is gone (nothing is waited for then). */
    isDisposed: () => boolean;
    /** Show a message in the panel. */
    flash: (text: string, error?: boolean) => void;
    /** Ask the user to confirm (default: `window.confirm`). */
    confirm?: (title: string, body: string, ok: string) => Promise<boolean>;
  }
}
