// The panel tells the present: header notes expire with what they describe,
// a card's action errors stay on the card, the runs list filters by kind.
import { PROTOCOL_VERSION } from '../../src/protocol';
import { PanelModel } from '../../src/model';

const card = (id: number, state = 'running', extra: object = {}) => ({
  id,
  name: `job${id}`,
  kind: 'train',
  state,
  progress: 0.5,
  elapsed: 1,
  metrics: { loss: 0.5 },
  sparkline: [1, 0.5],
  log_tail: [],
  note: null,
  ...extra
});
const hello = (pid: number) => ({ type: 'hello', protocol: PROTOCOL_VERSION, version: '0.1.0', pid, subshells: true });

describe('header notes', () => {
  it("a job's ending replaces its 'stop requested'", () => {
    const m = new PanelModel();
    m.apply(hello(1));
    m.apply({ type: 'job', job: card(1) });
    m.expect('r1', 'stop', 1);
    m.apply({ type: 'reply', request_id: 'r1', ok: true, message: 'job 1: stop requested' });
    expect(m.notice).toBe('job 1: stop requested');
    m.apply({ type: 'job', job: card(1, 'stopping') });
    expect(m.notice).toBe('job 1: stop requested'); // still on its way
    m.apply({ type: 'job', job: card(1, 'stopped') });
    expect(m.notice).toBe('job 1: stopped');
    m.apply({ type: 'job', job: card(2) });
    expect(m.notice).toBe('job 1: stopped'); // another job's news does not touch it
  });

  it('a kernel restart clears every note and card error', () => {
    const m = new PanelModel();
    m.apply(hello(1));
    m.apply({ type: 'job', job: card(1) });
    m.expect('r1', 'stop', 1);
    m.apply({ type: 'reply', request_id: 'r1', ok: true, message: 'job 1: stop requested' });
    m.expect('r2', 'adjust', 1);
    m.apply({ type: 'reply', request_id: 'r2', ok: false, message: 'epochs must be >= 3' });
    m.apply(hello(2)); // a new kernel process
    m.apply({ type: 'job', job: card(1) }); // the new kernel's job #1
    expect(m.notice).toBe('');
    expect(m.cardErrors.size).toBe(0);
    m.setNotice('x');
    m.setStatus('restarting');
    expect(m.notice).toBe('');
  });

  it("a card's action error is shown on that card, not in the header", () => {
    const m = new PanelModel();
    m.apply(hello(1));
    m.apply({ type: 'job', job: card(1) });
    m.setNotice('earlier news');
    m.expect('r1', 'adjust', 1);
    m.apply({ type: 'reply', request_id: 'r1', ok: false, message: 'epochs must be at least 2 (done), got 1' });
    expect(m.cardErrors.get(1)).toBe('Error: epochs must be at least 2 (done), got 1');
    expect(m.notice).toBe('earlier news');
    m.expect('r2', 'adjust', 1);
    m.apply({ type: 'reply', request_id: 'r2', ok: true, message: 'job 1: 5 epochs in all' });
    expect(m.cardErrors.has(1)).toBe(false);
    expect(m.notice).toBe('job 1: 5 epochs in all');
  });
});

describe('runs filter', () => {
  const run = (folder: string, kind: string) => ({ folder, name: folder, kind, date: '2026-01-01 00:00:00', epochs: kind === 'train' ? 2 : null, best: null });
  it('shows training runs by default, all kinds on demand with training first', () => {
    const m = new PanelModel();
    m.apply(hello(1));
    m.apply({ type: 'runs', request_id: null, folder: '/r', runs: [run('oip-3', 'oip'), run('t-2', 'train'), run('d-1', 'dream')], total: 3 });
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['t-2']);
    m.setRunsKind('all');
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['t-2', 'oip-3', 'd-1']);
    m.setRunsKind('oip');
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['oip-3']);
  });

  it('shows folders the kernel could not read whatever the kind', () => {
    const m = new PanelModel();
    m.apply(hello(1));
    m.apply({ type: 'runs', request_id: null, folder: '/r', total: 3,
              runs: [run('t-2', 'train'), run('oip-3', 'oip'), run('bad-1', 'unreadable')] });
    expect(m.runsKind).toBe('train');
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['t-2', 'bad-1']);
    m.setRunsKind('oip');
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['oip-3', 'bad-1']);
    m.setRunsKind('dream');
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['bad-1']);
    m.setRunsKind('all');
    expect(m.visibleRuns().map(r => r.folder)).toEqual(['t-2', 'oip-3', 'bad-1']);
  });
});
