// The "CNN Live" side panel: a header (kernel link, CPU/RAM/GPU graphs) and
// one card per job. Cards act through the plugin's commands.
import { Widget } from '@lumino/widgets';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  FrameView,
  JobView,
  PanelModel,
  isActive,
  isAdjustable,
  isFinished,
  isPausable,
  isPaused,
  isStoppable
} from './model';
import { RequestParams } from './guards';
import { PanelSettings } from './settings';
import { formatElapsed, formatMegabytes, formatMetrics, formatValue, sparklinePath } from './format';
import { RunsActions, RunsView } from './runs';
import { SnapshotSlider } from './slider';

/** What a card's buttons do (the plugin runs its commands). */
export interface CardActions {
  stop(jobId: number): void;
  cancel(jobId: number): void;
  remove(jobId: number): void;
  pause(jobId: number): void;
  resume(jobId: number): void;
  /** Throws when the values do not make a valid request (the card shows why). */
  adjust(jobId: number, params: RequestParams): void;
  /** Stop a training job at the end of its current epoch. */
  stopAfterEpoch(jobId: number): void;
  /** Ask the kernel for kept snapshot `index` of an OIP job (null: the
   *  slider is back at the newest and follows it). */
  frame(jobId: number, index: number | null): void;
}

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = cls;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** A small line graph: label, current value, SVG sparkline. */
class Graph {
  readonly node = el('div', 'jp-cnnlive-graph');
  constructor(kind: string) {
    this.node.dataset.resource = kind;
    this._svg.setAttribute('viewBox', '0 0 80 20');
    this._svg.setAttribute('preserveAspectRatio', 'none');
    this._svg.setAttribute('class', 'jp-cnnlive-graph-svg');
    this._path.setAttribute('class', 'jp-cnnlive-graph-line');
    this._svg.append(this._path);
    const text = el('div', 'jp-cnnlive-graph-text');
    text.append(this._label, this._value);
    this.node.append(text, this._svg);
  }

  update(label: string, value: string, series: number[], lo = 0, hi?: number): void {
    this._label.textContent = label;
    this._value.textContent = value;
    this._path.setAttribute('d', sparklinePath(series, 80, 20, lo, hi));
  }

  private _label = el('span', 'jp-cnnlive-graph-label');
  private _value = el('span', 'jp-cnnlive-graph-value');
  private _svg = document.createElementNS(SVG, 'svg');
  private _path = document.createElementNS(SVG, 'path');
}

/** What is wrong with an adjust form's fields, in the panel's words ('' when nothing). */
export function adjustProblem(
  lr: string,
  epochs: string,
  lrUnreadable: boolean,
  epochsUnreadable: boolean,
  t: TranslationBundle
): string {
  if (!lr && !epochs && !lrUnreadable && !epochsUnreadable) {
    return t.__('Give a learning rate and/or the epochs in all.');
  }
  const rate = Number(lr);
  if (lrUnreadable || (lr && !(Number.isFinite(rate) && rate > 0))) {
    return t.__('The learning rate must be a number > 0, not %1.', lr || '?');
  }
  const total = Number(epochs);
  if (epochsUnreadable || (epochs && !(Number.isInteger(total) && total >= 1))) {
    return t.__('The epochs must be a whole number >= 1, not %1.', epochs || '?');
  }
  return '';
}

class CardView {
  readonly node = el('div', 'jp-cnnlive-card');
  constructor(
    private _id: number,
    private _trans: TranslationBundle,
    actions: CardActions
  ) {
    const t = _trans;
    const head = el('div', 'jp-cnnlive-card-head');
    head.append(this._title, this._state);
    this._bar.append(this._fill);
    this._bar.setAttribute('role', 'progressbar');
    const buttons = el('div', 'jp-cnnlive-buttons');
    this._stop.textContent = t.__('Stop');
    this._cancel.textContent = t.__('Cancel');
    this._remove.textContent = t.__('Remove');
    this._stop.setAttribute('aria-label', t.__('Stop'));
    this._cancel.setAttribute('aria-label', t.__('Cancel'));
    this._remove.setAttribute('aria-label', t.__('Remove'));
    this._remove.title = t.__('Remove this finished job from the panel and cl.jobs');
    this._pause.textContent = t.__('Pause');
    this._resume.textContent = t.__('Resume');
    this._pause.setAttribute('aria-label', t.__('Pause'));
    this._resume.setAttribute('aria-label', t.__('Resume'));
    this._pause.title = t.__('Pause: the job waits at its next safe point until resumed');
    this._resume.title = t.__('Resume: the paused job goes on');
    this._pause.onclick = () => actions.pause(this._id);
    this._resume.onclick = () => actions.resume(this._id);
    this._buildAdjust(actions);
    this._stopEpoch.textContent = t.__('Stop after epoch');
    this._stopEpoch.setAttribute('aria-label', t.__('Stop after epoch'));
    this._stopEpoch.title = t.__('Stop at the end of the current epoch: its full history is kept, then saved');
    this._stopEpoch.onclick = () => actions.stopAfterEpoch(this._id);
    this._buildSlider(actions);
    this._stop.onclick = () => actions.stop(this._id);
    this._cancel.onclick = () => actions.cancel(this._id);
    this._remove.onclick = () => actions.remove(this._id);
    buttons.append(this._pause, this._resume, this._stopEpoch, this._stop, this._cancel, this._remove);
    this._spark.setAttribute('viewBox', '0 0 120 28');
    this._spark.setAttribute('preserveAspectRatio', 'none');
    this._spark.setAttribute('class', 'jp-cnnlive-spark');
    this._path.setAttribute('class', 'jp-cnnlive-spark-line');
    this._spark.append(this._path);
    this._figure.append(this._img, this._caption);
    this.node.dataset.jobId = String(_id);
    this.node.append(
      head,
      this._bar,
      this._meta,
      this._note,
      this._metrics,
      this._spark,
      this._figure,
      this._timeline,
      this._log,
      this._adjust,
      this._error,
      buttons
    );
    this._error.setAttribute('role', 'alert');
  }

  /** The small form of a training card: learning rate and epochs. */
  private _buildAdjust(actions: CardActions): void {
    const t = this._trans;
    this._lr.type = 'number';
    this._lr.step = 'any';
    this._lr.min = '0';
    this._lr.placeholder = t.__('learning rate');
    this._lr.setAttribute('aria-label', t.__('Learning rate'));
    this._epochs.type = 'number';
    this._epochs.step = '1';
    this._epochs.min = '1';
    this._epochs.placeholder = t.__('epochs');
    this._epochs.setAttribute('aria-label', t.__('Epochs in all'));
    this._apply.type = 'submit';
    this._apply.textContent = t.__('Apply');
    this._apply.title = t.__('Learning rate from the next batch; epochs: the total of this run');
    this._adjust.append(
      el('span', 'jp-cnnlive-adjust-label', t.__('Adjust')),
      this._lr,
      this._epochs,
      this._apply,
      this._adjustMsg
    );
    this._adjust.noValidate = true; // the panel says what is wrong, on the card (not a cut browser tooltip)
    this._adjust.onsubmit = event => {
      event.preventDefault();
      const params: RequestParams = {};
      const lr = this._lr.value.trim();
      const epochs = this._epochs.value.trim();
      const problem = adjustProblem(lr, epochs, this._lr.validity.badInput, this._epochs.validity.badInput, t);
      if (problem) {
        this._adjustMsg.textContent = problem;
        return;
      }
      if (lr) {
        params.learning_rate = Number(lr);
      }
      if (epochs) {
        params.epochs = Number(epochs);
      }
      try {
        actions.adjust(this._id, params);
        this._adjustMsg.textContent = '';
        this._lr.value = '';
        this._epochs.value = '';
      } catch (err) {
        this._adjustMsg.textContent = t.__(
          'Give a learning rate > 0 and/or a whole number of epochs >= 1.'
        );
      }
    };
  }

  /** The step slider of an OIP card: scrubs through its kept snapshots. */
  private _buildSlider(actions: CardActions): void {
    const t = this._trans;
    this._slider.type = 'range';
    this._slider.min = '0';
    this._slider.step = '1';
    this._slider.setAttribute('aria-label', t.__('Snapshot'));
    this._slider.title = t.__('Scrub through the kept snapshots; at the right end it follows the newest');
    this._slider.oninput = () => {
      const wanted = this._scrub.move(Number(this._slider.value));
      actions.frame(this._id, wanted); // coalesced in the model: one request in flight per card
      if (wanted === null) {
        this._frameError = '';
      }
      this._showImage();
    };
    this._timeline.append(this._slider, this._frameLabel);
  }

  /** The card's image: the snapshot the slider asked for, else the newest. */
  private _showImage(): void {
    const t = this._trans;
    const job = this._job;
    if (!job) {
      return;
    }
    const frame = this._frame;
    if (frame && this._scrub.shows(frame)) {
      if (frame.version !== this._shownFrame || this._showingLive) {
        this._shownFrame = frame.version;
        this._showingLive = false;
        this._setImage(frame.image.bytes, frame.label);
        this._caption.textContent = frame.image.caption;
      }
      const objective = frame.objective === null ? '' : ` · ${t.__('objective %1', formatValue(frame.objective, 'plain'))}`;
      this._frameLabel.textContent = t.__('%1 (%2 of %3)', frame.label, frame.index + 1, frame.count) + objective;
    } else if (this._scrub.following) {
      if (job.image && (job.imageVersion !== this._shownImage || !this._showingLive)) {
        this._shownImage = job.imageVersion;
        this._showingLive = true;
        this._setImage(job.image.bytes, job.image.caption || t.__('latest image of job %1', job.id));
        this._caption.textContent = job.image.caption;
      }
      const snaps = job.snapshots;
      this._frameLabel.textContent = snaps ? t.__('%1 (newest of %2)', snaps.newest, snaps.count) : '';
    } else {
      this._frameLabel.textContent = t.__('loading snapshot %1…', (this._scrub.wanted ?? 0) + 1);
    }
    if (this._frameError && !this._scrub.following) {
      this._frameLabel.textContent = this._frameError;
    }
  }

  private _setImage(bytes: Uint8Array, alt: string): void {
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/png' }));
    if (this._url) {
      URL.revokeObjectURL(this._url);
    }
    this._url = url;
    this._img.src = url;
    this._img.alt = alt;
  }

  update(job: JobView, settings: PanelSettings, frame?: FrameView, frameError?: string, cardError?: string): void {
    this._error.textContent = cardError ?? '';
    this._error.style.display = cardError ? '' : 'none';
    this._job = job;
    this._frame = frame;
    this._frameError = frameError ?? '';
    const t = this._trans;
    this.node.dataset.state = job.state;
    this._title.textContent = `#${job.id} ${job.name}`;
    this._state.textContent = t.__(job.state);
    this._state.className = `jp-cnnlive-state jp-cnnlive-state-${job.state}`;
    const pct = job.progress === null ? null : Math.round(job.progress * 100);
    this._fill.style.width = pct === null ? '0%' : `${pct}%`;
    this._bar.setAttribute('aria-valuenow', pct === null ? '' : String(pct));
    const parts = [job.kind, formatElapsed(job.elapsed, t)];
    const epoch = job.epoch;
    if (epoch) {
      parts.push(
        epoch.total ? t.__('epoch %1 of %2', epoch.current, epoch.total) : t.__('epoch %1', epoch.current)
      );
    }
    if (pct !== null) {
      parts.push(`${pct} %`);
    }
    this._meta.textContent = parts.join(' · ');
    this._note.textContent = job.note ?? '';
    this._note.style.display = job.note ? '' : 'none';
    this._metrics.replaceChildren(
      ...formatMetrics(job.metrics, t).map(m => {
        const item = el('span', 'jp-cnnlive-metric');
        item.dataset.key = m.key;
        item.append(el('span', 'jp-cnnlive-metric-label', m.label), el('span', 'jp-cnnlive-metric-value', m.value));
        return item;
      })
    );
    this._path.setAttribute('d', sparklinePath(job.sparkline));
    this._spark.style.display = job.sparkline.length > 1 ? '' : 'none';
    const snaps = job.snapshots;
    if (snaps) {
      this.node.dataset.snapshots = String(snaps.count);
    }
    this._timeline.style.display = snaps && snaps.count > 1 ? '' : 'none';
    if (snaps) {
      const value = this._scrub.setCount(snaps.count);
      this._slider.max = String(this._scrub.max);
      this._slider.value = String(value);
    }
    this._showImage();
    this._figure.style.display = job.image || this._scrub.shows(frame) ? '' : 'none';
    const lines = settings.logLines > 0 ? job.log_tail.slice(-settings.logLines) : [];
    this._log.textContent = lines.join('\n');
    this._log.style.display = lines.length ? '' : 'none';
    const finished = isFinished(job);
    this.node.classList.toggle('jp-mod-finished', finished);
    this._stop.disabled = !isStoppable(job);
    this._cancel.disabled = !isActive(job);
    this._stop.title = finished
      ? t.__('This job has ended')
      : job.state === 'stopping'
        ? t.__('Stopping: the job ends at its next safe point')
        : t.__('Stop gracefully: the job keeps and saves what it has');
    this._cancel.title = finished ? t.__('This job has ended') : t.__('Cancel: end the job at once');
    this._remove.style.display = finished ? '' : 'none';
    const paused = isPaused(job);
    this._pause.style.display = paused || finished ? 'none' : '';
    this._pause.disabled = !isPausable(job);
    this._resume.style.display = paused ? '' : 'none';
    this._adjust.style.display = isAdjustable(job) ? '' : 'none';
    this._stopEpoch.style.display = isAdjustable(job) ? '' : 'none';
    if (job.epoch?.total) {
      this._epochs.placeholder = t.__('epochs (%1)', job.epoch.total);
    }
  }

  dispose(): void {
    if (this._url) {
      URL.revokeObjectURL(this._url);
    }
    this.node.remove();
  }

  private _title = el('span', 'jp-cnnlive-title');
  private _state = el('span', 'jp-cnnlive-state');
  private _bar = el('div', 'jp-cnnlive-progress');
  private _fill = el('div', 'jp-cnnlive-progress-fill');
  private _meta = el('div', 'jp-cnnlive-meta');
  private _note = el('div', 'jp-cnnlive-note');
  private _metrics = el('div', 'jp-cnnlive-metrics');
  private _spark = document.createElementNS(SVG, 'svg');
  private _path = document.createElementNS(SVG, 'path');
  private _figure = el('figure', 'jp-cnnlive-figure');
  private _img = el('img', 'jp-cnnlive-image');
  private _caption = el('figcaption', 'jp-cnnlive-caption');
  private _log = el('pre', 'jp-cnnlive-log');
  private _stop = el('button', 'jp-Button jp-mod-styled jp-mod-warn jp-cnnlive-stop');
  private _cancel = el('button', 'jp-Button jp-mod-styled jp-mod-reject jp-cnnlive-cancel');
  private _remove = el('button', 'jp-Button jp-mod-styled jp-cnnlive-remove');
  private _pause = el('button', 'jp-Button jp-mod-styled jp-cnnlive-pause');
  private _resume = el('button', 'jp-Button jp-mod-styled jp-mod-accept jp-cnnlive-resume');
  private _adjust = el('form', 'jp-cnnlive-adjust');
  private _lr = el('input', 'jp-cnnlive-lr');
  private _epochs = el('input', 'jp-cnnlive-epochs');
  private _apply = el('button', 'jp-Button jp-mod-styled jp-cnnlive-apply');
  private _adjustMsg = el('span', 'jp-cnnlive-adjust-msg');
  private _error = el('div', 'jp-cnnlive-card-error');
  private _stopEpoch = el('button', 'jp-Button jp-mod-styled jp-mod-warn jp-cnnlive-stop-epoch');
  private _timeline = el('div', 'jp-cnnlive-timeline');
  private _slider = el('input', 'jp-cnnlive-slider');
  private _frameLabel = el('span', 'jp-cnnlive-frame-label');
  private _job: JobView | null = null;
  private _frame: FrameView | undefined;
  private _frameError = '';
  private _scrub = new SnapshotSlider();
  private _shownImage = 0;
  private _shownFrame = 0;
  private _showingLive = false;
  private _url = '';
}

export class CnnLivePanel extends Widget {
  constructor(
    readonly model: PanelModel,
    private _trans: TranslationBundle,
    private _actions: CardActions,
    private _settings: PanelSettings,
    private _runsActions: RunsActions = { list: () => undefined, compare: () => undefined }
  ) {
    super();
    const t = _trans;
    this.id = 'cnnlive-panel';
    this.addClass('jp-cnnlive-panel');
    this.title.caption = t.__('CNN Live');
    const header = el('div', 'jp-cnnlive-header');
    const h = el('h2', 'jp-cnnlive-heading', t.__('CNN Live'));
    this._graphs.append(this._cpu.node, this._ram.node);
    header.append(h, this._status, this._graphs);
    this._banner.setAttribute('role', 'alert');
    this._restart.setAttribute('role', 'status');
    this._notice.setAttribute('aria-live', 'polite');
    this._empty.textContent = t.__(
      'No jobs yet. Start one with cl.train(...), cl.oip(...), cl.dream(...) or %cnnlive train.'
    );
    this._runs = new RunsView(model, t, this._runsActions);
    this.node.append(header, this._banner, this._restart, this._notice, this._empty, this._list, this._runs.node);
    model.changed.connect(this._schedule, this);
    this.render();
  }

  get settings(): PanelSettings {
    return this._settings;
  }

  set settings(value: PanelSettings) {
    this._settings = value;
    this.render();
  }

  /** Redraw at most `updateRate` times per second. */
  private _schedule(): void {
    if (this._timer !== null) {
      return;
    }
    const wait = this._lastRender + 1000 / this._settings.updateRate - Date.now();
    if (wait <= 0) {
      this.render();
      return;
    }
    this._timer = window.setTimeout(() => {
      this._timer = null;
      this.render();
    }, wait);
  }

  render(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
    this._lastRender = Date.now();
    const t = this._trans;
    const m = this.model;
    const kernel = m.kernelLabel ? t.__('Kernel (%1)', m.kernelLabel) : t.__('Kernel');
    this._status.textContent =
      m.status === 'connected' && m.hello
        ? t.__('%1: connected · cnnlive %2 · protocol %3', kernel, m.hello.version, m.hello.protocol)
        : `${kernel}: ${this._statusText()}`;
    this._status.dataset.status = m.status;
    this._renderResources();
    this._banner.textContent = m.mismatch;
    this._banner.style.display = m.mismatch ? '' : 'none';
    const r = m.restart;
    this._restart.textContent = r
      ? t._n(
          'The kernel restarted at %2: %1 job of the old kernel is gone.',
          'The kernel restarted at %2: %1 jobs of the old kernel are gone.',
          r.dropped,
          new Date(r.at).toLocaleTimeString()
        )
      : '';
    this._restart.style.display = r ? '' : 'none';
    this._notice.textContent = m.notice;
    for (const [id, card] of this._cards) {
      if (!m.jobs.has(id)) {
        card.dispose();
        this._cards.delete(id);
      }
    }
    for (const job of m.jobs.values()) {
      let card = this._cards.get(job.id);
      if (!card) {
        card = new CardView(job.id, t, this._actions);
        this._cards.set(job.id, card);
        this._list.prepend(card.node);
      }
      card.update(job, this._settings, m.frames.get(job.id), m.frameErrors.get(job.id), m.cardErrors.get(job.id));
    }
    this._runs.render();
    this._empty.style.display = m.status === 'connected' && m.jobs.size === 0 ? '' : 'none';
  }

  /** The saved runs list is fetched again whenever the panel is shown. */
  protected onAfterShow(): void {
    if (this.model.status === 'connected' && !this.model.mismatch) {
      this._runsActions.list();
    }
  }

  protected onBeforeDetach(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _statusText(): string {
    const t = this._trans;
    switch (this.model.status) {
      case 'no-notebook':
        return t.__('Open a notebook to follow its kernel.');
      case 'no-kernel':
        return t.__('This notebook has no running kernel.');
      case 'connecting':
        return t.__('Connecting to the kernel…');
      case 'not-loaded':
        return t.__('cnnlive is not loaded in this kernel: run %load_ext cnnlive');
      case 'restarting':
        return t.__('The kernel is restarting…');
      default:
        return t.__('connected');
    }
  }

  private _renderResources(): void {
    const t = this._trans;
    const { resources: r, history } = this.model;
    this._graphs.style.display = r ? '' : 'none';
    if (!r) {
      return;
    }
    this._cpu.update(t.__('CPU'), `${r.cpu_percent.toFixed(0)} %`, history.cpu, 0, 100);
    this._ram.update(t.__('RAM'), formatMegabytes(r.rss_mb), history.rss, 0);
    while (this._gpus.length < history.gpus.length) {
      const g = new Graph('gpu');
      this._gpus.push(g);
      this._graphs.append(g.node);
    }
    this._gpus.forEach((g, i) => {
      const gpu = history.gpus[i];
      g.node.style.display = gpu ? '' : 'none';
      if (gpu) {
        const used = gpu.used[gpu.used.length - 1] ?? 0;
        const value = gpu.total ? `${formatMegabytes(used)} / ${formatMegabytes(gpu.total)}` : formatMegabytes(used);
        g.node.title = gpu.name;
        g.update(t.__('GPU %1', i), value, gpu.used, 0, gpu.total ?? undefined);
      }
    });
  }

  private _status = el('div', 'jp-cnnlive-status');
  private _graphs = el('div', 'jp-cnnlive-graphs');
  private _cpu = new Graph('cpu');
  private _ram = new Graph('ram');
  private _gpus: Graph[] = [];
  private _banner = el('div', 'jp-cnnlive-banner');
  private _restart = el('div', 'jp-cnnlive-restart');
  private _notice = el('div', 'jp-cnnlive-notice');
  private _empty = el('div', 'jp-cnnlive-empty');
  private _list = el('div', 'jp-cnnlive-list');
  private _cards = new Map<number, CardView>();
  private _runs: RunsView;
  private _timer: number | null = null;
  private _lastRender = 0;
}
