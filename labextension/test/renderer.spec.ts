// @vitest-environment happy-dom
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { describe, expect, it } from 'vitest';

import { ProcessRenderer, rendererFactory } from '../src/renderer';
import { PROCESS_MIME_TYPE } from '../src/types';

function model(data: unknown): IRenderMime.IMimeModel {
  return {
    trusted: false,
    data: { [PROCESS_MIME_TYPE]: data } as IRenderMime.IMimeModel['data'],
    metadata: {},
    setData: () => undefined
  };
}

function create(): ProcessRenderer {
  return rendererFactory.createRenderer({
    mimeType: PROCESS_MIME_TYPE,
    sanitizer: { sanitize: (s: string) => s },
    resolver: null,
    linkHandler: null,
    latexTypesetter: null
  }) as ProcessRenderer;
}

const reference = {
  version: 1,
  registry_id: '6f1c2b9e-7c1e-4f43-9a57-1c1f5d0c8a11',
  name: 'web-server',
  home: '/root/.syft_pm'
};

describe('rendererFactory', () => {
  it('is safe, handles the process MIME type and outranks text/html', () => {
    expect(rendererFactory.safe).toBe(true);
    expect(rendererFactory.mimeTypes).toEqual([
      'application/vnd.syft-pm.process+json'
    ]);
    expect(rendererFactory.defaultRank).toBeLessThan(50);
  });
});

describe('ProcessRenderer', () => {
  it('renders the name and an unknown status', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    const node = renderer.node;
    expect(node.classList.contains('syft-pm-process')).toBe(true);
    expect(node.getAttribute('data-process-name')).toBe('web-server');
    expect(node.getAttribute('data-status')).toBe('unknown');
    expect(node.querySelector('.syft-pm-process-name')?.textContent).toBe(
      'web-server'
    );
    const badge = node.querySelector('.syft-pm-status')!;
    expect(badge.textContent).toBe('unknown');
    expect(badge.classList.contains('syft-pm-tone-unknown')).toBe(true);
    renderer.dispose();
  });

  it('shows a new status with its tone', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    renderer.setStatus('failed');
    expect(renderer.node.getAttribute('data-status')).toBe('failed');
    const badge = renderer.node.querySelector('.syft-pm-status')!;
    expect(badge.textContent).toBe('failed');
    expect(badge.className).toBe('syft-pm-status syft-pm-tone-error');
    renderer.setStatus('bogus');
    expect(renderer.node.getAttribute('data-status')).toBe('unknown');
    renderer.dispose();
  });

  it('re-renders in place for an updated display', async () => {
    const renderer = create();
    await renderer.renderModel(model(reference));
    await renderer.renderModel(model({ ...reference, name: 'trainer' }));
    expect(
      renderer.node.querySelectorAll('.syft-pm-process-name')
    ).toHaveLength(1);
    expect(renderer.node.getAttribute('data-process-name')).toBe('trainer');
    renderer.dispose();
  });

  it('explains a bundle it cannot read instead of throwing', async () => {
    const renderer = create();
    await renderer.renderModel(model({ ...reference, version: 99 }));
    expect(renderer.reference).toBeNull();
    expect(renderer.node.hasAttribute('data-process-name')).toBe(false);
    expect(renderer.node.getAttribute('data-status')).toBe('unknown');
    expect(renderer.node.querySelector('.syft-pm-error')?.textContent).toMatch(
      /unsupported reference version 99/
    );
    renderer.dispose();
  });
});
