import { describe, expect, it } from 'vitest';

import { parseProcessReference } from '../../src/output/reference';

const valid = {
  version: 1,
  registry_id: '6f1c2b9e-7c1e-4f43-9a57-1c1f5d0c8a11',
  name: 'web',
  home: '/home/me/.syft_pm'
};

describe('parseProcessReference', () => {
  it('accepts a version 1 reference and keeps only its fields', () => {
    const result = parseProcessReference({ ...valid, extra: true });
    expect(result).toEqual({ ok: true, value: valid });
  });

  it.each([
    ['not an object', 'web', /not an object/],
    ['null', null, /not an object/],
    ['an array', [valid], /not an object/],
    ['no version', { ...valid, version: undefined }, /version/],
    ['a string version', { ...valid, version: '1' }, /version/],
    ['a future version', { ...valid, version: 2 }, /unsupported.*2/],
    ['an empty name', { ...valid, name: '' }, /name/],
    ['no registry id', { ...valid, registry_id: undefined }, /registry_id/],
    ['a numeric home', { ...valid, home: 3 }, /home/]
  ])('rejects %s', (_label, data, error) => {
    const result = parseProcessReference(data);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatch(error);
    }
  });
});
