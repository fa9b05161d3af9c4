// Issue 23: user metrics named like cnnlive's series keep their names on the
// card and in the compare charts; cnnlive's twins (cnnlive_*) read as before.
import { TranslationBundle } from '@jupyterlab/translation';
import { compareMetrics, formatMetrics, metricLabel } from '../../src/format';

const trans = {
  __: (s: string, ...args: unknown[]) => s.replace(/%(\d+)/g, (_, i) => String(args[Number(i) - 1]))
} as unknown as TranslationBundle;

describe('user metrics named lr, epoch, batch_time, step, scope', () => {
  // what the kernel's card sends for such a fit: the user's under their names, cnnlive's as cnnlive_*
  const card = {
    loss: 0.5,
    lr: 0.5,
    epoch: 7,
    batch_time: 3,
    step: 11,
    scope: 2,
    cnnlive_lr: 0.002,
    cnnlive_batch_time: 0.0193,
    batches_per_s: 51.8
  };

  it('shows the user metrics under their own names and values', () => {
    const shown = Object.fromEntries(formatMetrics(card, trans).map(m => [m.key, [m.label, m.value]]));
    expect(shown.lr).toEqual(['lr', '0.5']);
    expect(shown.epoch).toEqual(['epoch', '7']);
    expect(shown.batch_time).toEqual(['batch time', '3']);
    expect(shown.step).toEqual(['step', '11']);
    expect(shown.scope).toEqual(['scope', '2']);
  });

  it("labels cnnlive's own twins readably, never by their raw names", () => {
    const shown = formatMetrics(card, trans);
    const labels = shown.map(m => m.label);
    expect(labels.filter(l => l === 'learning rate')).toHaveLength(1);
    expect(labels.filter(l => l === 'time per batch')).toHaveLength(1);
    expect(labels.some(l => l.includes('cnnlive'))).toBe(false);
    const byKey = Object.fromEntries(shown.map(m => [m.key, m]));
    expect(byKey.cnnlive_lr.value).toBe('2.0e-3');
    expect(byKey.cnnlive_batch_time.value).toBe('19.3 ms');
    expect(byKey.batches_per_s.label).toBe('batches/s');
    // cnnlive's known series first (loss, learning rate, ...), the user's after them
    expect(shown[0].key).toBe('loss');
    expect(shown.findIndex(m => m.key === 'cnnlive_lr')).toBeLessThan(shown.findIndex(m => m.key === 'lr'));
  });

  it('without a twin, lr and batch_time are cnnlive’s and read as before', () => {
    expect(metricLabel('lr', trans, ['lr', 'loss'])).toBe('learning rate');
    expect(metricLabel('lr', trans, ['lr', 'cnnlive_lr'])).toBe('lr');
    const shown = formatMetrics({ lr: 0.001, batch_time: 0.0193, cnnlive_epoch: 1, epochs: 3 }, trans);
    expect(shown.map(m => m.label)).toEqual(['learning rate', 'time per batch']);
  });

  it('compares user metrics named like cnnlive series; never cnnlive’s own', () => {
    const saved = { loss: [1, 0.5], lr: [0.5, 0.4], epoch: [7, 8], step: [1, 2], cnnlive_lr: [0.01, 0.01] };
    expect(compareMetrics([saved])).toEqual(['loss', 'lr', 'epoch', 'step']);
    expect(compareMetrics([{ loss: [1], lr: [0.01] }])).toEqual(['loss']);
    expect(metricLabel('lr', trans, Object.keys(saved))).toBe('lr');
  });
});
