/**
 * Wire protocol v1: the TypeScript mirror of `syft_pm/protocol.py`.
 *
 * `docs/protocol.md` describes it; `tests/test_protocol_sync.py` reads the
 * `as const` lists below and fails when they drift from the Python side.
 */

export const PROTOCOL_VERSION = 1;

/** Python -> view. */
export const SERVER_MESSAGES = [
  'snapshot',
  'delta',
  'heartbeat',
  'action_result',
  'error'
] as const;

/** View -> Python. */
export const CLIENT_MESSAGES = [
  'subscribe',
  'resync',
  'poll',
  'action'
] as const;

/** Actions a view may ask for. */
export const ACTIONS = ['stop', 'restart', 'start', 'remove'] as const;

export type Action = (typeof ACTIONS)[number];

/** Every field of a process state on the wire. */
export const STATE_FIELDS = [
  'name',
  'status',
  'reason',
  'pid',
  'exit_code',
  'signal',
  'restarts',
  'started_at',
  'ended_at',
  'stop_reason',
  'next_restart_at',
  'command',
  'cwd',
  'restart_policy',
  'ttl',
  'labels',
  'origin',
  'health',
  'metrics',
  'error',
  'runner',
  'ready_at',
  'restart_reason',
  'bind',
  'max_memory'
] as const;

export const LOG_STREAMS = ['stdout', 'stderr'] as const;

export type LogStreamName = (typeof LOG_STREAMS)[number];

/**
 * Every status a process can have, in lifecycle order (`STATUSES` in
 * `syft_pm/status.py`). `queued`: waiting for a cluster scheduler.
 */
export const STATUSES = [
  'queued',
  'starting',
  'running',
  'unhealthy',
  'stopping',
  'stopped',
  'exited',
  'failed'
] as const;

/** A supervisor is (or should be) looking after the process. */
export const ACTIVE_STATUSES = [
  'queued',
  'starting',
  'running',
  'unhealthy',
  'stopping'
] as const;

/** Nothing will change any more unless someone starts the process again. */
export const FINAL_STATUSES = ['stopped', 'exited', 'failed'] as const;

/** The command itself runs, so an uptime (and a pid) means something. */
export const UP_STATUSES = ['running', 'unhealthy', 'stopping'] as const;

/** Reported for a registry entry whose files cannot be read, never written. */
export const ERROR_STATUS = 'error';

/** A status a managed process can have. */
export type ProcessStatus = (typeof STATUSES)[number];

/** A status on the wire: a process status, or `error`. */
export type WireStatus = ProcessStatus | typeof ERROR_STATUS;

/** What a view shows before it knows the live state of a process. */
export const UNKNOWN_STATUS = 'unknown';

/** A status as a view sees it: a known status or `unknown`. */
export type DisplayStatus = ProcessStatus | typeof UNKNOWN_STATUS;

function isIn(list: readonly string[], value: unknown): boolean {
  return typeof value === 'string' && list.includes(value);
}

/** Whether a value is one of the known process statuses. */
export function isProcessStatus(value: unknown): value is ProcessStatus {
  return isIn(STATUSES, value);
}

/** Whether a supervisor is (or should be) looking after the process. */
export function isActive(status: unknown): boolean {
  return isIn(ACTIVE_STATUSES, status);
}

/** Whether the process is over (stopped, exited or failed). */
export function isFinal(status: unknown): boolean {
  return isIn(FINAL_STATUSES, status);
}

/** Whether the command runs (its uptime ticks). */
export function isUp(status: unknown): boolean {
  return isIn(UP_STATUSES, status);
}

export interface IHealth {
  status: string | null;
  message: string | null;
  checked_at: number | null;
  source: string | null;
  consecutive_failures: number | null;
}

export interface IMetrics {
  cpu_percent: number;
  rss_bytes: number;
  threads: number;
  children: number;
  ports: number[];
}

export interface IOrigin {
  kernel_id?: string;
  notebook?: string;
  user?: string;
  host?: string;
  source?: string;
}

export interface IProcessState {
  name: string;
  status: WireStatus;
  reason: string | null;
  pid: number | null;
  exit_code: number | null;
  signal: string | null;
  restarts: number;
  started_at: number | null;
  ended_at: number | null;
  stop_reason: string | null;
  next_restart_at: number | null;
  command: string | null;
  cwd: string | null;
  restart_policy: string | null;
  ttl: number | null;
  labels: Record<string, string>;
  origin: IOrigin;
  health: IHealth | null;
  metrics: IMetrics | null;
  error: string | null;
  runner: IRunner | null;
  ready_at: number | null;
  restart_reason: string | null;
  bind: IBinding | null;
  max_memory: number | null;
}

/**
 * The kernel a `bind="kernel"` process follows (stopped `grace` seconds after
 * it is gone for good; a restarted kernel is followed).
 */
export interface IBinding {
  to: string;
  kernel_id: string | null;
  pid: number | null;
  lost_at: number | null;
  grace: number | null;
}

/**
 * Where a process runs when not under this host's own supervisor (null: local).
 */
export interface IRunner {
  kind: string;
  job_id: string | null;
  node: string | null;
  partition: string | null;
}

/**
 * One log line: `[epoch seconds or null, text]`, the text as written (raw:
 * carriage returns kept). A third element, when present and not 0, says the
 * line continues the one before it (a piece of a line the writer cut).
 */
export type LogLine = [t: number | null, text: string, cont?: number];

export interface ILogChunk {
  lines: LogLine[];
  skipped: number;
}

export type ProcessLogs = Partial<Record<LogStreamName, ILogChunk>>;

export interface ISnapshotMessage {
  type: 'snapshot';
  protocol: number;
  seq: number;
  registry_id: string;
  time: number;
  scope: string[] | null;
  processes: Record<string, IProcessState>;
  logs: Record<string, ProcessLogs>;
}

export interface IDeltaMessage {
  type: 'delta';
  seq: number;
  time: number;
  added: Record<string, IProcessState>;
  changed: Record<string, Partial<IProcessState>>;
  removed: string[];
  logs: Record<string, ProcessLogs>;
}

export interface IHeartbeatMessage {
  type: 'heartbeat';
  seq: number;
  time: number;
}

export interface IActionResultMessage {
  type: 'action_result';
  id: string | number | null;
  ok: boolean;
  error: string | null;
  result: unknown;
}

export interface IErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

export type ServerMessage =
  | ISnapshotMessage
  | IDeltaMessage
  | IHeartbeatMessage
  | IActionResultMessage
  | IErrorMessage;

export interface ISubscribeMessage {
  type: 'subscribe';
  names?: string[] | null;
  log_lines?: number;
  logs?: boolean;
  /** Widget comm only: false asks the kernel to hold thread output for polls. */
  push?: boolean;
}

export interface IResyncMessage {
  type: 'resync';
}

export interface IPollMessage {
  type: 'poll';
  /** Widget comm only: the tail to reopen an expired subscription with. */
  log_lines?: number;
}

export interface IActionMessage {
  type: 'action';
  id: string;
  action: Action;
  name: string;
  args?: Record<string, unknown>;
}

export type ClientMessage =
  ISubscribeMessage | IResyncMessage | IPollMessage | IActionMessage;

/** Whether a parsed JSON value looks like a message from the Python side. */
export function isServerMessage(value: unknown): value is ServerMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (SERVER_MESSAGES as readonly string[]).includes(
      (value as { type?: unknown }).type as string
    )
  );
}
