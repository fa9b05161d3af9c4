// Runtime checks of protocol messages. The checks themselves are generated
// from the JSON Schema (src/validators.ts, ajv standalone code); this module
// only gives them types and builds the panel's own messages.
import { ACTIONS, KernelMessage, PROTOCOL_VERSION, PanelHello, PanelMessage, Request } from './protocol';
import { validateKernelMessage, validatePanelMessage } from './validators';

export type Action = Request['action'];
export { ACTIONS };

/** The message if it is a valid kernel-to-panel message, else null. */
export function parseKernelMessage(v: unknown): KernelMessage | null {
  return validateKernelMessage(v) ? (v as KernelMessage) : null;
}

/** True when `v` is a valid panel-to-kernel message. */
export function isPanelMessage(v: unknown): v is PanelMessage {
  return validatePanelMessage(v) === true;
}

let counter = 0;

/** Extra fields of a request: `after` for stop, `learning_rate`/`epochs` for
 *  adjust, `runs` (run folder names) for compare, `index` for frame. */
export type RequestParams = Pick<Request, 'after' | 'learning_rate' | 'epochs' | 'runs' | 'index'>;

/** A panel request for one of the known actions (checked against the schema). */
export function makeRequest(action: Action, jobId?: number, params: RequestParams = {}): Request {
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new Error(`unknown action ${action}; valid: ${ACTIONS.join(', ')}`);
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
  for (const key of ['after', 'learning_rate', 'epochs', 'runs', 'index'] as const) {
    if (params[key] !== undefined) {
      (req as any)[key] = params[key];
    }
  }
  if (!isPanelMessage(req)) {
    if (action === 'adjust' && jobId !== undefined) {
      throw new Error(
        'adjust needs a learning rate > 0 and/or a whole number of epochs >= 1'
      );
    }
    if (action === 'compare' || action === 'runs') {
      throw new Error(`${action} takes no job id; compare needs 1 to 12 run folder names (no paths)`);
    }
    if (action === 'frame') {
      throw new Error('frame needs a job id and a snapshot index >= 0');
    }
    throw new Error(
      jobId === undefined ? `action ${action} needs a job id` : `invalid job id ${jobId} for ${action}`
    );
  }
  return req;
}

export function makeHello(): PanelHello {
  return { type: 'hello', protocol: PROTOCOL_VERSION };
}
