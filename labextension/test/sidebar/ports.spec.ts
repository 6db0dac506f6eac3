import { describe, expect, it, vi } from 'vitest';

import { detectServerProxy, portUrl } from '../../src/sidebar/ports';
import { SyftPmApiError } from '../../src/live/request';

describe('portUrl', () => {
  it('goes through jupyter-server-proxy when it is there', () => {
    expect(
      portUrl(8080, { proxy: true, baseUrl: 'http://h:8888/user/me/' })
    ).toBe('http://h:8888/user/me/proxy/8080/');
    expect(portUrl(8080, { proxy: true, baseUrl: '/' })).toBe('/proxy/8080/');
  });

  it('links straight to the port on the server host otherwise', () => {
    expect(
      portUrl(8080, { proxy: false, baseUrl: '/', hostname: 'lab.example' })
    ).toBe('http://lab.example:8080/');
    expect(portUrl(8080, { proxy: false, baseUrl: '/' })).toBe(
      'http://localhost:8080/'
    );
    expect(portUrl(5000, { proxy: false, baseUrl: '/', hostname: '::1' })).toBe(
      'http://[::1]:5000/'
    );
  });
});

describe('detectServerProxy', () => {
  it('asks for server-proxy/servers-info: an answer means installed', async () => {
    const request = vi.fn(async () => ({ server_processes: [] }));
    expect(await detectServerProxy(request)).toBe(true);
    expect(request).toHaveBeenCalledWith('server-proxy/servers-info');
  });

  it('a 404 (or no answer) means not installed', async () => {
    const request = vi.fn(async () => {
      throw new SyftPmApiError('Not Found', 404, 'u');
    });
    expect(await detectServerProxy(request)).toBe(false);
  });
});
