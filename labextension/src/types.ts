/**
 * Shared types of the syft_pm frontend.
 *
 * The wire protocol types (snapshot/delta messages) will live next to these;
 * the names here follow the public contract in ARCHITECTURE.md.
 */

/**
 * The MIME type of the inline process output (a reference, not the state).
 */
export const PROCESS_MIME_TYPE = 'application/vnd.syft-pm.process+json';

/**
 * Every status a managed process can have, as written by the supervisor.
 */
export const PROCESS_STATUSES = [
  'starting',
  'running',
  'unhealthy',
  'stopping',
  'stopped',
  'exited',
  'failed'
] as const;

/**
 * A status a managed process can have.
 */
export type ProcessStatus = (typeof PROCESS_STATUSES)[number];

/**
 * What a view shows before it knows the live state of a process.
 */
export const UNKNOWN_STATUS = 'unknown';

/**
 * A status as a view sees it: a known status or `unknown`.
 */
export type DisplayStatus = ProcessStatus | typeof UNKNOWN_STATUS;

/**
 * Whether a value is one of the known process statuses.
 */
export function isProcessStatus(value: unknown): value is ProcessStatus {
  return (
    typeof value === 'string' &&
    (PROCESS_STATUSES as readonly string[]).includes(value)
  );
}

/**
 * The data of a `application/vnd.syft-pm.process+json` bundle.
 */
export interface IProcessReference {
  /**
   * Version of the reference format.
   */
  version: number;
  /**
   * The id of the registry (one per `SYFT_PM_HOME`).
   */
  registry_id: string;
  /**
   * The process name, unique in its registry.
   */
  name: string;
  /**
   * The registry directory on the host of the kernel.
   */
  home: string;
}

/**
 * The reference format versions this frontend understands.
 */
export const SUPPORTED_REFERENCE_VERSIONS: readonly number[] = [1];

/**
 * The response of `GET /syft-pm/api/status`.
 */
export interface IServerStatus {
  version: string;
  [key: string]: unknown;
}
