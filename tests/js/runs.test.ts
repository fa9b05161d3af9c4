// The panel side of saved runs, compare and the OIP step slider: requests,
// the model's state from the kernel's answers, the chart helpers and the
// slider's follow-the-newest logic.
import * as fs from 'fs';
import * as path from 'path';
import { isPanelMessage, makeRequest } from '../../src/guards';
import { MAX_COMPARED, PanelModel, RunsReason } from '../../src/model';
import { runsFolderText } from '../../src/runs';
import { PROTOCOL_VERSION } from '../../src/protocol';
import { chartLines, compareMetrics, formatBest } from '../../src/format';
import { SnapshotSlider } from '../../src/slider';

const root = path.resolve(__dirname, '..', '..');
const fixture = (side: string, kind: string, name: string) =>
  JSON.parse(fs.readFileSync(path.join(root, 'tests/protocol_fixtures', side, kind, name), 'utf8'));
const trans = {
  __: (msgid: string, ...args: unknown[]) => msgid.replace(/%(\d+)/g, (_, i) => String(args[Number(i) - 1]))
} as any;

const card = (id: number, state = 'running', extra: object = {}) => ({
  id,
  name: `job${id}`,
  kind: 'oip',
  state,
  progress: 0.5,
  elapsed: 1,
  metrics: {},
  sparkline: [],
  log_tail: [],
  note: null,
  ...extra
});

const hello = (protocol = PROTOCOL_VERSION, pid = 1) => ({ type: 'hello', protocol, version: '0.1.0', pid, subshells: true });

function connected(): { m: PanelModel; wanted: RunsReason[] } {
  const m = new PanelModel();
  const wanted: RunsReason[] = [];
  m.runsWanted.connect((_, why) => wanted.push(why));
  m.apply(hello());
  return { m, wanted };
}

describe('runs, compare and frame requests', () => {
  it('match the fixtures and follow the schema', () => {
    for (const [action, jobId, params, name] of [
      ['runs', undefined, {}, 'runs.json'],
      ['compare', undefined, { runs: ['mnist-cnn-3', 'mnist-cnn-4'] }, 'compare.json'],
      ['frame', 2, { index: 0 }, 'frame.json']
    ] as const) {
      const want = fixture('panel', 'valid', name);
      const req = makeRequest(action, jobId, params as any);
      expect(isPanelMessage(req)).toBe(true);
      expect({ ...req, request_id: want.request_id }).toEqual(want);
    }
  });

  it('refuses paths, empty selections and frames without an index', () => {
    for (const runs of [['../secret'], ['a/b'], ['..'], []]) {
      expect(() => makeRequest('compare', undefined, { runs } as any)).toThrow(/run folder names/);
    }
    expect(() => makeRequest('compare', 3, { runs: ['a-1'] })).toThrow(/takes no job id/);
    expect(() => makeRequest('frame', 2)).toThrow(/snapshot index/);
    expect(() => makeRequest('frame', 2, { index: -1 })).toThrow(/snapshot index/);
    expect(() => makeRequest('stop', 2, { index: 1 })).toThrow();
  });
});

describe('the saved runs in the model', () => {
  it('asks for the runs when connected and when a job ends, not on a protocol mismatch', () => {
    const { m, wanted } = connected();
    expect(wanted).toEqual(['connected']);
    m.apply({ type: 'job', job: card(1, 'running') });
    m.apply({ type: 'job', job: card(1, 'running', { elapsed: 2 }) });
    expect(wanted).toEqual(['connected']);
    m.apply({ type: 'job', job: card(1, 'completed') });
    expect(wanted).toEqual(['connected', 'job-ended']);
    m.apply({ type: 'job', job: card(1, 'completed', { elapsed: 3 }) }); // once per ending
    expect(wanted.length).toBe(2);
    const old = new PanelModel();
    const asked: RunsReason[] = [];
    old.runsWanted.connect((_, why) => asked.push(why));
    old.apply(hello(1));
    expect(old.mismatch).not.toBe('');
    expect(asked).toEqual([]);
  });

  it('keeps the listed runs and drops ticks of runs no longer listed', () => {
    const { m } = connected();
    const list = fixture('kernel', 'valid', 'runs.json');
    expect(m.apply(list)).toBe(true);
    expect(m.runsLoaded).toBe(true);
    expect(m.runs.map(r => r.folder)).toEqual(['mnist-cnn-3', 'oip-2']);
    m.select('mnist-cnn-3', true);
    m.select('oip-2', true);
    m.select('oip-2', false);
    expect([...m.selected]).toEqual(['mnist-cnn-3']);
    m.apply({ ...list, runs: list.runs.slice(1) }); // mnist-cnn-3 was removed on disk
    expect([...m.selected]).toEqual([]);
  });

  it('shows a comparison, and a failed compare as an error beside it that changes nothing else', () => {
    const { m } = connected();
    m.apply(fixture('kernel', 'valid', 'runs.json'));
    m.apply(fixture('kernel', 'valid', 'compare.json'));
    expect(m.comparison!.map(r => r.folder)).toEqual(['mnist-cnn-3']);
    const shown = m.comparison;
    m.expect('rq1', 'compare');
    m.apply({ type: 'reply', request_id: 'rq1', ok: false, message: "no run 'gone-9' in /r; runs: mnist-cnn-3" });
    expect(m.compareError).toMatch(/Error: no run 'gone-9'/);
    expect(m.notice).toBe('');
    expect(m.comparison).toBe(shown);
    expect(m.runs.length).toBe(2);
    m.apply(fixture('kernel', 'valid', 'compare.json'));
    expect(m.compareError).toBe('');
    m.clearComparison();
    expect(m.comparison).toBeNull();
    m.apply({ type: 'reply', request_id: 'other', ok: false, message: 'job 9 unknown' });
    expect(m.notice).toBe('Error: job 9 unknown'); // not a compare: the usual notice
  });
});

describe('snapshots of OIP cards in the model', () => {
  it('keeps the snapshot count of a card and a fetched frame with its image', () => {
    const { m } = connected();
    m.apply({ type: 'job', job: card(2, 'running', { snapshots: { count: 3, newest: 'step 20' } }) });
    expect(m.jobs.get(2)!.snapshots).toEqual({ count: 3, newest: 'step 20' });
    const frame = fixture('kernel', 'valid', 'frame.json');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer;
    expect(m.apply(frame, [png])).toBe(true);
    const f = m.frames.get(2)!;
    expect(f.index).toBe(0);
    expect(f.label).toBe('step 0');
    expect(Array.from(f.image.bytes)).toEqual([0x89, 0x50, 0x4e, 0x47]);
    m.apply({ ...frame, index: 1, label: 'step 10' }, [png]);
    expect(m.frames.get(2)!.version).toBe(f.version + 1);
    expect(m.apply(frame, [])).toBe(false); // a frame without its PNG is not applied
    m.apply({ type: 'removed', id: 2 });
    expect(m.frames.has(2)).toBe(false);
  });

  it('puts a failed frame request on its card', () => {
    const { m } = connected();
    m.expect('rf', 'frame', 2);
    m.apply({ type: 'reply', request_id: 'rf', ok: false, message: 'job 2: snapshot 9 is out of range' });
    expect(m.frameErrors.get(2)).toMatch(/out of range/);
    expect(m.notice).toBe('');
  });
});

describe('the step slider', () => {
  it('follows the newest snapshot while the range grows', () => {
    const s = new SnapshotSlider();
    expect(s.setCount(3)).toBe(2);
    expect(s.setCount(5)).toBe(4);
    expect(s.following).toBe(true);
    expect(s.shows({ index: 4 })).toBe(false); // following: the live image, not a fetched one
  });

  it('stays where the user moved it, and follows again at the right end', () => {
    const s = new SnapshotSlider();
    s.setCount(5);
    expect(s.move(1)).toBe(1);
    expect(s.following).toBe(false);
    expect(s.setCount(8)).toBe(1); // the range grows, the choice stays
    expect(s.max).toBe(7);
    expect(s.shows({ index: 1 })).toBe(true);
    expect(s.shows({ index: 2 })).toBe(false); // an older answer is not shown
    expect(s.move(7)).toBeNull();
    expect(s.following).toBe(true);
    expect(s.setCount(9)).toBe(8);
  });

  it('clamps a choice the thinned timeline no longer has', () => {
    const s = new SnapshotSlider();
    s.setCount(10);
    s.move(6);
    expect(s.setCount(4)).toBe(3); // thinned past the cap: follow the newest
    expect(s.following).toBe(true);
    expect(s.move(-3)).toBe(0);
  });
});

describe('the compare chart', () => {
  const histories: Record<string, (number | null)[]>[] = [
    { loss: [1, 0.5, 0.25], val_loss: [1.2, null, 0.4], accuracy: [0.5, 0.7, 0.9], lr: [0.01, 0.01, 0.01] },
    { loss: [0.8, 0.6], val_accuracy: [0.6, 0.65] }
  ];

  it('draws each metric once (validation with it), loss and accuracy first, no learning rate', () => {
    expect(compareMetrics(histories)).toEqual(['loss', 'accuracy']);
    expect(compareMetrics([{ top3: [1], val_top3: [1], loss: [1] }])).toEqual(['loss', 'top3']);
  });

  it('overlays every run on one scale; validation dashed; gaps break the line', () => {
    const { lines, lo, hi, epochs } = chartLines(histories, 'loss', 240, 90);
    expect(lines.map(l => [l.run, l.key, l.dashed])).toEqual([
      [0, 'loss', false],
      [0, 'val_loss', true],
      [1, 'loss', false]
    ]);
    expect([lo, hi, epochs]).toEqual([0.25, 1.2, 3]);
    expect(lines[1].d.match(/M/g)!.length).toBe(2); // the null epoch splits it
    expect(lines[0].d.startsWith('M0.0,')).toBe(true);
    expect(lines[0].d).toContain('L240.0,88.0'); // the lowest value at the bottom right
    const acc = chartLines(histories, 'accuracy');
    expect(acc.lines.map(l => l.key)).toEqual(['accuracy', 'val_accuracy']);
  });

  it('writes the best validation value with its unit', () => {
    expect(formatBest({ metric: 'val_accuracy', value: 0.912, epoch: 3 }, trans)).toBe('val accuracy 91.2 % (epoch 3)');
    expect(formatBest(null, trans)).toBe('');
  });
});

describe('review fixes: frame requests, compare limit, cut lists, thinned histories', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer;

  it('clears a card frame error when a new frame request goes out or the slider follows the newest', () => {
    const { m } = connected();
    m.expect('rf', 'frame', 2);
    m.apply({ type: 'reply', request_id: 'rf', ok: false, message: 'job 2: snapshot index 9 is out of range 0..3' });
    expect(m.frameErrors.get(2)).toMatch(/out of range/);
    m.expect('rf2', 'frame', 2);
    expect(m.frameErrors.has(2)).toBe(false);
    m.apply({ type: 'reply', request_id: 'rf2', ok: false, message: 'job 2 has no snapshots yet' });
    expect(m.frameErrors.get(2)).toMatch(/no snapshots yet/);
    m.followNewest(2);
    expect(m.frameErrors.has(2)).toBe(false);
  });

  it('keeps at most one frame request in flight per card and sends the latest index when it returns', () => {
    const { m } = connected();
    const sent: number[] = [];
    let n = 0;
    const send = (jobId: number) => (index: number) => {
      sent.push(index);
      m.expect(`f${++n}`, 'frame', jobId);
      return true;
    };
    m.requestFrame(2, 1, send(2));
    m.requestFrame(2, 2, send(2));
    m.requestFrame(2, 3, send(2));
    m.requestFrame(5, 0, send(5)); // another card is not held back
    expect(sent).toEqual([1, 0]);
    const frame = fixture('kernel', 'valid', 'frame.json');
    m.apply({ ...frame, request_id: 'f1', job_id: 2, index: 1 }, [png]);
    expect(sent).toEqual([1, 0, 3]); // the latest asked, the ones between skipped
    expect(m.frameInFlight(2)).toBe(true);
    m.apply({ type: 'reply', request_id: 'f3', ok: false, message: 'job 2: snapshot index 3 is out of range 0..2' });
    expect(m.frameInFlight(2)).toBe(false); // an error answers too
    m.requestFrame(2, 2, send(2));
    expect(sent).toEqual([1, 0, 3, 2]);
    m.followNewest(2); // back at the newest: a waiting index is dropped
    m.requestFrame(2, 1, send(2));
    m.followNewest(2);
    m.apply({ ...frame, request_id: 'f4', job_id: 2, index: 2 }, [png]);
    expect(sent).toEqual([1, 0, 3, 2]);
    m.requestFrame(7, 1, () => false); // not sent (not connected): the next one is not held
    expect(m.frameInFlight(7)).toBe(false);
  });

  it('ticks at most MAX_COMPARED runs for Compare', () => {
    const { m } = connected();
    for (let i = 0; i < MAX_COMPARED; i++) {
      expect(m.select(`r-${i}`, true)).toBe(true);
    }
    expect(m.canSelect('r-99')).toBe(false);
    expect(m.select('r-99', true)).toBe(false);
    expect(m.selected.size).toBe(MAX_COMPARED);
    expect(m.canSelect('r-0')).toBe(true); // a ticked one can be unticked
    m.select('r-0', false);
    expect(m.select('r-99', true)).toBe(true);
  });

  it('says how many runs a cut list shows', () => {
    const { m } = connected();
    const trans2 = { ...trans, _n: (one: string, many: string, n: number, ...args: unknown[]) =>
      trans.__(n === 1 ? one : many, n, ...args) } as any;
    const row = (i: number) => ({ folder: `r-${i}`, name: 'r', kind: 'train', date: '2026-11-22 10:00:00', epochs: 1, best: null });
    expect(runsFolderText(m, trans2)).toBe('Loading the runs folder…');
    m.apply({ type: 'runs', request_id: null, folder: '/x/runs', runs: [row(1), row(2)], total: 900 });
    expect(m.runsTotal).toBe(900);
    expect(runsFolderText(m, trans2)).toBe('showing 2 of 900 runs in runs (the newest)');
    m.setRunsKind('oip'); // the cut list holds training runs first: say that other kinds may be missing
    expect(runsFolderText(m, trans2)).toBe('showing 0 of 900 runs in runs (the newest) (2 of other kinds: choose all) '
      + '(the kernel sends at most 2, training runs first: runs of other kinds may be missing; cl.runs() lists all)');
    m.setRunsKind('train');
    m.apply({ type: 'runs', request_id: null, folder: '/x/runs', runs: [row(1), row(2)], total: 2 });
    expect(runsFolderText(m, trans2)).toBe('2 runs in runs');
  });

  it('plots a thinned history at its epoch numbers', () => {
    const hist = [{ loss: [1, 0.5, 0] }, { loss: [1, 0] }];
    const { lines, epochs } = chartLines(hist, 'loss', 240, 90, [[1, 5, 10], undefined]);
    expect(epochs).toBe(10);
    expect(lines[0].d).toBe('M0.0,2.0 L106.7,45.0 L240.0,88.0'); // epoch 5 at 4/9 of the width
    expect(lines[1].d).toBe('M0.0,2.0 L26.7,88.0'); // unthinned: value i is epoch i + 1
  });
});
