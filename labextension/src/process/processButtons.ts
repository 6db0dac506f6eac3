/**
 * The buttons of a process view: Stop, and Restart (Start once it is not
 * up). They are enabled by the process's status and by whether actions can
 * be carried out at all; one action runs at a time, and a failure is shown
 * in the view.
 */
import { Action, IProcessState, isActive, isUp } from '../live/protocol';

/**
 * Runs an action for the view; rejects with an `Error` whose message the
 * view shows.
 */
export type ActionRunner = (action: Action, name: string) => Promise<unknown>;

export class ProcessButtons {
  constructor(doc: Document, options: ProcessButtons.IOptions) {
    this._options = options;
    this._name = options.name;
    this._actions = options.actions;
    this.node = doc.createElement('div');
    this.node.className = 'syft-pm-actions';
    this._stopButton = this._button(doc, 'stop', 'Stop');
    this._restartButton = this._button(doc, 'restart', 'Restart');
    this.node.append(this._stopButton, this._restartButton);
  }

  readonly node: HTMLDivElement;

  /** How actions are carried out (null: buttons disabled). */
  set actions(actions: ActionRunner | null) {
    this._actions = actions;
  }

  /** Enable and label the buttons for `state`. */
  render(state: IProcessState | undefined): void {
    const busy = this._busy !== null;
    const can = this._actions !== null && state !== undefined && !busy;
    const status = state?.status ?? '';
    // Any active process can be asked to stop, a queued one included.
    this._stopButton.disabled = !can || !isActive(status);
    this._stopButton.title = `Stop ${this._name}`;
    const restart = isUp(status) || status === 'starting';
    this._restartButton.dataset.action = restart ? 'restart' : 'start';
    this._restartButton.textContent = restart ? 'Restart' : 'Start';
    this._restartButton.title = `${restart ? 'Restart' : 'Start'} ${this._name}`;
    this._restartButton.disabled =
      !can || status === 'stopping' || status === 'error';
    for (const button of [this._stopButton, this._restartButton]) {
      button.setAttribute(
        'aria-busy',
        String(busy && this._busy === button.dataset.action)
      );
    }
  }

  dispose(): void {
    this._disposed = true;
    this._actions = null;
  }

  private _button(
    doc: Document,
    action: string,
    label: string
  ): HTMLButtonElement {
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'syft-pm-action';
    button.dataset.action = action;
    button.textContent = label;
    button.addEventListener('click', () => {
      const which = button.dataset.action as Action | undefined;
      if (which) {
        void this._run(which);
      }
    });
    return button;
  }

  private async _run(action: Action): Promise<void> {
    const actions = this._actions;
    if (!actions || this._busy !== null) {
      return;
    }
    const { state, showError, clearError } = this._options;
    this._busy = action;
    clearError();
    this.render(state());
    try {
      await actions(action, this._name);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      showError(`Could not ${action} \u201c${this._name}\u201d: ${reason}`);
    } finally {
      this._busy = null;
      if (!this._disposed) {
        this.render(state());
      }
    }
  }

  private _options: ProcessButtons.IOptions;
  private _name: string;
  private _actions: ActionRunner | null;
  private _busy: Action | null = null;
  private _disposed = false;
  private _stopButton: HTMLButtonElement;
  private _restartButton: HTMLButtonElement;
}

export namespace ProcessButtons {
  export interface IOptions {
    /** The process acted on. */
    name: string;
    /** How actions are carried out (null: buttons disabled). */
    actions: ActionRunner | null;
    /** The process's state now. */
    state: () => IProcessState | undefined;
    /** Show a failure in the view. */
    showError: (message: string) => void;
    clearError: () => void;
  }
}
