// Steering requests from the panel (pause, resume, adjust, stop after the
// epoch) and the card states they depend on, against the schema's fixtures.
import * as fs from 'fs';
import * as path from 'path';
import { isPanelMessage, makeRequest, parseKernelMessage } from '../../src/guards';
import { isAdjustable, isPausable, isPaused, isStoppable } from '../../src/model';

const root = path.resolve(__dirname, '..', '..');
const fixture = (side: string, kind: string, name: string) =>
  JSON.parse(fs.readFileSync(path.join(root, 'tests/protocol_fixtures', side, kind, name), 'utf8'));

const card = (state: string, kind = 'train') => ({
  id: 3,
  name: 'j',
  kind,
  state,
  progress: 0.5,
  elapsed: 1,
  metrics: {},
  sparkline: [],
  log_tail: [],
  note: null
});

describe('steering requests', () => {
  it('pause and resume carry only the job id', () => {
    for (const action of ['pause', 'resume'] as const) {
      const req = makeRequest(action, 3);
      expect(isPanelMessage(req)).toBe(true);
      const { request_id, ...rest } = req;
      expect(rest).toEqual({ type: 'request', action, job_id: 3 });
      expect(request_id).toMatch(/^r/);
    }
    expect(() => makeRequest('pause')).toThrow(/needs a job id/);
  });

  it('adjust carries the learning rate and/or epochs like the fixture', () => {
    const want = fixture('panel', 'valid', 'adjust.json');
    const req = makeRequest('adjust', 3, { learning_rate: 0.002, epochs: 8 });
    expect({ ...req, request_id: want.request_id }).toEqual(want);
    expect(isPanelMessage(makeRequest('adjust', 3, { epochs: 2 }))).toBe(true);
  });

  it('refuses adjust requests the kernel would refuse', () => {
    for (const params of [{}, { learning_rate: 0 }, { learning_rate: -1 }, { epochs: 2.5 }, { epochs: 0 }]) {
      expect(() => makeRequest('adjust', 3, params)).toThrow(/learning rate > 0 .*epochs >= 1/);
    }
    expect(() => makeRequest('pause', 3, { learning_rate: 0.1 })).toThrow();
  });

  it('stop after the epoch', () => {
    const req = makeRequest('stop', 3, { after: 'epoch' });
    expect(req.after).toBe('epoch');
    expect(isPanelMessage(req)).toBe(true);
    expect(() => makeRequest('cancel', 3, { after: 'epoch' })).toThrow();
  });
});

describe('paused cards', () => {
  it('parses a paused card and classifies it', () => {
    const msg = parseKernelMessage(fixture('kernel', 'valid', 'job_paused.json'));
    expect(msg).not.toBeNull();
    const paused = card('paused');
    expect(isPaused(paused as any)).toBe(true);
    expect(isPausable(paused as any)).toBe(false);
    expect(isStoppable(paused as any)).toBe(true); // stop ends a paused job
    expect(isPausable(card('running') as any)).toBe(true);
    expect(isPausable(card('stopping') as any)).toBe(false);
  });

  it('offers the adjust form on active training cards only', () => {
    expect(isAdjustable(card('running') as any)).toBe(true);
    expect(isAdjustable(card('paused', 'fit') as any)).toBe(true);
    expect(isAdjustable(card('running', 'oip') as any)).toBe(false);
    expect(isAdjustable(card('stopping') as any)).toBe(false);
    expect(isAdjustable(card('completed') as any)).toBe(false);
  });
});
