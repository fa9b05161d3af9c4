// The panel's state, kept apart from the DOM so it can be tested alone.
import { Signal, ISignal } from '@lumino/signaling';
import { PROTOCOL_VERSION, Card, KernelHello, Resources } from './protocol';
import { parseKernelMessage } from './guards';

export type LinkStatus =
  | 'no-notebook'
  | 'no-kernel'
  | 'connecting'
  | 'not-loaded'
  | 'connected'
  | 'restarting';

export interface JobView extends Card {
  image?: { bytes: Uint8Array; width: number; height: number; caption: string };
  imageVersion: number;
}

export class PanelModel {
  status: LinkStatus = 'no-notebook';
  kernelLabel = '';
  hello: KernelHello | null = null;
  resources: Resources | null = null;
  jobs = new Map<number, JobView>();
  notice = '';
  mismatch = '';
  invalidMessages = 0;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  setStatus(status: LinkStatus, kernelLabel?: string): void {
    this.status = status;
    if (kernelLabel !== undefined) {
      this.kernelLabel = kernelLabel;
    }
    if (status !== 'connected') {
      this.hello = null;
      this.mismatch = '';
      if (status !== 'connecting') {
        this.jobs.clear();
        this.resources = null;
      }
    }
    this._changed.emit();
  }

  setNotice(text: string): void {
    this.notice = text;
    this._changed.emit();
  }

  /** Apply one message from the kernel; returns false (and changes nothing)
   *  when it does not follow the protocol. */
  apply(data: unknown, buffers: ArrayBuffer[] | DataView[] = []): boolean {
    const msg = parseKernelMessage(data);
    if (msg === null) {
      this.invalidMessages += 1;
      return false;
    }
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        this.status = 'connected';
        this.mismatch =
          msg.protocol === PROTOCOL_VERSION
            ? ''
            : `Protocol mismatch: the kernel's cnnlive ${msg.version} speaks protocol ${msg.protocol}, ` +
              `this panel speaks ${PROTOCOL_VERSION}. Install matching versions (pip install -U cnnlive) and reload.`;
        break;
      case 'snapshot': {
        const fresh = new Map<number, JobView>();
        for (const card of msg.jobs) {
          const old = this.jobs.get(card.id);
          fresh.set(card.id, {
            ...card,
            image: old?.image,
            imageVersion: old?.imageVersion ?? 0
          });
        }
        this.jobs = fresh;
        this.status = 'connected';
        break;
      }
      case 'job': {
        const old = this.jobs.get(msg.job.id);
        const view: JobView = {
          ...msg.job,
          image: old?.image,
          imageVersion: old?.imageVersion ?? 0
        };
        if (msg.image && buffers[msg.image.buffer]) {
          const raw = buffers[msg.image.buffer];
          const bytes =
            raw instanceof DataView
              ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
              : new Uint8Array(raw);
          view.image = {
            bytes,
            width: msg.image.width,
            height: msg.image.height,
            caption: msg.image.caption ?? ''
          };
          view.imageVersion += 1;
        }
        this.jobs.set(view.id, view);
        break;
      }
      case 'removed':
        this.jobs.delete(msg.id);
        break;
      case 'resources':
        this.resources = msg;
        break;
      case 'reply':
        this.notice = msg.ok ? msg.message : `Error: ${msg.message}`;
        break;
    }
    this._changed.emit();
    return true;
  }

  private _changed = new Signal<this, void>(this);
}
