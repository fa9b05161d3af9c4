import * as fs from 'fs';
import * as path from 'path';
import { TranslationBundle } from '@jupyterlab/translation';
import { formatElapsed, formatMetrics, formatValue, metricLabel, sparklinePath } from '../../src/format';
import { FALLBACK_SETTINGS, readSettings } from '../../src/settings';

// JupyterLab's null translator, restated (its package is ESM, which jest here does not load)
const fill = (s: string, args: unknown[]) => s.replace(/%(\d+)/g, (_, i) => String(args[Number(i) - 1]));
const trans = {
  __: (s: string, ...args: unknown[]) => fill(s, args),
  _n: (one: string, many: string, n: number, ...args: unknown[]) => fill(n === 1 ? one : many, [n, ...args])
} as unknown as TranslationBundle;

describe('metric labels and units', () => {
  it('names known metrics and gives them units', () => {
    const shown = formatMetrics(
      { val_accuracy: 0.9134, loss: 0.25, lr: 0.001, samples_per_s: 812.4, batch_time: 0.0193, accuracy: 0.5, epochs: 2 },
      trans
    );
    expect(shown.map(m => m.label)).toEqual([
      'loss',
      'accuracy',
      'val accuracy',
      'learning rate',
      'samples/s',
      'time per batch'
    ]);
    expect(shown.map(m => m.value)).toEqual(['0.25', '50.0 %', '91.3 %', '1.0e-3', '812', '19.3 ms']);
  });
  it('shows unknown keys readably', () => {
    expect(metricLabel('top3', trans)).toBe('top3');
    expect(metricLabel('val_top3', trans)).toBe('val top3');
    const shown = formatMetrics({ val_top3: 0.99, my_score: 12.345678 }, trans);
    expect(shown).toEqual([
      { key: 'my_score', label: 'my score', value: '12.35' },
      { key: 'val_top3', label: 'val top3', value: '99.0 %' }
    ]);
  });
  it('formats values', () => {
    expect(formatValue(1.5, 'seconds')).toBe('1.50 s');
    expect(formatValue(0.0042, 'seconds')).toBe('4.20 ms');
    expect(formatValue(12345.6, 'plain')).toBe('12346');
    expect(formatElapsed(75, trans)).toBe('1 min 15 s');
    expect(formatElapsed(3725, trans)).toBe('1 h 2 min');
  });
});

describe('sparklinePath', () => {
  it('needs two points and keeps a fixed scale', () => {
    expect(sparklinePath([1])).toBe('');
    expect(sparklinePath([0, 100], 100, 10, 0, 100)).toBe('M0.0,9.0 L100.0,1.0');
    expect(sparklinePath([0, 50], 100, 10, 0, 100)).toBe('M0.0,9.0 L100.0,5.0');
  });
});

describe('settings', () => {
  const schema = JSON.parse(
    fs.readFileSync(path.resolve(__dirname, '..', '..', 'schema', 'plugin.json'), 'utf8')
  );
  it('falls back to the defaults of schema/plugin.json', () => {
    const defaults = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]: [string, any]) => [k, v.default])
    );
    expect(FALLBACK_SETTINGS).toEqual(defaults);
    expect(readSettings({})).toEqual(defaults);
  });
  it('clamps values to the schema ranges', () => {
    const s = readSettings({ updateRate: 1000, logLines: -3, confirmCancel: true, openOnLoad: 'no' });
    expect(s.updateRate).toBe(schema.properties.updateRate.maximum);
    expect(s.logLines).toBe(0);
    expect(s.confirmCancel).toBe(true);
    expect(s.openOnLoad).toBe(FALLBACK_SETTINGS.openOnLoad);
  });
  it('binds a default shortcut to Stop all', () => {
    const shortcut = schema['jupyter.lab.shortcuts'].find((s: any) => s.command === 'cnnlive:stop-all');
    expect(shortcut.keys[0]).toMatch(/^Accel/);
  });
});
