// Connects the panel model to one kernel through the 'cnnlive' comm.
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { PanelModel } from './model';
import { Action, RequestParams, makeHello, makeRequest } from './guards';

export const TARGET = 'cnnlive';

export class KernelLink {
  /** `onAnnounce` runs when the kernel opens the comm itself, which it does
   *  when a notebook runs %load_ext cnnlive. */
  constructor(
    readonly kernel: Kernel.IKernelConnection,
    private _model: PanelModel,
    private _trans: TranslationBundle = nullTranslator.load('cnnlive'),
    private _onAnnounce: () => void = () => undefined
  ) {
    kernel.registerCommTarget(TARGET, this._onKernelOpen);
    kernel.statusChanged.connect(this._onStatus, this);
    this._model.setStatus('connecting', kernel.name);
    void this.open();
  }

  get connected(): boolean {
    return this._comm !== null && !this._comm.isDisposed;
  }

  /** Try to open a comm from the panel (works when cnnlive is loaded). */
  async open(): Promise<void> {
    if (this._disposed || this.connected) {
      return;
    }
    const comm = this.kernel.createComm(TARGET);
    this._attach(comm);
    try {
      await comm.open(makeHello() as any).done;
    } catch {
      // the kernel closes the comm when cnnlive is not loaded
    }
  }

  /** Send a request; returns its id (null when not connected). Throws when
   *  the request would not follow the protocol. */
  request(action: Action, jobId?: number, params: RequestParams = {}): string | null {
    if (!this._comm || this._comm.isDisposed) {
      this._model.setNotice(this._trans.__('Not connected: run %load_ext cnnlive in the notebook.'));
      return null;
    }
    const req = makeRequest(action, jobId, params);
    this._comm.send(req as any);
    this._model.expect(req.request_id, action, jobId);
    if (action === 'runs' || action === 'compare' || action === 'frame') {
      return req.request_id;
    }
    if (action !== 'snapshot' && this._model.hello && !this._model.hello.subshells) {
      const busy = this.kernel.status === 'busy';
      if (busy) {
        this._model.setNotice(
          this._trans.__(
            '%1 queued: this kernel handles it when the running cell ends (ipykernel 7 handles it at once).',
            action
          )
        );
      }
    }
    return req.request_id;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.kernel.statusChanged.disconnect(this._onStatus, this);
    try {
      this.kernel.removeCommTarget(TARGET, this._onKernelOpen);
    } catch {
      // kernel already gone
    }
    if (this._comm && !this._comm.isDisposed) {
      try {
        this._comm.dispose();
      } catch {
        // ignore
      }
    }
    this._comm = null;
  }

  private _onKernelOpen = (
    comm: Kernel.IComm,
    msg: KernelMessage.ICommOpenMsg
  ): void => {
    this._attach(comm);
    this._model.apply(msg.content.data, (msg.buffers ?? []) as ArrayBuffer[]);
    this._onAnnounce();
  };

  private _attach(comm: Kernel.IComm): void {
    if (this._comm && this._comm !== comm && !this._comm.isDisposed) {
      try {
        this._comm.dispose();
      } catch {
        // ignore
      }
    }
    this._comm = comm;
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
      this._model.apply(msg.content.data, (msg.buffers ?? []) as ArrayBuffer[]);
    };
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
        if (!this._disposed) {
          this._model.setStatus('not-loaded');
        }
      }
    };
  }

  private _onStatus(_: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._comm = null;
      this._model.setStatus('restarting');
    } else if (status === 'idle' && this._model.status === 'restarting') {
      this._model.setStatus('not-loaded');
      void this.open();
    } else if (status === 'dead') {
      this._comm = null;
      this._model.setStatus('no-kernel');
    }
  }

  private _comm: Kernel.IComm | null = null;
  private _disposed = false;
}
