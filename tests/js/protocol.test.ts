// The generated validators (src/validators.ts, ajv standalone code from the
// schema) must agree with the JSON Schema itself on every golden fixture (the
// same fixtures pytest checks against the Python side).
import * as fs from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { isPanelMessage, makeRequest, parseKernelMessage } from '../../src/guards';
import { ACTIONS, ACTIVE_STATES, FINISHED_STATES, PROTOCOL_VERSION } from '../../src/protocol';

const root = path.resolve(__dirname, '..', '..');
const schema = JSON.parse(
  fs.readFileSync(path.join(root, 'python/cnnlive/protocol/schema.json'), 'utf8')
);
const ajv = new Ajv2020({ strict: false });
ajv.addSchema(schema, 'protocol');
const validator = (kind: string) => ajv.getSchema(`protocol#/$defs/${kind}`)!;

function fixtures(side: string, kind: string): [string, unknown][] {
  const dir = path.join(root, 'tests/protocol_fixtures', side, kind);
  return fs
    .readdirSync(dir)
    .filter(f => f.endsWith('.json'))
    .map(f => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]);
}

describe('protocol schema', () => {
  it('owns the constants the generated module carries', () => {
    expect(schema.version).toBe(PROTOCOL_VERSION);
    expect([...ACTIONS]).toEqual(schema.$defs.Action.enum);
    expect([...ACTIVE_STATES, ...FINISHED_STATES].sort()).toEqual(
      [...schema.$defs.ActiveState.enum, ...schema.$defs.FinishedState.enum].sort()
    );
  });
  it('has both sides of the fixtures', () => {
    for (const side of ['kernel', 'panel']) {
      expect(fixtures(side, 'valid').length).toBeGreaterThan(3);
      expect(fixtures(side, 'invalid').length).toBeGreaterThan(3);
    }
  });
});

describe.each([
  ['kernel', 'KernelMessage', (m: unknown) => parseKernelMessage(m) !== null],
  ['panel', 'PanelMessage', isPanelMessage]
])('%s messages', (side, kind, guard) => {
  it.each(fixtures(side, 'valid'))('accepts valid %s', (_, msg) => {
    expect(validator(kind)(msg)).toBe(true);
    expect(guard(msg)).toBe(true);
  });
  it.each(fixtures(side, 'invalid'))('rejects invalid %s', (_, msg) => {
    expect(validator(kind)(msg)).toBe(false);
    expect(guard(msg)).toBe(false);
  });
});

describe('makeRequest', () => {
  it('builds schema-valid requests', () => {
    for (const req of [makeRequest('snapshot'), makeRequest('stop', 2), makeRequest('cancel', 5)]) {
      expect(validator('PanelMessage')(req)).toBe(true);
    }
  });
  it('gives each request its own id', () => {
    expect(makeRequest('snapshot').request_id).not.toBe(makeRequest('snapshot').request_id);
  });
  it('refuses unknown actions, missing and bad job ids', () => {
    expect(() => makeRequest('exec' as any, 1)).toThrow(/unknown action exec; valid: snapshot, stop/);
    expect(() => makeRequest('stop')).toThrow(/needs a job id/);
    expect(() => makeRequest('cancel', 0)).toThrow(/invalid job id 0/);
    expect(() => makeRequest('remove', 1.5)).toThrow(/invalid job id 1.5/);
  });
});
