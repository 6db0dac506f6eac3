/**
 * The pure model of the Processes sidebar: which rows exist (server rows and
 * the active kernel's rows merged), which of them a filter keeps, in which
 * order, and how a row's origin is named. No DOM, no I/O: unit-tested as is.
 */
import { formatUptime } from '../process/format';
import {
  IProcessState,
  isActive,
  isFinal,
  isUp,
  STATUSES
} from '../live/protocol';

/**
 * Where a row's state comes from: the server extension's websocket, or only
 * the comm of the active notebook's kernel (a process the server cannot see).
 */
export type RowSource = 'server' | 'kernel';

/**
 * Prefix of the key of a kernel-only row. Process names start with a letter
 * or digit and never contain ':', so no server row can collide with it.
 */
export const KERNEL_KEY_PREFIX = 'kernel:';

/**
 * One row of the list.
 */
export interface IProcessRow {
  /** Unique among rows: the name for server rows, `kernel:<name>` otherwise. */
  readonly key: string;
  readonly name: string;
  readonly source: RowSource;
  /** The state as the store holds it (replaced, never mutated, on change). */
  readonly state: IProcessState;
  /** Seconds to add to the Python clock to get the browser's clock. */
  readonly clockOffset: number;
}

/**
 * The key of the row of `name` seen through `source`.
 */
export function rowKey(source: RowSource, name: string): string {
  return source === 'kernel' ? `${KERNEL_KEY_PREFIX}${name}` : name;
}

/**
 * What a store contributes to the merge.
 */
export interface IRowInput {
  readonly registryId: string | null;
  readonly clockOffset: number;
  readonly states: Iterable<IProcessState>;
  /** Whether the server has (or had) a process of this name. */
  has?(name: string): boolean;
}

/**
 * Whether a process the kernel reports must be shown as its own row: the
 * kernel uses another registry (another SYFT_PM_HOME, another host), or the
 * server does not know the name (yet, or at all: no server extension).
 */
export function isKernelOnly(
  name: string,
  kernelRegistry: string | null,
  server: Pick<IRowInput, 'registryId'> & { has(name: string): boolean }
): boolean {
  if (
    server.registryId !== null &&
    kernelRegistry !== null &&
    server.registryId !== kernelRegistry
  ) {
    return true;
  }
  return !server.has(name);
}

/**
 * Every row: the server's processes, then the kernel's processes the server
 * does not see, marked as such.
 */
export function mergeRows(
  server: IRowInput & { has(name: string): boolean },
  kernel: IRowInput | null
): IProcessRow[] {
  const rows: IProcessRow[] = [];
  for (const state of server.states) {
    rows.push({
      key: state.name,
      name: state.name,
      source: 'server',
      state,
      clockOffset: server.clockOffset
    });
  }
  if (kernel) {
    for (const state of kernel.states) {
      if (isKernelOnly(state.name, kernel.registryId, server)) {
        rows.push({
          key: rowKey('kernel', state.name),
          name: state.name,
          source: 'kernel',
          state,
          clockOffset: kernel.clockOffset
        });
      }
    }
  }
  return rows;
}

/**
 * Seconds a row's process has been up by this browser's clock, or null.
 */
export function rowUptime(row: IProcessRow, nowMs: number): number | null {
  const p = row.state;
  if (p.started_at === null || !isUp(p.status)) {
    return null;
  }
  return Math.max(0, nowMs / 1000 - (p.started_at + row.clockOffset));
}

/**
 * A short description of a status, with what matters about it.
 */
export function statusText(row: IProcessRow, nowMs: number): string {
  const s = row.state;
  switch (s.status) {
    case 'starting':
      if (s.next_restart_at) {
        const wait = s.next_restart_at + row.clockOffset - nowMs / 1000;
        return wait > 0
          ? `restarting in ${formatUptime(Math.ceil(wait))}`
          : 'restarting';
      }
      // Running, but its ready spec does not hold yet (docs/stacks.md).
      return s.pid !== null && s.ready_at === null && s.started_at !== null
        ? 'starting\u2026'
        : 'starting';
    case 'exited':
      return s.exit_code !== null && s.exit_code !== 0
        ? `exited (${s.exit_code})`
        : 'exited';
    case 'failed':
      if (s.exit_code !== null) {
        return `failed (exit ${s.exit_code})`;
      }
      return s.signal ? `failed (${s.signal})` : 'failed';
    case 'stopped':
      return s.stop_reason === 'ttl'
        ? 'stopped (TTL)'
        : s.stop_reason === 'memory'
          ? 'stopped (memory)'
          : s.stop_reason === 'kernel'
            ? 'stopped (kernel gone)'
            : 'stopped';
    case 'error':
      return 'unreadable';
    default:
      return s.status;
  }
}

// -- status filter --------------------------------------------------------------

/**
 * Statuses that need the user's attention (a view's grouping; the statuses
 * themselves, active and final, are listed once in `live/protocol.ts`).
 */
export const PROBLEM_STATUSES: readonly string[] = [
  'unhealthy',
  'failed',
  'error'
];

/**
 * The choices of the status filter: groups first, then each status.
 */
export const STATUS_FILTERS: readonly { value: string; label: string }[] = [
  { value: 'all', label: 'All statuses' },
  { value: 'active', label: 'Active' },
  { value: 'problems', label: 'Problems' },
  { value: 'finished', label: 'Finished' },
  ...STATUSES.map(value => ({
    value,
    label: value[0].toUpperCase() + value.slice(1)
  })),
  { value: 'error', label: 'Unreadable' }
];

export function matchesStatus(status: string, filter: string): boolean {
  switch (filter) {
    case '':
    case 'all':
      return true;
    case 'active':
      return isActive(status);
    case 'problems':
      return PROBLEM_STATUSES.includes(status);
    case 'finished':
      return isFinal(status);
    default:
      return status === filter;
  }
}

// -- origin -----------------------------------------------------------------------

/**
 * Where the user is: the active notebook and its kernel.
 */
export interface IOriginContext {
  /** Path of the active notebook, relative to the server root (as JupyterLab has it). */
  notebookPath: string | null;
  /** Id of the active notebook's kernel. */
  kernelId: string | null;
  /** The server's root directory, to turn absolute notebook paths into Lab paths. */
  serverRoot: string | null;
}

export const EMPTY_ORIGIN_CONTEXT: IOriginContext = Object.freeze({
  notebookPath: null,
  kernelId: null,
  serverRoot: null
});

/** Origin filter values that are not a particular notebook or kernel. */
export const ORIGIN_ALL = 'all';
export const ORIGIN_THIS = 'this';
export const ORIGIN_OTHER = 'other';
export const ORIGIN_KERNEL_ONLY = 'kernel-only';

/**
 * A notebook path as the kernel recorded it (`JPY_SESSION_NAME`: absolute on
 * the server's file system) turned into a JupyterLab path when it lies under
 * the server root; otherwise unchanged.
 */
export function labPath(
  recorded: string | null | undefined,
  serverRoot: string | null
): string | null {
  if (!recorded) {
    return null;
  }
  const path = recorded.replace(/\\/g, '/');
  if (serverRoot) {
    let root = serverRoot.replace(/\\/g, '/');
    if (root.startsWith('~')) {
      root = '';
    }
    root = root.replace(/\/+$/, '');
    if (root && path.startsWith(`${root}/`)) {
      return path.slice(root.length + 1);
    }
  }
  return path;
}

/**
 * Whether a recorded notebook path is the notebook at `labNotebookPath`.
 */
export function sameNotebook(
  recorded: string | null | undefined,
  labNotebookPath: string | null,
  serverRoot: string | null
): boolean {
  if (!recorded || !labNotebookPath) {
    return false;
  }
  const rel = labPath(recorded, serverRoot);
  if (rel === labNotebookPath) {
    return true;
  }
  // Without a known root: an absolute path ending in the Lab path.
  const path = recorded.replace(/\\/g, '/');
  return path.endsWith(`/${labNotebookPath}`);
}

/**
 * The origin filter value of a row: `notebook:<lab path>`, `kernel:<id>` or
 * `other` (a script, the CLI, ...).
 */
export function originKey(row: IProcessRow, serverRoot: string | null): string {
  const origin = row.state.origin ?? {};
  const nb = labPath(origin.notebook, serverRoot);
  if (nb) {
    return `notebook:${nb}`;
  }
  if (origin.kernel_id) {
    return `kernel:${origin.kernel_id}`;
  }
  return ORIGIN_OTHER;
}

/**
 * A short human name of an origin key.
 */
export function originLabel(key: string): string {
  if (key.startsWith('notebook:')) {
    return key.slice('notebook:'.length);
  }
  if (key.startsWith('kernel:')) {
    return `kernel ${key.slice('kernel:'.length, 'kernel:'.length + 8)}`;
  }
  if (key === ORIGIN_OTHER) {
    return 'Scripts and terminals';
  }
  return key;
}

/**
 * Whether a row was started by the active notebook (by its path, or by its
 * kernel's id).
 */
export function isFromActiveNotebook(
  row: IProcessRow,
  ctx: IOriginContext
): boolean {
  const origin = row.state.origin ?? {};
  if (ctx.kernelId && origin.kernel_id === ctx.kernelId) {
    return true;
  }
  return sameNotebook(origin.notebook, ctx.notebookPath, ctx.serverRoot);
}

export function matchesOrigin(
  row: IProcessRow,
  filter: string,
  ctx: IOriginContext
): boolean {
  switch (filter) {
    case '':
    case ORIGIN_ALL:
      return true;
    case ORIGIN_THIS:
      return isFromActiveNotebook(row, ctx);
    case ORIGIN_KERNEL_ONLY:
      return row.source === 'kernel';
    default:
      return originKey(row, ctx.serverRoot) === filter;
  }
}

/**
 * The choices of the origin filter for these rows: everything, this
 * notebook, kernel-only rows when there are some, then each origin seen.
 */
export function originChoices(
  rows: Iterable<IProcessRow>,
  ctx: IOriginContext
): { value: string; label: string }[] {
  const seen = new Map<string, string>();
  let kernelOnly = false;
  for (const row of rows) {
    const key = originKey(row, ctx.serverRoot);
    if (!seen.has(key)) {
      seen.set(key, originLabel(key));
    }
    kernelOnly = kernelOnly || row.source === 'kernel';
  }
  const choices = [
    { value: ORIGIN_ALL, label: 'All origins' },
    { value: ORIGIN_THIS, label: 'This notebook' }
  ];
  if (kernelOnly) {
    choices.push({ value: ORIGIN_KERNEL_ONLY, label: 'Only in this kernel' });
  }
  const rest = [...seen.entries()].sort(([a], [b]) => {
    // Notebooks, then kernels, then "other"; by name within.
    const rank = (k: string) =>
      k.startsWith('notebook:') ? 0 : k.startsWith('kernel:') ? 1 : 2;
    return rank(a) - rank(b) || compareNames(a, b);
  });
  for (const [value, label] of rest) {
    choices.push({ value, label });
  }
  return choices;
}

// -- text search ------------------------------------------------------------------

const haystacks = new WeakMap<IProcessState, string>();

/**
 * Everything a search term may match in a row, lower case (cached per state
 * object; the store replaces a state when it changes).
 */
export function searchText(state: IProcessState): string {
  let text = haystacks.get(state);
  if (text === undefined) {
    const origin = state.origin ?? {};
    const parts: (string | number | null | undefined)[] = [
      state.name,
      state.status,
      state.command,
      state.cwd,
      state.pid,
      state.reason,
      origin.notebook,
      origin.kernel_id,
      origin.user,
      origin.host,
      origin.source,
      state.health?.status,
      state.health?.message
    ];
    for (const [k, v] of Object.entries(state.labels ?? {})) {
      parts.push(`${k}=${v}`);
    }
    for (const port of state.metrics?.ports ?? []) {
      parts.push(`:${port}`);
    }
    text = parts
      .filter(p => p !== null && p !== undefined && p !== '')
      .join('\n')
      .toLowerCase();
    haystacks.set(state, text);
  }
  return text;
}

/**
 * Whether every whitespace-separated term of `query` occurs in the row.
 */
export function matchesText(state: IProcessState, query: string): boolean {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) {
    return true;
  }
  const text = searchText(state);
  return terms.every(term => text.includes(term));
}

// -- filter + sort ----------------------------------------------------------------

export type SortKey =
  'default' | 'name' | 'cpu' | 'memory' | 'uptime' | 'restarts';

export const SORT_CHOICES: readonly { value: SortKey; label: string }[] = [
  { value: 'default', label: 'Active first' },
  { value: 'name', label: 'Name' },
  { value: 'cpu', label: 'CPU' },
  { value: 'memory', label: 'Memory' },
  { value: 'uptime', label: 'Uptime' },
  { value: 'restarts', label: 'Restarts' }
];

export interface IListQuery {
  text: string;
  status: string;
  origin: string;
  sort: SortKey;
}

export const DEFAULT_QUERY: Readonly<IListQuery> = Object.freeze({
  text: '',
  status: 'all',
  origin: ORIGIN_ALL,
  sort: 'default' as SortKey
});

const collator = new Intl.Collator(undefined, {
  numeric: true,
  sensitivity: 'base'
});

/**
 * Natural order of names: `web-2` before `web-10`.
 */
export function compareNames(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * 0 for a process with a live command, 1 for one that needs attention, 2 for
 * one that is over.
 */
export function statusRank(status: string): number {
  if (isActive(status)) {
    return 0;
  }
  if (status === 'failed' || status === 'error') {
    return 1;
  }
  return 2;
}

function byName(a: IProcessRow, b: IProcessRow): number {
  return compareNames(a.name, b.name) || (a.key < b.key ? -1 : 1);
}

/**
 * Compare two rows for `sort`; every order ends with the name, so it is total
 * and stable across updates.
 */
export function compareRows(
  a: IProcessRow,
  b: IProcessRow,
  sort: SortKey,
  nowMs: number
): number {
  const desc = (x: number, y: number) => y - x;
  let d = 0;
  switch (sort) {
    case 'name':
      break;
    case 'cpu':
      d = desc(
        a.state.metrics?.cpu_percent ?? -1,
        b.state.metrics?.cpu_percent ?? -1
      );
      break;
    case 'memory':
      d = desc(
        a.state.metrics?.rss_bytes ?? -1,
        b.state.metrics?.rss_bytes ?? -1
      );
      break;
    case 'uptime':
      d = desc(rowUptime(a, nowMs) ?? -1, rowUptime(b, nowMs) ?? -1);
      break;
    case 'restarts':
      d = desc(a.state.restarts ?? 0, b.state.restarts ?? 0);
      break;
    default:
      d = statusRank(a.state.status) - statusRank(b.state.status);
  }
  return d || byName(a, b);
}

/**
 * The rows a query keeps, in display order.
 */
export function queryRows(
  rows: Iterable<IProcessRow>,
  query: IListQuery,
  ctx: IOriginContext,
  nowMs: number = Date.now()
): IProcessRow[] {
  const out: IProcessRow[] = [];
  for (const row of rows) {
    if (
      matchesStatus(row.state.status, query.status) &&
      matchesOrigin(row, query.origin, ctx) &&
      matchesText(row.state, query.text)
    ) {
      out.push(row);
    }
  }
  out.sort((a, b) => compareRows(a, b, query.sort, nowMs));
  return out;
}

/**
 * Counts by status group, for the list's summary line.
 */
export function summarize(rows: Iterable<IProcessRow>): {
  total: number;
  active: number;
  problems: number;
} {
  let total = 0;
  let active = 0;
  let problems = 0;
  for (const row of rows) {
    total += 1;
    if (isActive(row.state.status)) {
      active += 1;
    }
    if (PROBLEM_STATUSES.includes(row.state.status)) {
      problems += 1;
    }
  }
  return { total, active, problems };
}
