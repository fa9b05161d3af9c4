// The "CNN Live" side panel: a header (kernel link, CPU/RAM/GPU) and one card per job.
import { Widget } from '@lumino/widgets';
import { JobView, PanelModel } from './model';
import { Action } from './guards';

const FINISHED = new Set(['stopped', 'cancelled', 'completed', 'failed']);

type Requester = (action: Action, jobId?: number) => void;

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

export function sparklinePath(values: number[], w = 120, h = 28): string {
  if (values.length < 2) {
    return '';
  }
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  return values
    .map((v, i) => {
      const x = (i / (values.length - 1)) * w;
      const y = h - ((v - lo) / span) * (h - 2) - 1;
      return `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

export function formatElapsed(s: number): string {
  if (s < 60) {
    return `${s.toFixed(1)} s`;
  }
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const STATUS_TEXT: Record<string, string> = {
  'no-notebook': 'Open a notebook to follow its kernel.',
  'no-kernel': 'This notebook has no running kernel.',
  connecting: 'Connecting to the kernel…',
  'not-loaded': 'cnnlive is not loaded in this kernel: run %load_ext cnnlive',
  restarting: 'The kernel is restarting…',
  connected: 'connected'
};

class CardView {
  readonly node = el('div', 'jp-cnnlive-card');
  constructor(
    private _id: number,
    request: Requester
  ) {
    const head = el('div', 'jp-cnnlive-card-head');
    head.append(this._title, this._state);
    this._bar.append(this._fill);
    const buttons = el('div', 'jp-cnnlive-buttons');
    this._stop.setAttribute('aria-label', 'Stop');
    this._stop.title = 'Stop gracefully: the job keeps and saves what it has';
    this._cancel.setAttribute('aria-label', 'Cancel');
    this._cancel.title = 'Cancel: end the job at once';
    this._remove.setAttribute('aria-label', 'Remove');
    this._remove.title = 'Remove this finished job';
    this._stop.onclick = () => request('stop', this._id);
    this._cancel.onclick = () => request('cancel', this._id);
    this._remove.onclick = () => request('remove', this._id);
    buttons.append(this._stop, this._cancel, this._remove);
    this._spark.setAttribute('viewBox', '0 0 120 28');
    this._spark.setAttribute('class', 'jp-cnnlive-spark');
    this._path.setAttribute('class', 'jp-cnnlive-spark-line');
    this._spark.append(this._path);
    this._figure.append(this._img, this._caption);
    this.node.dataset.jobId = String(_id);
    this.node.append(head, this._bar, this._meta, this._metrics, this._spark, this._figure, this._log, buttons);
  }

  update(job: JobView): void {
    this.node.dataset.state = job.state;
    this._title.textContent = `#${job.id} ${job.name}`;
    this._state.textContent = job.state;
    this._state.className = `jp-cnnlive-state jp-cnnlive-state-${job.state}`;
    const pct = job.progress === null ? null : Math.round(job.progress * 100);
    this._fill.style.width = pct === null ? '0%' : `${pct}%`;
    this._bar.setAttribute('role', 'progressbar');
    this._bar.setAttribute('aria-valuenow', pct === null ? '' : String(pct));
    this._meta.textContent = `${job.kind} · ${formatElapsed(job.elapsed)}${pct === null ? '' : ` · ${pct}%`}${job.note ? ` · ${job.note}` : ''}`;
    this._metrics.textContent = Object.entries(job.metrics)
      .slice(0, 6)
      .map(([k, v]) => `${k} ${Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)}`)
      .join('  ');
    this._path.setAttribute('d', sparklinePath(job.sparkline));
    this._spark.style.display = job.sparkline.length > 1 ? '' : 'none';
    if (job.image && job.imageVersion !== this._shownImage) {
      this._shownImage = job.imageVersion;
      const url = URL.createObjectURL(new Blob([job.image.bytes as BlobPart], { type: 'image/png' }));
      if (this._url) {
        URL.revokeObjectURL(this._url);
      }
      this._url = url;
      this._img.src = url;
      this._img.alt = job.image.caption || `latest image of job ${job.id}`;
      this._caption.textContent = job.image.caption;
    }
    this._figure.style.display = job.image ? '' : 'none';
    this._log.textContent = job.log_tail.join('\n');
    this._log.style.display = job.log_tail.length ? '' : 'none';
    const finished = FINISHED.has(job.state);
    this._stop.disabled = finished || job.state === 'stopping';
    this._cancel.disabled = finished;
    this._remove.style.display = finished ? '' : 'none';
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
  private _metrics = el('div', 'jp-cnnlive-metrics');
  private _spark = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  private _path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  private _figure = el('figure', 'jp-cnnlive-figure');
  private _img = el('img', 'jp-cnnlive-image');
  private _caption = el('figcaption', 'jp-cnnlive-caption');
  private _log = el('pre', 'jp-cnnlive-log');
  private _stop = el('button', 'jp-Button jp-mod-styled jp-mod-warn', 'Stop');
  private _cancel = el('button', 'jp-Button jp-mod-styled jp-mod-reject', 'Cancel');
  private _remove = el('button', 'jp-Button jp-mod-styled', 'Remove');
  private _shownImage = 0;
  private _url = '';
}

export class CnnLivePanel extends Widget {
  constructor(
    readonly model: PanelModel,
    private _request: Requester
  ) {
    super();
    this.id = 'cnnlive-panel';
    this.addClass('jp-cnnlive-panel');
    this.title.caption = 'CNN Live';
    const header = el('div', 'jp-cnnlive-header');
    const h = el('h2', 'jp-cnnlive-heading', 'CNN Live');
    header.append(h, this._status, this._resources);
    this._banner.setAttribute('role', 'alert');
    this._notice.setAttribute('aria-live', 'polite');
    this._empty.textContent = 'No jobs yet. Start one with cl.train(...), cl.oip(...), cl.dream(...) or %cnnlive train.';
    this.node.append(header, this._banner, this._notice, this._empty, this._list);
    model.changed.connect(this.render, this);
    this.render();
  }

  render(): void {
    const m = this.model;
    const label = m.kernelLabel ? ` (${m.kernelLabel})` : '';
    this._status.textContent =
      m.status === 'connected' && m.hello
        ? `Kernel${label}: connected · cnnlive ${m.hello.version} · protocol ${m.hello.protocol}`
        : `Kernel${label}: ${STATUS_TEXT[m.status]}`;
    this._status.dataset.status = m.status;
    const r = m.resources;
    this._resources.textContent = r
      ? `CPU ${r.cpu_percent.toFixed(0)}% · RAM ${r.rss_mb.toFixed(0)} MB` +
        r.gpus
          .map(g => ` · ${g.name} ${g.used_mb.toFixed(0)}${g.total_mb ? `/${g.total_mb.toFixed(0)}` : ''} MB`)
          .join('')
      : '';
    this._banner.textContent = m.mismatch;
    this._banner.style.display = m.mismatch ? '' : 'none';
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
        card = new CardView(job.id, this._request);
        this._cards.set(job.id, card);
        this._list.prepend(card.node);
      }
      card.update(job);
    }
    this._empty.style.display = m.status === 'connected' && m.jobs.size === 0 ? '' : 'none';
  }

  private _status = el('div', 'jp-cnnlive-status');
  private _resources = el('div', 'jp-cnnlive-resources');
  private _banner = el('div', 'jp-cnnlive-banner');
  private _notice = el('div', 'jp-cnnlive-notice');
  private _empty = el('div', 'jp-cnnlive-empty');
  private _list = el('div', 'jp-cnnlive-list');
  private _cards = new Map<number, CardView>();
}
