import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import {
  ApiCall,
  apiUrl,
  errorMessage,
  eventsUrl,
  getLogs,
  getProcess,
  getStatus,
  isAbortError,
  listProcesses,
  removeProcess,
  requestAPI,
  runAction,
  SyftPmApiError
} from '../../src/live/request';

type Handler = (request: Request) => Promise<Response> | Response;

function makeSettings(
  handler: Handler,
  overrides: Partial<ServerConnection.ISettings> = {}
): { settings: ServerConnection.ISettings; requests: Request[] } {
  const requests: Request[] = [];
  const fetchImpl = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    requests.push(request);
    return handler(request);
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: 'secret',
    appendToken: false,
    fetch: fetchImpl as ServerConnection.ISettings['fetch'],
    ...overrides
  });
  return { settings, requests };
}

/**
 * The error a request fails with; fails the test if it does not fail.
 */
async function failure(promise: Promise<unknown>): Promise<SyftPmApiError> {
  const error = await promise.then(
    () => expect.unreachable('the request should have failed'),
    (e: unknown) => e
  );
  expect(error).toBeInstanceOf(SyftPmApiError);
  return error as SyftPmApiError;
}

function json(body: unknown, status = 200, statusText = 'OK'): Response {
  return new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { 'Content-Type': 'application/json' }
  });
}

describe('URLs', () => {
  it('puts the API under the base URL', () => {
    const { settings } = makeSettings(() => json({}));
    expect(apiUrl('processes/web/logs', settings)).toBe(
      'http://localhost:8888/lab-base/syft-pm/api/processes/web/logs'
    );
  });

  it('puts the events socket under the websocket URL', () => {
    const { settings } = makeSettings(() => json({}));
    expect(eventsUrl(settings)).toBe(
      'ws://localhost:8888/lab-base/syft-pm/api/events'
    );
  });

  it('appends the token to the socket URL when the page asks for it', () => {
    const { settings } = makeSettings(() => json({}), {
      appendToken: true,
      token: 'a b&c'
    });
    expect(eventsUrl(settings)).toBe(
      'ws://localhost:8888/lab-base/syft-pm/api/events?token=a%20b%26c'
    );
  });
});

describe('requestAPI', () => {
  it('returns the JSON body and sends the token', async () => {
    const { settings, requests } = makeSettings(() =>
      json({ version: '0.1.0' })
    );
    const result = await requestAPI<{ version: string }>(
      'status',
      {},
      settings
    );
    expect(result).toEqual({ version: '0.1.0' });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request.method).toBe('GET');
    expect(request.url).toMatch(
      /^http:\/\/localhost:8888\/lab-base\/syft-pm\/api\/status\?\d+$/
    );
    expect(request.headers.get('Authorization')).toBe('token secret');
  });

  it('passes method and body through', async () => {
    const { settings, requests } = makeSettings(() =>
      json({ ok: true }, 202, 'Accepted')
    );
    await requestAPI(
      'processes/web/stop',
      { method: 'POST', body: JSON.stringify({ timeout: 5 }) },
      settings
    );
    expect(requests[0].method).toBe('POST');
    expect(await requests[0].text()).toBe('{"timeout":5}');
  });

  it('returns undefined for an empty answer', async () => {
    const { settings } = makeSettings(
      () => new Response(null, { status: 204 })
    );
    await expect(
      requestAPI('processes/web', { method: 'DELETE' }, settings)
    ).resolves.toBeUndefined();
  });

  it("throws a SyftPmApiError with the server's message", async () => {
    const { settings } = makeSettings(() =>
      json(
        { message: 'no process named "web"', reason: null },
        404,
        'Not Found'
      )
    );
    const error = await failure(requestAPI('processes/web', {}, settings));
    expect(error.status).toBe(404);
    expect(error.isNotFound).toBe(true);
    expect(error.message).toBe('no process named "web"');
    expect(error.body).toEqual({
      message: 'no process named "web"',
      reason: null
    });
  });

  it('falls back on the status line for a non-JSON error page', async () => {
    const { settings } = makeSettings(
      () =>
        new Response('<html>'.padEnd(500, 'x'), {
          status: 500,
          statusText: 'Internal Server Error'
        })
    );
    await expect(requestAPI('status', {}, settings)).rejects.toMatchObject({
      name: 'SyftPmApiError',
      status: 500,
      message: '500 Internal Server Error'
    });
  });

  it('rejects a 2xx answer that is not JSON', async () => {
    const { settings } = makeSettings(
      () => new Response('<html>login</html>', { status: 200 })
    );
    await expect(requestAPI('status', {}, settings)).rejects.toMatchObject({
      status: 200,
      message: expect.stringMatching(/not JSON/)
    });
  });

  it('turns a network failure into status 0', async () => {
    const { settings } = makeSettings(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await failure(requestAPI('status', {}, settings));
    expect(error.status).toBe(0);
    expect(error.isNetworkError).toBe(true);
    expect(error.message).toBe('Failed to fetch');
  });

  it('lets an abort through as an abort, not as a failure', async () => {
    const { settings } = makeSettings(request => fetch(request));
    const controller = new AbortController();
    controller.abort();
    const error = await requestAPI(
      'status',
      { signal: controller.signal },
      settings
    ).catch(e => e);
    expect(error).not.toBeInstanceOf(SyftPmApiError);
    expect(isAbortError(error)).toBe(true);
  });
});

describe('errorMessage', () => {
  it('prefers message, then reason, then the status line', () => {
    expect(
      errorMessage(400, 'Bad Request', { message: 'm', reason: 'r' })
    ).toBe('m');
    expect(errorMessage(400, 'Bad Request', { message: '', reason: 'r' })).toBe(
      'r'
    );
    expect(errorMessage(400, 'Bad Request', {})).toBe('400 Bad Request');
    expect(errorMessage(502, '', undefined)).toBe('HTTP 502');
    expect(errorMessage(403, 'Forbidden', 'Forbidden: bad XSRF')).toBe(
      'Forbidden: bad XSRF'
    );
  });
});

describe('the route functions', () => {
  function recorder(): {
    api: ApiCall;
    calls: [string, RequestInit | undefined][];
  } {
    const calls: [string, RequestInit | undefined][] = [];
    const api = (async (endPoint: string, init?: RequestInit) => {
      calls.push([endPoint, init]);
      return {};
    }) as ApiCall;
    return { api, calls };
  }

  it('call one route each, with the name escaped', async () => {
    const { api, calls } = recorder();
    await getStatus(undefined, api);
    await listProcesses(api);
    await getProcess('a b', api);
    await getLogs('web', { stream: 'stderr', lines: 5, after: 'c1' }, api);
    await runAction('stop', 'web', { timeout: 3 }, api);
    await runAction('start', 'web', {}, api);
    await runAction('remove', 'web', { force: true }, api);
    await removeProcess('web', {}, api);
    expect(calls.map(([url, init]) => [url, init?.method, init?.body])).toEqual(
      [
        ['status', 'GET', undefined],
        ['processes', 'GET', undefined],
        ['processes/a%20b', 'GET', undefined],
        ['processes/web/logs?stream=stderr&lines=5&after=c1', 'GET', undefined],
        ['processes/web/stop', 'POST', '{"timeout":3}'],
        ['processes/web/start', 'POST', '{}'],
        ['processes/web?force=1', 'DELETE', undefined],
        ['processes/web', 'DELETE', undefined]
      ]
    );
  });
});
