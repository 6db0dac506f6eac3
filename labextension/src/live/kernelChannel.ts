/**
 * Protocol v1 over the kernel's comm target `syft_pm`.
 */
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { JSONObject } from '@lumino/coreutils';

import { BaseChannel, ISubscriptionOptions } from './channel';
import { ClientMessage } from './protocol';

/**
 * The kernel's comm target `syft_pm`. Closes for good when the kernel
 * restarts or dies: the new kernel has not imported syft_pm, so reopening is
 * the caller's decision (usually: switch to the server channel).
 */
export class KernelChannel extends BaseChannel {
  readonly kind = 'kernel' as const;

  constructor(
    readonly kernel: Kernel.IKernelConnection,
    readonly options: ISubscriptionOptions = {}
  ) {
    super();
    kernel.statusChanged.connect(this._onKernelStatus, this);
    kernel.disposed.connect(this._onKernelGone, this);
  }

  open(): void {
    if (this.isDisposed || this.kernel.isDisposed) {
      return;
    }
    this._closeComm();
    let comm: Kernel.IComm;
    try {
      comm = this.kernel.createComm('syft_pm');
    } catch {
      this.setStatus('closed');
      return;
    }
    this._comm = comm;
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
      if (this._comm === comm) {
        this.setStatus('open');
        this.deliver(msg.content.data);
      }
    };
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
        this.setStatus('closed');
      }
    };
    this.setStatus('connecting');
    const data: JSONObject = {};
    if (this.options.names) {
      data.names = this.options.names;
    }
    if (this.options.logLines !== undefined) {
      data.log_lines = this.options.logLines;
    }
    if (this.options.logs === false) {
      data.logs = false;
    }
    if (this.options.home) {
      data.home = this.options.home;
    }
    // A kernel without the target (syft_pm not imported) answers with a
    // comm_close, which lands in onClose above.
    comm.open(data).done.catch(() => {
      if (this._comm === comm) {
        this._comm = null;
        this.setStatus('closed');
      }
    });
  }

  send(msg: ClientMessage): boolean {
    if (!this._comm || this.status === 'closed') {
      return false;
    }
    this._comm.send(msg as unknown as JSONObject);
    return true;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.kernel.statusChanged.disconnect(this._onKernelStatus, this);
    this.kernel.disposed.disconnect(this._onKernelGone, this);
    this._closeComm();
    super.dispose();
  }

  private _onKernelStatus(_: unknown, status: Kernel.Status): void {
    if (
      status === 'restarting' ||
      status === 'autorestarting' ||
      status === 'dead'
    ) {
      this._comm = null;
      this.setStatus('closed');
    }
  }

  private _onKernelGone(): void {
    this._comm = null;
    this.setStatus('closed');
  }

  private _closeComm(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm && !comm.isDisposed && !this.kernel.isDisposed) {
      try {
        comm.close();
      } catch {
        // The kernel is already gone; nothing to close.
      }
    }
  }

  private _comm: Kernel.IComm | null = null;
}
