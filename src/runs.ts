// The panel's "Saved runs" section: the runs in the kernel's runs folder,
// a checkbox per run, and a Compare figure that overlays the ticked runs'
// epoch histories (one SVG chart per metric, one colour per run, validation
// dashed).
import { TranslationBundle } from '@jupyterlab/translation';
import { MAX_COMPARED, PanelModel } from './model';

export { MAX_COMPARED };
import { chartLines, compareMetrics, formatBest, formatValue, metricLabel } from './format';

/** What the section's buttons do (the plugin sends the requests). */
export interface RunsActions {
  list(): void;
  compare(folders: string[]): void;
}

/** Colours of compared runs (readable on light and dark themes). */
export const RUN_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = cls;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  return node;
}

/** The kinds the list can be filtered by (the kernel's run kinds). */
export const RUN_KINDS = ['train', 'oip', 'dream', 'other', 'all'] as const;

/** The line under the section's title: how many runs (and how many of
 *  them are shown when the kernel cut the list or the kind filter hides
 *  some), or that they are loading. */
export function runsFolderText(m: PanelModel, t: TranslationBundle): string {
  const folder = m.runsFolder.split(/[\\/]/).filter(Boolean).pop() ?? m.runsFolder;
  if (!m.runsLoaded) {
    return t.__('Loading the runs folder…');
  }
  if (!m.runs.length) {
    return t.__('No saved runs in %1 yet.', folder);
  }
  const shown = m.visibleRuns().length;
  const hidden = m.runs.length - shown;
  const others = hidden ? ' ' + t.__('(%1 of other kinds: choose all)', hidden) : '';
  if (m.runsTotal > m.runs.length) {
    // the kernel sends training runs first, then other kinds, then unreadable folders: the cut may hide some
    const cut = m.runsKind === 'train' ? '' : ' ' + t.__('(the kernel sends at most %1, training runs first: runs of other kinds may be missing; cl.runs() lists all)', m.runs.length);
    return t.__('showing %1 of %2 runs in %3 (the newest)', shown, m.runsTotal, folder) + others + cut;
  }
  return t._n('%1 run in %2', '%1 runs in %2', shown, folder) + others;
}

/** A run's name that, when it does not fit, is cut in the middle: the head
 *  shrinks with an ellipsis, the tail (its id) stays; the text is whole. */
export function nameWithMiddleEllipsis(name: string, tail = 8): HTMLSpanElement {
  const node = el('span', 'jp-cnnlive-run-name');
  const cut = name.length > tail + 4 ? name.length - tail : name.length; // short names: one part
  node.append(el('span', 'jp-cnnlive-run-name-head', name.slice(0, cut)), el('span', 'jp-cnnlive-run-name-tail', name.slice(cut)));
  return node;
}

export class RunsView {
  readonly node = el('section', 'jp-cnnlive-runs');

  constructor(
    private _model: PanelModel,
    private _trans: TranslationBundle,
    private _actions: RunsActions
  ) {
    const t = _trans;
    const head = el('div', 'jp-cnnlive-runs-head');
    this._refresh.textContent = t.__('Refresh');
    this._refresh.title = t.__('List the runs folder again');
    this._refresh.onclick = () => this._actions.list();
    this._compare.textContent = t.__('Compare');
    this._compare.title = t.__("Overlay the ticked runs' metric curves");
    this._compare.onclick = () => {
      const folders = [...this._model.selected];
      if (folders.length) {
        this._actions.compare(folders.slice(0, MAX_COMPARED));
      }
    };
    for (const kind of RUN_KINDS) {
      const option = el('option', '', kind === 'train' ? t.__('training') : t.__(kind));
      option.value = kind;
      this._kind.append(option);
    }
    this._kind.value = _model.runsKind;
    this._kind.title = t.__('Show runs of one kind (training runs are the ones Compare uses)');
    this._kind.setAttribute('aria-label', t.__('Kind of runs'));
    this._kind.onchange = () => this._model.setRunsKind(this._kind.value);
    const buttons = el('div', 'jp-cnnlive-runs-buttons');
    buttons.append(this._kind, this._refresh, this._compare);
    head.append(el('h3', 'jp-cnnlive-runs-title', t.__('Saved runs')), buttons);
    this._error.setAttribute('role', 'alert');
    this._close.textContent = '×';
    this._close.title = t.__('Close the comparison');
    this._close.setAttribute('aria-label', t.__('Close the comparison'));
    this._close.onclick = () => this._model.clearComparison();
    this.node.append(head, this._folder, this._error, this._table, this._figure);
  }

  render(): void {
    const t = this._trans;
    const m = this._model;
    this.node.style.display = m.status === 'connected' && !m.mismatch ? '' : 'none';
    this._folder.textContent = runsFolderText(m, t);
    this._folder.title = m.runsFolder;
    const error = m.compareError || m.runsError;
    this._error.textContent = error;
    this._error.style.display = error ? '' : 'none';
    this._compare.disabled = m.selected.size === 0;
    this._compare.textContent = m.selected.size ? t.__('Compare (%1)', m.selected.size) : t.__('Compare');
    this._compare.title =
      m.selected.size >= MAX_COMPARED
        ? t.__('%1 runs at most: untick one to tick another', MAX_COMPARED)
        : t.__("Overlay the ticked runs' metric curves");
    const key = JSON.stringify([m.runs, [...m.selected], m.runsKind]);
    if (key !== this._shownRuns) {
      this._shownRuns = key;
      this._renderTable();
    }
    if (m.comparison !== this._shownComparison) {
      this._shownComparison = m.comparison;
      this._renderComparison();
    }
  }

  /** One entry per run: tick box, folder name, kind and epochs; below, the
   *  date and the best validation value (fits a narrow side panel). */
  private _renderTable(): void {
    const t = this._trans;
    const m = this._model;
    const rows = m.visibleRuns().map(run => {
      const row = el('div', 'jp-cnnlive-run');
      row.dataset.folder = run.folder;
      const box = el('input', 'jp-cnnlive-run-select');
      box.type = 'checkbox';
      box.checked = m.selected.has(run.folder);
      const full = !m.canSelect(run.folder);
      box.disabled = !run.epochs || full; // only runs with an epoch history; MAX_COMPARED at most
      box.setAttribute('aria-label', t.__('Compare %1', run.folder));
      box.title = !run.epochs
        ? t.__('No epoch history to compare')
        : full
          ? t.__('%1 runs at most can be compared', MAX_COMPARED)
          : t.__('Tick to compare');
      box.onchange = () => {
        box.checked = m.select(run.folder, box.checked) ? box.checked : false;
      };
      const name = nameWithMiddleEllipsis(run.folder);
      name.title = `${m.runsFolder}/${run.folder}`; // the whole name on hover
      const line = el('label', 'jp-cnnlive-run-line');
      line.append(box, name, el('span', 'jp-cnnlive-run-kind', run.kind));
      if (run.epochs !== null) {
        const epochs = el('span', 'jp-cnnlive-run-epochs-text');
        epochs.append(el('span', 'jp-cnnlive-run-epochs', String(run.epochs)), ` ${t.__('epochs')}`);
        line.append(epochs);
      }
      const detail = el('div', 'jp-cnnlive-run-detail');
      detail.append(el('span', 'jp-cnnlive-run-date', run.date));
      const best = formatBest(run.best, t);
      if (best) {
        detail.append(' · ', el('span', 'jp-cnnlive-run-best', best));
      }
      row.append(line, detail);
      return row;
    });
    this._table.replaceChildren(...rows);
  }

  private _renderComparison(): void {
    const t = this._trans;
    const runs = this._model.comparison;
    if (!runs || !runs.length) {
      this._figure.replaceChildren();
      this._figure.style.display = 'none';
      return;
    }
    this._figure.style.display = '';
    const histories = runs.map(r => r.history);
    const epochNumbers = runs.map(r => r.epochs);
    const legend = el('div', 'jp-cnnlive-legend');
    runs.forEach((run, i) => {
      const item = el('span', 'jp-cnnlive-legend-item');
      const swatch = el('span', 'jp-cnnlive-swatch');
      swatch.style.background = RUN_COLOURS[i % RUN_COLOURS.length];
      item.append(swatch, document.createTextNode(run.folder));
      legend.append(item);
    });
    legend.append(el('span', 'jp-cnnlive-legend-note', t.__('solid: training · dashed: validation')));
    const charts = compareMetrics(histories).map(base => {
      const { lines, lo, hi, epochs } = chartLines(histories, base, 240, 90, epochNumbers);
      const box = el('div', 'jp-cnnlive-chart');
      box.dataset.metric = base;
      const title = el('div', 'jp-cnnlive-chart-title', metricLabel(base, t, histories.flatMap(h => Object.keys(h))));
      const chart = svg('svg', { viewBox: '0 0 240 90', preserveAspectRatio: 'none', class: 'jp-cnnlive-chart-svg' });
      for (const line of lines) {
        const path = svg('path', {
          d: line.d,
          class: 'jp-cnnlive-chart-line',
          stroke: RUN_COLOURS[line.run % RUN_COLOURS.length],
          'data-key': line.key,
          'data-run': runs[line.run].folder
        });
        if (line.dashed) {
          path.setAttribute('stroke-dasharray', '4 3');
        }
        chart.append(path);
      }
      const axis = el('div', 'jp-cnnlive-chart-axis');
      axis.textContent = t.__(
        '%1 to %2 · epochs 1 to %3',
        formatValue(lo, 'plain'),
        formatValue(hi, 'plain'),
        epochs
      );
      box.append(title, chart, axis);
      return box;
    });
    const head = el('div', 'jp-cnnlive-compare-head');
    head.append(el('span', 'jp-cnnlive-compare-title', t.__('Compared runs')), this._close);
    this._figure.replaceChildren(head, legend, ...charts);
  }

  private _kind = el('select', 'jp-cnnlive-runs-kind');
  private _refresh = el('button', 'jp-Button jp-mod-styled jp-cnnlive-runs-refresh');
  private _compare = el('button', 'jp-Button jp-mod-styled jp-mod-accept jp-cnnlive-runs-compare');
  private _close = el('button', 'jp-Button jp-mod-minimal jp-cnnlive-compare-close');
  private _folder = el('div', 'jp-cnnlive-runs-folder');
  private _error = el('div', 'jp-cnnlive-runs-error');
  private _table = el('div', 'jp-cnnlive-runs-table');
  private _figure = el('div', 'jp-cnnlive-compare');
  private _shownRuns = '';
  private _shownComparison: unknown = null;
}
