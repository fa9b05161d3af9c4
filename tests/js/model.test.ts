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

describe('PanelModel', () => {
  it('connects on hello and shows the snapshot', () => {
    const m = new PanelModel();
    let changes = 0;
    m.changed.connect(() => (changes += 1));
    expect(m.apply({ type: 'hello', protocol: 1, version: '0.1.0', pid: 1, subshells: true })).toBe(true);
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
    expect(m.mismatch).toMatch(/speaks 1/);
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
});
