// Generated from python/cnnlive/protocol/schema.json by scripts/gen_protocol.mjs
// (npm run gen:protocol, part of npm run build). Do not edit by hand.

export const PROTOCOL_VERSION = 2;
export const ACTIONS = ["snapshot","stop","cancel","remove","pause","resume","adjust","runs","compare","frame"] as const;
export const ACTIVE_STATES = ["pending","running","paused","stopping"] as const;
export const FINISHED_STATES = ["stopped","cancelled","completed","failed"] as const;

/**
 * Messages on the 'cnnlive' comm between the kernel and the JupyterLab side panel. Images travel as PNG bytes in the message's buffers; 'image.buffer' is the index.
 */
export type ProtocolMessage = KernelMessage | PanelMessage;
export type KernelMessage =
  KernelHello | Snapshot | JobUpdate | Removed | Resources | Reply | RunsList | Comparison | Frame;
export type JobId = number;
export type State = ActiveState | FinishedState;
export type ActiveState = "pending" | "running" | "paused" | "stopping";
export type FinishedState = "stopped" | "cancelled" | "completed" | "failed";
export type PanelMessage = PanelHello | Request;
export type Request = {
  type: "request";
  request_id: string;
  action: Action;
  job_id?: JobId;
  /**
   * stop only: 'epoch' ends a training job at the end of its current epoch
   */
  after?: "epoch";
  /**
   * adjust only: the learning rate from the next batch
   */
  learning_rate?: number;
  /**
   * adjust only: the total epochs of the run
   */
  epochs?: number;
  /**
   * compare only: run folder names as listed by a 'runs' answer (names, never paths)
   *
   * @minItems 1
   * @maxItems 12
   */
  runs?: [string, ...string[]];
  /**
   * frame only: which kept snapshot (0 = the oldest)
   */
  index?: number;
};
export type Action =
  "snapshot" | "stop" | "cancel" | "remove" | "pause" | "resume" | "adjust" | "runs" | "compare" | "frame";

export interface KernelHello {
  type: "hello";
  protocol: number;
  version: string;
  pid: number;
  subshells: boolean;
}
export interface Snapshot {
  type: "snapshot";
  jobs: Card[];
}
export interface Card {
  id: JobId;
  name: string;
  kind: string;
  state: State;
  progress: number | null;
  elapsed: number;
  metrics: {
    [k: string]: number;
  };
  /**
   * @maxItems 200
   */
  sparkline: number[];
  /**
   * @maxItems 50
   */
  log_tail: string[];
  note: string | null;
  epoch?: Epoch;
  snapshots?: Snapshots;
}
/**
 * The epoch a training job is in (1-based) and how many it runs, when known.
 */
export interface Epoch {
  current: number;
  total: number | null;
}
/**
 * An OIP job's kept snapshots (its timeline, bounded by oip_snapshot_mb): how many, and the newest's label. The panel asks for one with a 'frame' request.
 */
export interface Snapshots {
  count: number;
  newest: string;
}
export interface JobUpdate {
  type: "job";
  job: Card;
  image?: Image;
}
export interface Image {
  buffer: number;
  width: number;
  height: number;
  caption?: string;
}
export interface Removed {
  type: "removed";
  id: JobId;
}
export interface Resources {
  type: "resources";
  cpu_percent: number;
  rss_mb: number;
  gpus: Gpu[];
}
export interface Gpu {
  name: string;
  used_mb: number;
  total_mb: number | null;
}
export interface Reply {
  type: "reply";
  request_id: string | null;
  ok: boolean;
  message: string;
}
/**
 * Answer to a 'runs' request: the saved runs, newest first.
 */
export interface RunsList {
  type: "runs";
  request_id: string | null;
  folder: string;
  /**
   * @maxItems 500
   */
  runs: RunRow[];
  /**
   * how many runs the folder holds (more than sent when over 500)
   */
  total?: number;
}
/**
 * One saved run folder of the runs folder.
 */
export interface RunRow {
  folder: string;
  name: string;
  kind: string;
  /**
   * local time, YYYY-MM-DD HH:MM:SS
   */
  date: string;
  epochs: number | null;
  best: null | {
    metric: string;
    value: number;
    epoch: number;
  };
}
/**
 * Answer to a 'compare' request: each selected run's epoch history (metric -> values per epoch; null where not a number).
 */
export interface Comparison {
  type: "compare";
  request_id: string | null;
  /**
   * @maxItems 12
   */
  runs: {
    folder: string;
    history: {
      [k: string]: (number | null)[];
    };
    /**
     * the epoch number (from 1) of each value sent (a long history is thinned)
     */
    epochs?: number[];
  }[];
}
/**
 * Answer to a 'frame' request: one kept snapshot of an OIP job (its PNG in the message's buffers).
 */
export interface Frame {
  type: "frame";
  request_id: string | null;
  job_id: JobId;
  index: number;
  count: number;
  label: string;
  objective: number | null;
  image: Image;
}
export interface PanelHello {
  type: "hello";
  protocol: number;
}
