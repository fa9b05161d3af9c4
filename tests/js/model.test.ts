import { PROTOCOL_VERSION } from '../../src/protocol';
import { HISTORY_POINTS, PanelModel, isActive, isFinished, isStoppable } from '../../src/model';

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

describe('PanelModel', () => {
  it('connects on hello and shows the snapshot', () => {
    const m = new PanelModel();
    let changes = 0;
    m.changed.connect(() => (changes += 1));
    expect(m.apply({ type: 'hello', protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 1, subshells: true })).toBe(true);
    expect(m.status).toBe('connected');
    expect(m.mismatch).toBe('');
    m.apply({ type: 'snapshot', jobs: [card(1), card(2, 'stopped')] });
    expect([...m.jobs.keys()]).toEqual([1, 2]);
    expect(m.jobs.get(2)!.state).toBe('stopped');
    expect(changes).toBe(2);
  });

  it('updates a card and keeps its image bytes from the buffer', () => {
    const m = new PanelModel();
    m.apply({ type: 'snapshot', jobs: [card(1)] });
    const png = new Uint8Array([137, 80, 78, 71]);
    m.apply(
      { type: 'job', job: card(1, 'running', { progress: 0.9 }), image: { buffer: 0, width: 2, height: 2, caption: 'map 3' } },
      [png.buffer]
    );
    const job = m.jobs.get(1)!;
    expect(job.progress).toBe(0.9);
    expect(Array.from(job.image!.bytes)).toEqual([137, 80, 78, 71]);
    expect(job.image!.caption).toBe('map 3');
    expect(job.imageVersion).toBe(1);
    m.apply({ type: 'job', job: card(1, 'stopped') });
    expect(m.jobs.get(1)!.image).toBeDefined();
    expect(m.jobs.get(1)!.imageVersion).toBe(1);
  });

  it('removes cards', () => {
    const m = new PanelModel();
    m.apply({ type: 'snapshot', jobs: [card(1), card(2)] });
    m.apply({ type: 'removed', id: 1 });
    expect([...m.jobs.keys()]).toEqual([2]);
  });

  it('ignores malformed messages and changes nothing', () => {
    const m = new PanelModel();
    m.apply({ type: 'snapshot', jobs: [card(1)] });
    let changes = 0;
    m.changed.connect(() => (changes += 1));
    expect(m.apply({ type: 'job', job: { id: 1 } })).toBe(false);
    expect(m.apply({ type: 'removed', id: 'all' })).toBe(false);
    expect(m.apply('<script>')).toBe(false);
    expect(m.jobs.get(1)!.state).toBe('running');
    expect(m.jobs.size).toBe(1);
    expect(m.invalidMessages).toBe(3);
    expect(changes).toBe(0);
  });

  it('shows a banner on a protocol version mismatch', () => {
    const m = new PanelModel();
    m.apply({ type: 'hello', protocol: 99, version: '9.0.0', pid: 1, subshells: false });
    expect(m.mismatch).toMatch(/protocol 99/);
    expect(m.mismatch).toContain(`this panel speaks ${PROTOCOL_VERSION}`);
    m.apply({ type: 'hello', protocol: 1, version: '0.9.0', pid: 1, subshells: false });
    expect(m.mismatch).toMatch(/protocol 1, this panel speaks 2/); // a kernel of protocol 1 (before saved runs and the slider)
  });

  it('forgets jobs when the kernel restarts', () => {
    const m = new PanelModel();
    m.apply({ type: 'snapshot', jobs: [card(1)] });
    m.setStatus('restarting');
    expect(m.jobs.size).toBe(0);
    expect(m.hello).toBeNull();
  });

  it('shows replies as notices', () => {
    const m = new PanelModel();
    m.apply({ type: 'reply', request_id: 'r1', ok: false, message: 'unknown job id 9; known ids: 1' });
    expect(m.notice).toBe('Error: unknown job id 9; known ids: 1');
  });

  it('keeps metrics last seen and the note of the latest state change', () => {
    const m = new PanelModel();
    m.apply({ type: 'job', job: card(1, 'running', { metrics: { loss: 0.4, val_accuracy: 0.9 } }) });
    m.apply({ type: 'job', job: card(1, 'stopping', { note: 'stop requested' }) });
    m.apply({ type: 'job', job: card(1, 'stopping', { metrics: { loss: 0.2 }, note: null }) });
    const job = m.jobs.get(1)!;
    expect(job.metrics).toEqual({ loss: 0.2, val_accuracy: 0.9 });
    expect(job.note).toBe('stop requested');
    m.apply({ type: 'job', job: card(1, 'stopped', { note: null }) });
    expect(m.jobs.get(1)!.note).toBeNull();
  });

  it('keeps a bounded history of resources for the header graphs', () => {
    const m = new PanelModel();
    for (let i = 0; i < HISTORY_POINTS + 10; i++) {
      m.apply({
        type: 'resources',
        cpu_percent: i,
        rss_mb: 100 + i,
        gpus: [{ name: 'GPU0', used_mb: 2 * i, total_mb: 8000 }]
      });
    }
    expect(m.history.cpu.length).toBe(HISTORY_POINTS);
    expect(m.history.cpu[HISTORY_POINTS - 1]).toBe(HISTORY_POINTS + 9);
    expect(m.history.rss[0]).toBe(110);
    expect(m.history.gpus).toHaveLength(1);
    expect(m.history.gpus[0].used[HISTORY_POINTS - 1]).toBe(2 * (HISTORY_POINTS + 9));
    expect(m.history.gpus[0].total).toBe(8000);
    m.setStatus('restarting');
    expect(m.history.cpu).toEqual([]);
  });

  it('records a restart and drops the stale cards', () => {
    const m = new PanelModel();
    m.apply({ type: 'hello', protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 10, subshells: true });
    m.apply({ type: 'snapshot', jobs: [card(1), card(2)] });
    expect(m.restart).toBeNull();
    m.setStatus('restarting');
    expect(m.restart!.dropped).toBe(2);
    expect(m.jobs.size).toBe(0);
    // a restart the panel did not see: the hello comes from another process
    m.apply({ type: 'hello', protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 11, subshells: true });
    m.apply({ type: 'snapshot', jobs: [card(3)] });
    m.restart = null;
    m.apply({ type: 'hello', protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 12, subshells: true });
    expect(m.restart!.dropped).toBe(1);
    expect(m.jobs.size).toBe(0);
    // the same process saying hello again (a page reload) drops nothing
    m.apply({ type: 'snapshot', jobs: [card(4)] });
    m.apply({ type: 'hello', protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 12, subshells: true });
    expect(m.jobs.size).toBe(1);
  });

  it('classifies states from the schema', () => {
    expect(isStoppable(card(1, 'running') as any)).toBe(true);
    expect(isStoppable(card(1, 'stopping') as any)).toBe(false);
    expect(isActive(card(1, 'stopping') as any)).toBe(true);
    for (const s of ['stopped', 'cancelled', 'completed', 'failed']) {
      expect(isFinished(card(1, s) as any)).toBe(true);
      expect(isActive(card(1, s) as any)).toBe(false);
    }
  });
});
