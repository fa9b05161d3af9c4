// Generated from python/cnnlive/protocol/schema.json by
// scripts/gen_protocol_types.py. Do not edit by hand.

export const PROTOCOL_VERSION = 1;

export type JobId = number;

export type State = "pending" | "running" | "stopping" | "stopped" | "cancelled" | "completed" | "failed";

export interface Image {
  buffer: number;
  width: number;
  height: number;
  caption?: string;
}

export interface Card {
  id: JobId;
  name: string;
  kind: string;
  state: State;
  progress: number | null;
  elapsed: number;
  metrics: Record<string, number>;
  sparkline: Array<number>;
  log_tail: Array<string>;
  note: string | null;
}

export interface Gpu {
  name: string;
  used_mb: number;
  total_mb: number | null;
}

export interface KernelHello {
  type: "hello";
  protocol: number;
  version: string;
  pid: number;
  subshells: boolean;
}

export interface Snapshot {
  type: "snapshot";
  jobs: Array<Card>;
}

export interface JobUpdate {
  type: "job";
  job: Card;
  image?: Image;
}

export interface Removed {
  type: "removed";
  id: JobId;
}

export interface Resources {
  type: "resources";
  cpu_percent: number;
  rss_mb: number;
  gpus: Array<Gpu>;
}

export interface Reply {
  type: "reply";
  request_id: string | null;
  ok: boolean;
  message: string;
}

export interface PanelHello {
  type: "hello";
  protocol: number;
}

export interface Request {
  type: "request";
  request_id: string;
  action: "snapshot" | "stop" | "cancel" | "remove";
  job_id?: JobId;
}

export type KernelMessage = KernelHello | Snapshot | JobUpdate | Removed | Resources | Reply;

export type PanelMessage = PanelHello | Request;
