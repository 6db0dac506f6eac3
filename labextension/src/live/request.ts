/**
 * THE one module that talks HTTP to the syft_pm server extension: one
 * function per REST route (`getStatus`, `listProcesses`, `getProcess`,
 * `getLogs`, `runAction`, `removeProcess`), as `@jupyterlab/services` does.
 *
 * Every request goes through `ServerConnection.makeRequest`, which adds the
 * auth token and the XSRF header; nothing else in the frontend calls `fetch`.
 * The route functions take the call to use (`ApiCall`), so a view can be
 * given another one (a test's fake) without knowing the routes.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { Action, LogLine, LogStreamName } from './protocol';

/**
 * Where the server extension's REST API lives, relative to the base URL.
 */
export const API_NAMESPACE = 'syft-pm/api';

/**
 * The websocket endpoint of the server extension, relative to the API.
 */
export const EVENTS_ENDPOINT = 'events';

/**
 * The response of `GET /syft-pm/api/status`.
 */
export interface IServerStatus {
  version: string;
  /** What the current user may do: `read`, `write` (stop, remove), `execute`. */
  permissions?: ('read' | 'write' | 'execute')[];
  [key: string]: unknown;
}

/**
 * A failed call to the syft_pm server extension.
 *
 * `status` is the HTTP status, or 0 when the server could not be reached at
 * all. `message` is the server's own JSON `message` when it sent one.
 */
export class SyftPmApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    readonly body?: unknown
  ) {
    super(message);
    this.name = 'SyftPmApiError';
  }

  /**
   * Whether the server extension answered at all (status 0: it did not).
   */
  get isNetworkError(): boolean {
    return this.status === 0;
  }

  /**
   * Whether the endpoint does not exist, e.g. the server extension is not
   * enabled on this server.
   */
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/**
 * Build the URL of an API endpoint, e.g. `processes/web/logs`.
 */
export function apiUrl(
  endPoint = '',
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
}

/**
 * The websocket URL of `syft-pm/api/events`, with the token appended when
 * the page's settings require it (as JupyterLab's own sockets do).
 */
export function eventsUrl(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  let url = URLExt.join(settings.wsUrl, API_NAMESPACE, EVENTS_ENDPOINT);
  if (settings.appendToken && settings.token) {
    url += `?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

/**
 * The message of a failed response: the server's JSON `message` (as
 * jupyter_server's `APIHandler` writes it), else its `reason`, else the
 * HTTP status text.
 */
export function errorMessage(
  status: number,
  statusText: string,
  body: unknown
): string {
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    for (const key of ['message', 'reason']) {
      const value = record[key];
      if (typeof value === 'string' && value.trim() !== '') {
        return value;
      }
    }
  }
  if (typeof body === 'string' && body.trim() !== '' && body.length < 200) {
    return body.trim();
  }
  return statusText ? `${status} ${statusText}` : `HTTP ${status}`;
}

function parseBody(text: string): unknown {
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Call an endpoint of the syft_pm server extension and return its JSON.
 *
 * @param endPoint path below `syft-pm/api/`, e.g. `status` or `processes`.
 * @param init the request init (method, body, signal, ...).
 * @param settings server settings; the page's settings by default.
 * @returns the parsed JSON body (`undefined` for an empty body).
 * @throws {SyftPmApiError} on a non-2xx answer or a network failure.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  return requestUrl<T>(apiUrl(endPoint, settings), init, settings);
}

/**
 * Call another endpoint of the Jupyter server (relative to its base URL, e.g.
 * `server-proxy/servers-info` to learn whether jupyter-server-proxy is
 * there) with the same auth, errors and JSON handling as `requestAPI`.
 */
export async function requestServer<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  return requestUrl<T>(URLExt.join(settings.baseUrl, path), init, settings);
}

async function requestUrl<T>(
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
): Promise<T> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (isAbortError(error)) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new SyftPmApiError(reason || 'network error', 0, url);
  }

  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (isAbortError(error)) {
      throw error;
    }
    throw new SyftPmApiError(
      `could not read the response: ${String(error)}`,
      response.status,
      url
    );
  }
  const body = parseBody(text);

  if (!response.ok) {
    throw new SyftPmApiError(
      errorMessage(response.status, response.statusText, body),
      response.status,
      url,
      body
    );
  }
  if (typeof body === 'string') {
    throw new SyftPmApiError(
      'the server answered with something that is not JSON',
      response.status,
      url,
      body
    );
  }
  return body as T;
}

/**
 * Whether an error comes from aborting a request (an `AbortSignal`), which
 * callers treat as "nobody wants the answer any more", not as a failure.
 */
export function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const name = (error as { name?: unknown }).name;
  if (name === 'AbortError') {
    return true;
  }
  // ServerConnection wraps fetch failures in a NetworkError that keeps the
  // original error's message; an aborted fetch says so in it.
  return (
    error instanceof ServerConnection.NetworkError &&
    /abort/i.test(error.message)
  );
}

// -- the routes ------------------------------------------------------------------

/**
 * Calls an endpoint below `syft-pm/api/` and returns its JSON (tests pass a
 * fake; by default `requestAPI` with the page's settings).
 */
export type ApiCall = <T>(endPoint: string, init?: RequestInit) => Promise<T>;

/** `requestAPI` with the page's settings. */
export const pageApi: ApiCall = <T>(endPoint: string, init: RequestInit = {}) =>
  requestAPI<T>(endPoint, init);

function processPath(name: string): string {
  return `processes/${encodeURIComponent(name)}`;
}

/** `GET status`: the server extension's version (and its registry). */
export function getStatus(
  signal?: AbortSignal,
  api: ApiCall = pageApi
): Promise<IServerStatus> {
  return api<IServerStatus>(
    'status',
    signal ? { method: 'GET', signal } : { method: 'GET' }
  );
}

/** `GET processes`: every process the server extension sees. */
export function listProcesses(
  api: ApiCall = pageApi
): Promise<Record<string, unknown>> {
  return api<Record<string, unknown>>('processes', { method: 'GET' });
}

/** `GET processes/<name>`: everything `info()` knows about one process. */
export function getProcess(
  name: string,
  api: ApiCall = pageApi
): Promise<Record<string, unknown>> {
  return api<Record<string, unknown>>(processPath(name), { method: 'GET' });
}

/**
 * What `GET processes/<name>/logs` may take: `lines` per page, and one of a
 * `before` cursor (older lines), an `after` cursor (newer lines) or a
 * `search` text.
 */
export interface ILogsQuery {
  stream: LogStreamName;
  lines: number;
  before?: string;
  after?: string;
  search?: string;
}

/** The answer of `GET processes/<name>/logs`. */
export interface ILogsAnswer {
  lines?: LogLine[];
  before?: string | null;
  cursor?: string | null;
  skipped?: number;
  /** Why a follow started over: the file was truncated, or rotated away. */
  reset?: 'truncated' | 'lost' | null;
  /** A search: newest first; false when it stopped at its byte budget. */
  order?: 'newest-first';
  complete?: boolean;
}

/** `GET processes/<name>/logs`: a page of one stream's lines. */
export function getLogs(
  name: string,
  query: ILogsQuery,
  api: ApiCall = pageApi
): Promise<ILogsAnswer> {
  const params: Record<string, string> = {
    stream: query.stream,
    lines: String(query.lines)
  };
  for (const key of ['before', 'after', 'search'] as const) {
    const value = query[key];
    if (value !== undefined) {
      params[key] = value;
    }
  }
  const search = new URLSearchParams(params).toString();
  return api<ILogsAnswer>(`${processPath(name)}/logs?${search}`, {
    method: 'GET'
  });
}

/** What an action may take: a stop timeout, a forced remove. */
export interface IActionArgs {
  timeout?: number;
  force?: boolean;
}

/** `DELETE processes/<name>`: remove a process (`force`: even if running). */
export function removeProcess(
  name: string,
  args: { force?: boolean } = {},
  api: ApiCall = pageApi
): Promise<unknown> {
  return api(`${processPath(name)}${args.force ? '?force=1' : ''}`, {
    method: 'DELETE'
  });
}

/**
 * `POST processes/<name>/<action>` (stop, restart, start), or `remove` as
 * `DELETE processes/<name>`.
 */
export function runAction(
  action: Action,
  name: string,
  args: IActionArgs = {},
  api: ApiCall = pageApi
): Promise<unknown> {
  if (action === 'remove') {
    return removeProcess(name, { force: args.force }, api);
  }
  const body = args.timeout !== undefined ? { timeout: args.timeout } : {};
  return api(`${processPath(name)}/${action}`, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}
