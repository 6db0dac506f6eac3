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
  'error'
] as const;

export const LOG_STREAMS = ['stdout', 'stderr'] as const;

export type LogStreamName = (typeof LOG_STREAMS)[number];

/** `error` is reported for a registry entry whose files cannot be read. */
export type WireStatus =
  | 'starting'
  | 'running'
  | 'unhealthy'
  | 'stopping'
  | 'stopped'
  | 'exited'
  | 'failed'
  | 'error';

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
}

/** One log line: `[epoch seconds or null, text]`. */
export type LogLine = [number | null, string];

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
}

export interface IResyncMessage {
  type: 'resync';
}

export interface IPollMessage {
  type: 'poll';
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
