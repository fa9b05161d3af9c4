// The panel's state, kept apart from the DOM so it can be tested alone.
import { Signal, ISignal } from '@lumino/signaling';
import {
  ACTIVE_STATES,
  Card,
  Comparison,
  FINISHED_STATES,
  KernelHello,
  PROTOCOL_VERSION,
  Resources,
  RunRow
} from './protocol';
import { parseKernelMessage } from './guards';
import type { TranslationBundle } from '@jupyterlab/translation';

/** The part of a translation bundle the model uses (tests pass none). */
export type Translate = Pick<TranslationBundle, '__'>;
const untranslated: Translate = {
  __: (msgid: string, ...args: unknown[]) =>
    msgid.replace(/%(\d+)/g, (_, i) => String(args[Number(i) - 1]))
};

export type LinkStatus =
  | 'no-notebook'
  | 'no-kernel'
  | 'connecting'
  | 'not-loaded'
  | 'connected'
  | 'restarting';

export interface JobView extends Card {
  image?: PanelImage;
  imageVersion: number;
}

/** An image from the kernel (PNG bytes). */
export interface PanelImage {
  bytes: Uint8Array;
  width: number;
  height: number;
  caption: string;
}

/** A kept snapshot of an OIP job, fetched for the card's step slider. */
export interface FrameView {
  index: number;
  count: number;
  label: string;
  objective: number | null;
  image: PanelImage;
  version: number;
}

/** What a request was for, to route an error reply to where it belongs. */
interface Pending {
  action: string;
  jobId?: number;
}

/** Why the panel wants the saved runs list (again). */
export type RunsReason = 'connected' | 'job-ended' | 'shown' | 'refresh';

function bytesOf(raw: ArrayBuffer | DataView): Uint8Array {
  return raw instanceof DataView
    ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
    : new Uint8Array(raw);
}

/** Resource samples kept for the header's graphs (one every ~2 s). */
export const HISTORY_POINTS = 90;
/** The most runs one comparison overlays (the protocol's limit). */
export const MAX_COMPARED = 12;
/** The kind of a runs-list row for a folder the kernel could not read (shown whatever the kind filter). */
export const UNREADABLE_KIND = 'unreadable';
/** A frame request unanswered this long no longer holds back the next one. */
export const FRAME_STALE_MS = 15000;

export interface ResourceHistory {
  cpu: number[];
  rss: number[];
  gpus: { name: string; used: number[]; total: number | null }[];
}

const finished = new Set<string>(FINISHED_STATES);
const active = new Set<string>(ACTIVE_STATES);

export function isFinished(job: Card): boolean {
  return finished.has(job.state);
}

/** Running or pending and not already stopping: Stop still means something. */
export function isStoppable(job: Card): boolean {
  return active.has(job.state) && job.state !== 'stopping';
}

/** Active, not paused and not stopping: Pause still means something. */
export function isPausable(job: Card): boolean {
  return active.has(job.state) && job.state !== 'stopping' && job.state !== 'paused';
}

export function isPaused(job: Card): boolean {
  return job.state === 'paused';
}

/** A running training job (cl.train or an own fit): its learning rate and epochs can be adjusted. */
export function isAdjustable(job: Card): boolean {
  return (job.kind === 'train' || job.kind === 'fit') && active.has(job.state) && job.state !== 'stopping';
}

export function isActive(job: Card): boolean {
  return active.has(job.state);
}

function push(series: number[], value: number): void {
  series.push(value);
  if (series.length > HISTORY_POINTS) {
    series.splice(0, series.length - HISTORY_POINTS);
  }
}

export class PanelModel {
  constructor(private _trans: Translate = untranslated) {}

  status: LinkStatus = 'no-notebook';
  kernelLabel = '';
  hello: KernelHello | null = null;
  resources: Resources | null = null;
  history: ResourceHistory = { cpu: [], rss: [], gpus: [] };
  jobs = new Map<number, JobView>();
  notice = '';
  /** The job the header's notice is about (it expires with what it says). */
  noticeJob: number | null = null;
  /** Errors of a card's own actions (adjust, stop, ...), shown on that card. */
  cardErrors = new Map<number, string>();
  mismatch = '';
  invalidMessages = 0;
  /** When the kernel last restarted (ms since epoch), and how many cards it dropped. */
  restart: { at: number; dropped: number } | null = null;
  /** The saved runs (newest first), their folder, and whether a list came yet. */
  runs: RunRow[] = [];
  runsFolder = '';
  runsLoaded = false;
  /** How many runs the folder holds (more than `runs` when the list was cut). */
  runsTotal = 0;
  runsError = '';
  /** The kind of runs the list shows ('all' or a run kind); training runs by default. */
  runsKind = 'train';
  /** Run folders ticked for Compare. */
  selected = new Set<string>();
  /** The compared runs' histories (null: no comparison shown). */
  comparison: Comparison['runs'] | null = null;
  compareError = '';
  /** The snapshot each OIP card's slider asked for, and errors of such asks. */
  frames = new Map<number, FrameView>();
  frameErrors = new Map<number, string>();

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted when the saved runs list should be fetched: connected, a job ended. */
  get runsWanted(): ISignal<this, RunsReason> {
    return this._runsWanted;
  }

  /** Remember what request `requestId` was for (its error reply goes there);
   *  a new frame request clears the card's last frame error. */
  expect(requestId: string, action: string, jobId?: number): void {
    if (action === 'frame' && jobId !== undefined && this.frameErrors.delete(jobId)) {
      this._changed.emit();
    }
    this._pending.set(requestId, { action, jobId });
    if (this._pending.size > 200) {
      this._pending.delete(this._pending.keys().next().value as string);
    }
  }

  /** Tick or untick a run for Compare; false (nothing changes) when
   *  `MAX_COMPARED` runs are ticked already. */
  select(folder: string, on: boolean): boolean {
    if (on && !this.canSelect(folder)) {
      return false;
    }
    if (on) {
      this.selected.add(folder);
    } else {
      this.selected.delete(folder);
    }
    this._changed.emit();
    return true;
  }

  /** Whether `folder` can be ticked (or is): fewer than `MAX_COMPARED` ticked. */
  canSelect(folder: string): boolean {
    return this.selected.has(folder) || this.selected.size < MAX_COMPARED;
  }

  /** Ask for snapshot `index` of job `jobId` through `send` (false: not
   *  sent). One request per job is in flight at a time: while one is, the
   *  latest index asked for waits and is sent when the answer comes. */
  requestFrame(jobId: number, index: number, send: (index: number) => boolean): void {
    const busy = this._frameAsks.get(jobId);
    if (busy && Date.now() - busy.since < FRAME_STALE_MS) {
      busy.next = index;
      busy.send = send;
      return;
    }
    this._sendFrame(jobId, index, send);
  }

  /** The card's slider follows the newest snapshot again: forget a waiting
   *  frame request and the card's frame error. */
  followNewest(jobId: number): void {
    const busy = this._frameAsks.get(jobId);
    if (busy) {
      busy.next = null;
    }
    if (this.frameErrors.delete(jobId)) {
      this._changed.emit();
    }
  }

  /** Whether a frame request of `jobId` awaits its answer. */
  frameInFlight(jobId: number): boolean {
    return this._frameAsks.has(jobId);
  }

  private _sendFrame(jobId: number, index: number, send: (index: number) => boolean): void {
    this._frameAsks.set(jobId, { since: Date.now(), next: null, send });
    if (!send(index)) {
      this._frameAsks.delete(jobId);
    }
  }

  /** A frame request of `jobId` was answered: send the one waiting, if any. */
  private _frameAnswered(jobId: number): void {
    const busy = this._frameAsks.get(jobId);
    this._frameAsks.delete(jobId);
    if (busy && busy.next !== null) {
      this._sendFrame(jobId, busy.next, busy.send);
    }
  }

  /** Show only runs of `kind` ('all': every run, training runs first). */
  setRunsKind(kind: string): void {
    this.runsKind = kind;
    this._changed.emit();
  }

  /** The runs the list shows: of the chosen kind, training runs first (newest first within);
   *  folders the kernel could not read (kind `unreadable`) whatever the kind. */
  visibleRuns(): RunRow[] {
    const shown = this.runsKind === 'all' ? this.runs : this.runs.filter(r => r.kind === this.runsKind || r.kind === UNREADABLE_KIND);
    return [...shown.filter(r => r.kind === 'train'), ...shown.filter(r => r.kind !== 'train')];
  }

  /** Close the comparison figure. */
  clearComparison(): void {
    this.comparison = null;
    this.compareError = '';
    this._changed.emit();
  }

  setStatus(status: LinkStatus, kernelLabel?: string): void {
    if (status === 'restarting' && this.status !== 'restarting') {
      this.restart = { at: Date.now(), dropped: this.jobs.size };
    }
    this.status = status;
    if (kernelLabel !== undefined) {
      this.kernelLabel = kernelLabel;
    }
    if (status !== 'connected') {
      this.hello = null;
      this.mismatch = '';
      this._pid = null;
      if (status !== 'connecting') {
        this._forgetKernel();
      }
    }
    this._changed.emit();
  }

  setNotice(text: string): void {
    this.notice = text;
    this.noticeJob = null;
    this._changed.emit();
  }

  /** An error of a card's own action, in the panel's words, shown on the card
   *  ('' clears it). */
  setCardError(jobId: number, text: string): void {
    if (text) {
      this.cardErrors.set(jobId, text);
    } else {
      this.cardErrors.delete(jobId);
    }
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
    let wanted: RunsReason | null = null;
    switch (msg.type) {
      case 'hello':
        if (this._pid !== null && msg.pid !== this._pid) {
          // a new kernel process: whatever we show is from the old one
          this.restart = { at: Date.now(), dropped: this.jobs.size };
          this._forgetKernel();
        }
        this._pid = msg.pid;
        this.hello = msg;
        this.status = 'connected';
        wanted = msg.protocol === PROTOCOL_VERSION ? 'connected' : null;
        this.mismatch =
          msg.protocol === PROTOCOL_VERSION
            ? ''
            : this._trans.__(
                "Protocol mismatch: the kernel's cnnlive %1 speaks protocol %2, this panel speaks %3. " +
                  'Install matching versions (pip install -U cnnlive) and reload.',
                msg.version,
                msg.protocol,
                PROTOCOL_VERSION
              );
        break;
      case 'snapshot': {
        const fresh = new Map<number, JobView>();
        for (const card of msg.jobs) {
          fresh.set(card.id, this._merge(card));
        }
        this.jobs = fresh;
        this.status = 'connected';
        break;
      }
      case 'job': {
        const old = this.jobs.get(msg.job.id);
        if (old && !isFinished(old) && isFinished(msg.job)) {
          wanted = 'job-ended'; // its run folder is saved now
        }
        const view = this._merge(msg.job);
        if (this.noticeJob === view.id && old && old.state !== view.state && view.state !== 'stopping') {
          // "job 1: stop requested" expires with what it describes: the job's new state replaces it
          this.notice = this._trans.__('job %1: %2', view.id, this._trans.__(view.state));
          if (isFinished(view)) {
            this.noticeJob = null;
          }
        }
        if (isFinished(view)) {
          this.cardErrors.delete(view.id); // nothing left to act on
        }
        if (msg.image && buffers[msg.image.buffer]) {
          view.image = {
            bytes: bytesOf(buffers[msg.image.buffer]),
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
        this.cardErrors.delete(msg.id);
        if (this.noticeJob === msg.id) {
          this.notice = '';
          this.noticeJob = null;
        }
        this.frames.delete(msg.id);
        this.frameErrors.delete(msg.id);
        this._frameAsks.delete(msg.id);
        break;
      case 'runs': {
        this.runs = msg.runs;
        this.runsFolder = msg.folder;
        this.runsLoaded = true;
        this.runsTotal = Math.max(msg.total ?? 0, msg.runs.length);
        this.runsError = '';
        const present = new Set(msg.runs.map(r => r.folder));
        this.selected = new Set([...this.selected].filter(f => present.has(f)));
        break;
      }
      case 'compare':
        this.comparison = msg.runs;
        this.compareError = '';
        break;
      case 'frame': {
        const raw = buffers[msg.image.buffer];
        if (!raw) {
          this.invalidMessages += 1;
          return false;
        }
        const old = this.frames.get(msg.job_id);
        this.frames.set(msg.job_id, {
          index: msg.index,
          count: msg.count,
          label: msg.label,
          objective: msg.objective,
          image: {
            bytes: bytesOf(raw),
            width: msg.image.width,
            height: msg.image.height,
            caption: msg.image.caption ?? msg.label
          },
          version: (old?.version ?? 0) + 1
        });
        this.frameErrors.delete(msg.job_id);
        this._frameAnswered(msg.job_id);
        break;
      }
      case 'resources':
        this.resources = msg;
        push(this.history.cpu, msg.cpu_percent);
        push(this.history.rss, msg.rss_mb);
        this.history.gpus = msg.gpus.map(g => {
          const old = this.history.gpus.find(h => h.name === g.name);
          const used = old ? old.used : [];
          push(used, g.used_mb);
          return { name: g.name, used, total: g.total_mb };
        });
        break;
      case 'reply': {
        const pending = msg.request_id === null ? undefined : this._pending.get(msg.request_id);
        if (msg.request_id !== null) {
          this._pending.delete(msg.request_id);
        }
        const error = this._trans.__('Error: %1', msg.message);
        if (!msg.ok && pending?.action === 'compare') {
          this.compareError = error;
        } else if (!msg.ok && pending?.action === 'runs') {
          this.runsError = error;
        } else if (!msg.ok && pending?.action === 'frame' && pending.jobId !== undefined) {
          this.frameErrors.set(pending.jobId, error);
          this._frameAnswered(pending.jobId);
        } else if (pending?.jobId !== undefined && this.jobs.has(pending.jobId)) {
          // a card's own action: its error on the card, its news in the header until the job moves on
          if (msg.ok) {
            this.cardErrors.delete(pending.jobId);
            this.notice = msg.message;
            this.noticeJob = pending.jobId;
          } else {
            this.cardErrors.set(pending.jobId, error);
          }
        } else {
          this.notice = msg.ok ? msg.message : error;
          this.noticeJob = null;
        }
        break;
      }
    }
    if ('request_id' in msg && msg.type !== 'reply' && msg.request_id !== null) {
      this._pending.delete(msg.request_id);
    }
    this._changed.emit();
    if (wanted) {
      this._runsWanted.emit(wanted);
    }
    return true;
  }

  /** A card merged with what the panel already knows of the job: its image,
   *  metrics last seen (an epoch's val accuracy stays while batches report
   *  loss), and the note of the latest state change. */
  private _merge(card: Card): JobView {
    const old = this.jobs.get(card.id);
    const view: JobView = {
      ...card,
      image: old?.image,
      imageVersion: old?.imageVersion ?? 0
    };
    if (old) {
      view.metrics = { ...old.metrics, ...card.metrics };
      if (card.note === null && old.state === card.state) {
        view.note = old.note;
      }
      if (!card.epoch && old.epoch) {
        view.epoch = old.epoch; // an epoch's end row carries no epoch number
      }
    }
    return view;
  }

  private _forgetKernel(): void {
    this.jobs.clear();
    this.notice = ''; // a new kernel: no note of the old one's jobs may read as about the new job #1
    this.noticeJob = null;
    this.cardErrors.clear();
    this.frames.clear();
    this.frameErrors.clear();
    this._frameAsks.clear();
    this.comparison = null;
    this.compareError = '';
    this.resources = null;
    this.history = { cpu: [], rss: [], gpus: [] };
    this._pid = null;
  }

  private _pid: number | null = null;
  private _pending = new Map<string, Pending>();
  private _changed = new Signal<this, void>(this);
  private _runsWanted = new Signal<this, RunsReason>(this);
  private _frameAsks = new Map<number, { since: number; next: number | null; send: (index: number) => boolean }>();
}
