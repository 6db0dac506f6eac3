/**
 * Pure formatting helpers shared by the sidebar and the cell renderer.
 */
import {
  DisplayStatus,
  IBinding,
  IRunner,
  isProcessStatus,
  UNKNOWN_STATUS
} from '../live/protocol';

/**
 * What the views print for a missing or meaningless value.
 */
export const PLACEHOLDER = '\u2014';

/**
 * Format a duration in seconds with its two most significant units,
 * e.g. `45s`, `3m 07s`, `2h 05m`, `4d 3h`.
 */
export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return PLACEHOLDER;
  }
  if (seconds < 0) {
    return PLACEHOLDER;
  }
  const total = Math.floor(seconds);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (days > 0) {
    return `${days}d ${hours}h`;
  }
  if (hours > 0) {
    return `${hours}h ${pad(minutes)}m`;
  }
  if (minutes > 0) {
    return `${minutes}m ${pad(secs)}s`;
  }
  return `${secs}s`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Format a byte count with binary units: `512 B`, `1.5 KiB`, `12 MiB`.
 *
 * One decimal below 10 units, none above; never `1024 KiB` (rolls over).
 */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) {
    return PLACEHOLDER;
  }
  if (n < 1024) {
    return `${Math.round(n)} B`;
  }
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  let text = value < 10 ? value.toFixed(1) : String(Math.round(value));
  if (text === '1024' && unit < BYTE_UNITS.length - 1) {
    text = '1.0';
    unit += 1;
  }
  return `${text} ${BYTE_UNITS[unit]}`;
}

/**
 * How a status is coloured: ok (green), warn (amber), error (red),
 * neutral (finished on purpose) or unknown (no live state yet).
 */
export type StatusTone = 'ok' | 'warn' | 'error' | 'neutral' | 'unknown';

/**
 * The tone of a status. Anything unrecognised is `unknown`, so a newer
 * server can add statuses without breaking an older frontend.
 */
export function statusTone(status: string | null | undefined): StatusTone {
  if (!isProcessStatus(status)) {
    return 'unknown';
  }
  switch (status) {
    case 'running':
      return 'ok';
    case 'queued':
    case 'starting':
    case 'unhealthy':
    case 'stopping':
      return 'warn';
    case 'failed':
      return 'error';
    case 'stopped':
    case 'exited':
      return 'neutral';
  }
}

/**
 * The CSS class that colours a status badge, e.g. `syft-pm-tone-ok`.
 */
export function statusClass(status: string | null | undefined): string {
  return `syft-pm-tone-${statusTone(status)}`;
}

/**
 * The status as shown to the user: a known status, or `unknown`.
 */
export function displayStatus(
  status: string | null | undefined
): DisplayStatus {
  return isProcessStatus(status) ? status : UNKNOWN_STATUS;
}

/**
 * The CPU cell: `3.2%`, `12%`.
 */
export function formatCpu(cpu: number | null | undefined): string {
  if (cpu === null || cpu === undefined || !Number.isFinite(cpu)) {
    return '';
  }
  return cpu < 10 ? `${cpu.toFixed(1)}%` : `${Math.round(cpu)}%`;
}

/**
 * Where a process runs when a scheduler runs it: `slurm job 42 on node07 (gpu)`,
 * or `slurm job 42 (queued)` before it has a node.
 */
export function runnerText(runner: IRunner): string {
  const job = runner.job_id ? ` job ${runner.job_id}` : '';
  const where = runner.node ? ` on ${runner.node}` : ' (queued)';
  const part = runner.partition ? ` (${runner.partition})` : '';
  return `${runner.kind}${job}${where}${runner.node ? part : ''}`;
}

/**
 * What a `bind="kernel"` process follows: `kernel 1a2b3c4d`, `(gone)` while
 * the kernel is missing and its grace period runs.
 */
export function bindText(bind: IBinding): string {
  const id = bind.kernel_id ? ` ${bind.kernel_id.slice(0, 8)}` : '';
  return `${bind.to}${id}${bind.lost_at !== null ? ' (gone)' : ''}`;
}

/**
 * An epoch as this browser's local wall clock, `HH:MM:SS`.
 */
export function formatClock(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
