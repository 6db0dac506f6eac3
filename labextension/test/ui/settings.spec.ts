import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  DEFAULT_SETTINGS,
  ISyftPmSettings,
  LiveSettings,
  normalizeSettings,
  SETTING_BOUNDS
} from '../../src/ui/settings';

const schemaPath = fileURLToPath(
  new URL('../../schema/plugin.json', import.meta.url)
);
const schema = JSON.parse(readFileSync(schemaPath, 'utf-8')) as {
  properties: Record<
    string,
    { type: string; default: unknown; minimum?: number; maximum?: number }
  >;
  additionalProperties: boolean;
};

describe('the settings schema', () => {
  it('has exactly the settings the code knows', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(
      Object.keys(DEFAULT_SETTINGS).sort()
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('has the same defaults as the code', () => {
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      expect(schema.properties[key].default, key).toEqual(value);
    }
  });

  it('has the same bounds as the code', () => {
    for (const [key, bounds] of Object.entries(SETTING_BOUNDS)) {
      expect(schema.properties[key].minimum, key).toBe(bounds.minimum);
      expect(schema.properties[key].maximum, key).toBe(bounds.maximum);
    }
  });
});

describe('normalizeSettings', () => {
  it('fills in defaults for anything missing', () => {
    expect(normalizeSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(normalizeSettings({})).toEqual(DEFAULT_SETTINGS);
  });

  it('keeps valid values', () => {
    expect(
      normalizeSettings({ tick: 250, logLines: 2000, notifications: false })
    ).toEqual({ tick: 250, logLines: 2000, notifications: false });
  });

  it('clamps and rounds numbers, ignores wrong types', () => {
    expect(
      normalizeSettings({ tick: 1, logLines: 1e9, notifications: 'no' })
    ).toEqual({ tick: 100, logLines: 100000, notifications: true });
    expect(normalizeSettings({ tick: 1500.6, logLines: NaN })).toEqual({
      tick: 1501,
      logLines: 500,
      notifications: true
    });
  });
});

describe('LiveSettings', () => {
  it('starts from the defaults and says when a setting changes', () => {
    const settings = new LiveSettings();
    expect(settings.current).toEqual(DEFAULT_SETTINGS);
    const seen: ISyftPmSettings[] = [];
    settings.changed.connect((_, s) => seen.push({ ...s }));
    settings.update({ ...DEFAULT_SETTINGS });
    expect(seen).toEqual([]);
    const next = { tick: 250, logLines: 40, notifications: false };
    settings.update(next);
    expect(seen).toEqual([next]);
    expect(settings.current).toEqual(next);
    // A copy: changing the object passed in changes nothing.
    next.tick = 9999;
    expect(settings.current.tick).toBe(250);
  });
});
