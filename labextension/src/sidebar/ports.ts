/**
 * Links to the ports a process listens on: through jupyter-server-proxy's
 * `/proxy/<port>/` route when that server extension is installed (works from
 * anywhere the Jupyter server is reachable, with its auth), else straight to
 * the port on the Jupyter server's host name.
 */
import { URLExt } from '@jupyterlab/coreutils';

import { requestServer } from '../live/request';

/**
 * The URL of a listening port (through jupyter-server-proxy when available).
 */
export type PortUrl = (port: number) => string;

/**
 * Whether jupyter-server-proxy answers on this server: its
 * `server-proxy/servers-info` route exists exactly when it is installed.
 */
export async function detectServerProxy(
  request: (path: string) => Promise<unknown> = path =>
    requestServer(path, { method: 'GET' })
): Promise<boolean> {
  try {
    await request('server-proxy/servers-info');
    return true;
  } catch {
    return false;
  }
}

/**
 * The URL of `port`: `<baseUrl>proxy/<port>/` with the proxy, else
 * `http://<host>:<port>/` (the host the page was loaded from, as that is the
 * Jupyter server's host; `localhost` when unknown).
 */
export function portUrl(
  port: number,
  options: { proxy: boolean; baseUrl: string; hostname?: string }
): string {
  if (options.proxy) {
    return URLExt.join(options.baseUrl, 'proxy', String(port)) + '/';
  }
  let host = options.hostname || 'localhost';
  if (host.includes(':') && !host.startsWith('[')) {
    host = `[${host}]`; // an IPv6 literal
  }
  return `http://${host}:${port}/`;
}
