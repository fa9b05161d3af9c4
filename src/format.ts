// Pure formatting helpers of the panel: metric labels and units, durations,
// sparkline paths. Kept apart from the DOM so jest can test them.
import { TranslationBundle } from '@jupyterlab/translation';

export interface MetricText {
  key: string;
  label: string;
  value: string;
}

type Unit = 'plain' | 'percent' | 'rate' | 'seconds' | 'sci' | 'count';

/** Known Keras/cnnlive metric keys: label (translated) and unit. */
function known(trans: TranslationBundle): Record<string, [string, Unit]> {
  return {
    loss: [trans.__('loss'), 'plain'],
    val_loss: [trans.__('val loss'), 'plain'],
    accuracy: [trans.__('accuracy'), 'percent'],
    acc: [trans.__('accuracy'), 'percent'],
    val_accuracy: [trans.__('val accuracy'), 'percent'],
    val_acc: [trans.__('val accuracy'), 'percent'],
    lr: [trans.__('learning rate'), 'sci'],
    learning_rate: [trans.__('learning rate'), 'sci'],
    samples_per_s: [trans.__('samples/s'), 'rate'],
    batches_per_s: [trans.__('batches/s'), 'rate'],
    batch_time: [trans.__('time per batch'), 'seconds'],
    // cnnlive's own series where a user metric took the plain name (that one keeps it)
    cnnlive_lr: [trans.__('learning rate'), 'sci'],
    cnnlive_samples_per_s: [trans.__('samples/s'), 'rate'],
    cnnlive_batches_per_s: [trans.__('batches/s'), 'rate'],
    cnnlive_batch_time: [trans.__('time per batch'), 'seconds'],
    time_per_batch: [trans.__('time per batch'), 'seconds'],
    activation: [trans.__('activation'), 'plain'],
    best: [trans.__('best activation'), 'plain'],
    objective: [trans.__('objective'), 'plain']
  };
}

/** Keys shown elsewhere on the card, not as metrics (the kernel sends cnnlive's
 *  own epoch as the card's epoch; a user metric named `epoch` or `step` is shown). */
export const HIDDEN_METRICS = new Set(['epochs', 'cnnlive_epoch']);

/** A key named like one of cnnlive's series is the user's own metric when
 *  cnnlive's twin `cnnlive_<key>` is beside it: then it keeps its plain name. */
function usersOwn(key: string, keys: Iterable<string>): boolean {
  return !key.startsWith('cnnlive_') && new Set(keys).has(`cnnlive_${key}`);
}

function number(v: number): string {
  if (v === 0) {
    return '0';
  }
  const a = Math.abs(v);
  if (a >= 1000) {
    return v.toFixed(0);
  }
  if (a < 0.001) {
    return v.toExponential(2);
  }
  return v.toPrecision(4).replace(/(\.\d*?[1-9])0+$|\.0+$/, '$1');
}

export function formatValue(v: number, unit: Unit): string {
  switch (unit) {
    case 'percent':
      return `${(v * 100).toFixed(1)} %`;
    case 'rate':
      return v >= 100 ? v.toFixed(0) : v.toFixed(1);
    case 'seconds':
      return v < 1 ? `${(v * 1000).toFixed(v < 0.01 ? 2 : 1)} ms` : `${v.toFixed(2)} s`;
    case 'sci':
      return v > 0 && (v < 0.01 || v >= 1000) ? v.toExponential(1) : number(v);
    case 'count':
      return v.toFixed(0);
    default:
      return number(v);
  }
}

/** A readable label for any metric key: known keys get their name, others
 *  lose their underscores ("val_top3" -> "val top3"). */
export function metricLabel(key: string, trans: TranslationBundle, keys: Iterable<string> = []): string {
  const k = usersOwn(key, keys) ? undefined : known(trans)[key];
  return k ? k[0] : key.replace(/_+/g, ' ').trim();
}

function unitOf(key: string, trans: TranslationBundle, keys: Iterable<string> = []): Unit {
  const k = usersOwn(key, keys) ? undefined : known(trans)[key];
  if (k) {
    return k[1];
  }
  return /(^|_)(acc|accuracy|top\d+|top_\d+_accuracy)$/.test(key) ? 'percent' : 'plain';
}

/** The card's metrics as label/value pairs, in a stable readable order. */
export function formatMetrics(
  metrics: Record<string, number>,
  trans: TranslationBundle
): MetricText[] {
  const order = Object.keys(known(trans));
  const keys = Object.keys(metrics);
  const rank = (k: string) => {
    const i = usersOwn(k, keys) ? -1 : order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  return keys
    .filter(k => !HIDDEN_METRICS.has(k) && Number.isFinite(metrics[k]))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map(key => ({
      key,
      label: metricLabel(key, trans, keys),
      value: formatValue(metrics[key], unitOf(key, trans, keys))
    }));
}

export function formatElapsed(s: number, trans: TranslationBundle): string {
  if (s < 60) {
    return trans.__('%1 s', s.toFixed(1));
  }
  const m = Math.floor(s / 60);
  return m < 60
    ? trans.__('%1 min %2 s', m, Math.round(s % 60))
    : trans.__('%1 h %2 min', Math.floor(m / 60), m % 60);
}

export function formatMegabytes(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb.toFixed(0)} MB`;
}

/** An SVG path through `values`, scaled to w x h; `lo`/`hi` fix the scale
 *  (else the values' own range). */
export function sparklinePath(
  values: number[],
  w = 120,
  h = 28,
  lo?: number,
  hi?: number
): string {
  if (values.length < 2) {
    return '';
  }
  const low = lo ?? Math.min(...values);
  const high = Math.max(hi ?? Math.max(...values), ...values);
  const span = high - low || 1;
  return values
    .map((v, i) => {
      const x = (i / (values.length - 1)) * w;
      const y = h - ((Math.max(v, low) - low) / span) * (h - 2) - 1;
      return `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** History keys that are not metrics to compare: the learning rate
 *  (cnnlive's, also as `cnnlive_lr`), cnnlive's own `cnnlive_*` series. */
const NOT_COMPARED = new Set(['epochs', 'lr', 'learning_rate']);

/** The metric base names of compared histories (`val_loss` counts as
 *  `loss`; a user metric named `lr`, `epoch` or `step` is one), loss and
 *  accuracy first. */
export function compareMetrics(histories: Record<string, (number | null)[]>[]): string[] {
  const names: string[] = [];
  for (const h of histories) {
    for (const key of Object.keys(h)) {
      const base = key.startsWith('val_') ? key.slice(4) : key;
      const own = base.startsWith('cnnlive_') || (NOT_COMPARED.has(base) && !usersOwn(base, Object.keys(h)));
      if (!own && !names.includes(base)) {
        names.push(base);
      }
    }
  }
  const first = ['loss', 'accuracy'];
  const rank = (k: string) => (first.includes(k) ? first.indexOf(k) : first.length);
  return names.sort((a, b) => rank(a) - rank(b));
}

export interface ChartLine {
  /** Index of the run (its colour). */
  run: number;
  key: string;
  dashed: boolean;
  d: string;
}

/** SVG paths of one metric over compared runs: `base` and `val_base` of each
 *  run, scaled together to w x h (x: epochs 1..n); gaps (null) break a line. */
export function chartLines(
  histories: Record<string, (number | null)[]>[],
  base: string,
  w = 240,
  h = 90,
  epochNumbers: (number[] | undefined)[] = []
): { lines: ChartLine[]; lo: number; hi: number; epochs: number } {
  const series: { run: number; key: string; values: (number | null)[]; at: (i: number) => number }[] = [];
  histories.forEach((hist, run) => {
    const numbers = epochNumbers[run];
    // a thinned history names the epoch of each value; else value i is epoch i + 1
    const at = (i: number) => numbers?.[i] ?? i + 1;
    for (const key of [base, `val_${base}`]) {
      if (hist[key]?.length) {
        series.push({ run, key, values: hist[key], at });
      }
    }
  });
  const finite = series.flatMap(s => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const epochs = Math.max(0, ...series.map(s => (s.values.length ? s.at(s.values.length - 1) : 0)));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const span = hi - lo || 1;
  const x = (epoch: number) => (epochs > 1 ? ((epoch - 1) / (epochs - 1)) * w : w / 2);
  const y = (v: number) => h - 2 - ((v - lo) / span) * (h - 4);
  const lines = series.map(s => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(s.at(i)).toFixed(1)},${y(v).toFixed(1)} `;
      pen = true;
    });
    if (s.values.length === 1 && d) {
      d += `l0.1,0`; // one epoch: a dot
    }
    return { run: s.run, key: s.key, dashed: s.key.startsWith('val_'), d: d.trim() };
  });
  return { lines, lo, hi, epochs };
}

/** A run's best validation value as text ("val_accuracy 91.2 % (epoch 3)"). */
export function formatBest(
  best: { metric: string; value: number; epoch: number } | null,
  trans: TranslationBundle
): string {
  if (!best) {
    return '';
  }
  return trans.__('%1 %2 (epoch %3)', metricLabel(best.metric, trans), formatValue(best.value, unitOf(best.metric, trans)), best.epoch);
}
