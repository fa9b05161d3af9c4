// Runtime checks of messages against the protocol (src/protocol.ts is the
// generated type file; tests check these guards agree with the JSON Schema).
import {
  Card,
  KernelMessage,
  PROTOCOL_VERSION,
  PanelHello,
  Request
} from './protocol';

const STATES = new Set([
  'pending',
  'running',
  'stopping',
  'stopped',
  'cancelled',
  'completed',
  'failed'
]);
export const ACTIONS = ['snapshot', 'stop', 'cancel', 'remove'] as const;
export type Action = (typeof ACTIONS)[number];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => isNum(v) && Number.isInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const onlyKeys = (o: Obj, required: string[], optional: string[] = []) =>
  required.every(k => k in o) &&
  Object.keys(o).every(k => required.includes(k) || optional.includes(k));

export function isCard(v: unknown): v is Card {
  if (
    !isObj(v) ||
    !onlyKeys(v, [
      'id',
      'name',
      'kind',
      'state',
      'progress',
      'elapsed',
      'metrics',
      'sparkline',
      'log_tail',
      'note'
    ])
  ) {
    return false;
  }
  return (
    isInt(v.id) &&
    v.id >= 1 &&
    isStr(v.name) &&
    isStr(v.kind) &&
    STATES.has(v.state as string) &&
    (v.progress === null ||
      (isNum(v.progress) && v.progress >= 0 && v.progress <= 1)) &&
    isNum(v.elapsed) &&
    v.elapsed >= 0 &&
    isObj(v.metrics) &&
    Object.values(v.metrics).every(isNum) &&
    Array.isArray(v.sparkline) &&
    v.sparkline.length <= 200 &&
    v.sparkline.every(isNum) &&
    Array.isArray(v.log_tail) &&
    v.log_tail.length <= 50 &&
    v.log_tail.every(isStr) &&
    (v.note === null || isStr(v.note))
  );
}

function isImage(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, ['buffer', 'width', 'height'], ['caption']) &&
    isInt(v.buffer) &&
    v.buffer >= 0 &&
    isInt(v.width) &&
    v.width >= 1 &&
    isInt(v.height) &&
    v.height >= 1 &&
    (v.caption === undefined || isStr(v.caption))
  );
}

/** The message if it is a valid kernel-to-panel message, else null. */
export function parseKernelMessage(v: unknown): KernelMessage | null {
  if (!isObj(v)) {
    return null;
  }
  switch (v.type) {
    case 'hello':
      return onlyKeys(v, ['type', 'protocol', 'version', 'pid', 'subshells']) &&
        isInt(v.protocol) &&
        isStr(v.version) &&
        isInt(v.pid) &&
        typeof v.subshells === 'boolean'
        ? (v as unknown as KernelMessage)
        : null;
    case 'snapshot':
      return onlyKeys(v, ['type', 'jobs']) &&
        Array.isArray(v.jobs) &&
        v.jobs.every(isCard)
        ? (v as unknown as KernelMessage)
        : null;
    case 'job':
      return onlyKeys(v, ['type', 'job'], ['image']) &&
        isCard(v.job) &&
        (v.image === undefined || isImage(v.image))
        ? (v as unknown as KernelMessage)
        : null;
    case 'removed':
      return onlyKeys(v, ['type', 'id']) && isInt(v.id) && v.id >= 1
        ? (v as unknown as KernelMessage)
        : null;
    case 'resources':
      return onlyKeys(v, ['type', 'cpu_percent', 'rss_mb', 'gpus']) &&
        isNum(v.cpu_percent) &&
        v.cpu_percent >= 0 &&
        isNum(v.rss_mb) &&
        v.rss_mb >= 0 &&
        Array.isArray(v.gpus) &&
        v.gpus.every(
          g =>
            isObj(g) &&
            onlyKeys(g, ['name', 'used_mb', 'total_mb']) &&
            isStr(g.name) &&
            isNum(g.used_mb) &&
            (g.total_mb === null || isNum(g.total_mb))
        )
        ? (v as unknown as KernelMessage)
        : null;
    case 'reply':
      return onlyKeys(v, ['type', 'request_id', 'ok', 'message']) &&
        (v.request_id === null || isStr(v.request_id)) &&
        typeof v.ok === 'boolean' &&
        isStr(v.message)
        ? (v as unknown as KernelMessage)
        : null;
    default:
      return null;
  }
}

let counter = 0;

/** A panel request for one of the known actions. */
export function makeRequest(action: Action, jobId?: number): Request {
  if (!ACTIONS.includes(action)) {
    throw new Error(`unknown action ${action}; valid: ${ACTIONS.join(', ')}`);
  }
  if (action !== 'snapshot' && !(isInt(jobId) && jobId >= 1)) {
    throw new Error(`action ${action} needs a job id`);
  }
  counter += 1;
  const req: Request = {
    type: 'request',
    request_id: `r${Date.now().toString(36)}-${counter}`,
    action
  };
  if (jobId !== undefined) {
    req.job_id = jobId;
  }
  return req;
}

export function makeHello(): PanelHello {
  return { type: 'hello', protocol: PROTOCOL_VERSION };
}

/** True when `v` is a valid panel-to-kernel message (used by tests and
 *  before sending). */
export function isPanelMessage(v: unknown): boolean {
  if (!isObj(v)) {
    return false;
  }
  if (v.type === 'hello') {
    return onlyKeys(v, ['type', 'protocol']) && isInt(v.protocol);
  }
  if (v.type !== 'request') {
    return false;
  }
  if (
    !onlyKeys(v, ['type', 'request_id', 'action'], ['job_id']) ||
    !isStr(v.request_id) ||
    v.request_id.length > 64 ||
    !ACTIONS.includes(v.action as Action)
  ) {
    return false;
  }
  if (v.job_id !== undefined && !(isInt(v.job_id) && v.job_id >= 1)) {
    return false;
  }
  return v.action === 'snapshot' || v.job_id !== undefined;
}
