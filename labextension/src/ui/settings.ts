/**
 * The user settings of the `syft-pm:plugin` plugin, with their defaults
 * (kept equal to `labextension/schema/plugin.json` by a unit test).
 */
import { ISignal, Signal } from '@lumino/signaling';

export interface ISyftPmSettings {
  /**
   * How often views refresh what they derive from the clock (uptime), in ms.
   */
  tick: number;
  /**
   * How many log lines a view keeps per stream.
   */
  logLines: number;
  /**
   * Whether to notify when a process fails or becomes unhealthy.
   */
  notifications: boolean;
}

export const DEFAULT_SETTINGS: Readonly<ISyftPmSettings> = Object.freeze({
  tick: 1000,
  logLines: 500,
  notifications: true
});

/**
 * Bounds of the numeric settings (the schema has the same ones).
 */
export const SETTING_BOUNDS = Object.freeze({
  tick: { minimum: 100, maximum: 60000 },
  logLines: { minimum: 10, maximum: 100000 }
});

function clampInteger(
  value: unknown,
  fallback: number,
  bounds: { minimum: number; maximum: number }
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return fallback;
  }
  return Math.min(bounds.maximum, Math.max(bounds.minimum, Math.round(value)));
}

/**
 * Turn the composite settings (anything: the registry validates against the
 * schema, but a failed load or a hand-edited file can still get through)
 * into usable settings.
 */
export function normalizeSettings(composite: unknown): ISyftPmSettings {
  const raw =
    typeof composite === 'object' && composite !== null
      ? (composite as Record<string, unknown>)
      : {};
  return {
    tick: clampInteger(raw.tick, DEFAULT_SETTINGS.tick, SETTING_BOUNDS.tick),
    logLines: clampInteger(
      raw.logLines,
      DEFAULT_SETTINGS.logLines,
      SETTING_BOUNDS.logLines
    ),
    notifications:
      typeof raw.notifications === 'boolean'
        ? raw.notifications
        : DEFAULT_SETTINGS.notifications
  };
}

/**
 * The settings in effect, and a signal when they change. The app updates it
 * from the setting registry; cell outputs read it when they are created and
 * follow its changes while they are on the page.
 */
export class LiveSettings {
  constructor(initial: Partial<ISyftPmSettings> = {}) {
    this._current = { ...DEFAULT_SETTINGS, ...initial };
  }

  /** The settings now. */
  get current(): Readonly<ISyftPmSettings> {
    return this._current;
  }

  /** Emitted with the new settings when one of them changed. */
  get changed(): ISignal<this, Readonly<ISyftPmSettings>> {
    return this._changed;
  }

  /** Use these settings from now on (emits `changed` if any differs). */
  update(settings: ISyftPmSettings): void {
    const old = this._current;
    if (
      old.tick === settings.tick &&
      old.logLines === settings.logLines &&
      old.notifications === settings.notifications
    ) {
      return;
    }
    this._current = { ...settings };
    this._changed.emit(this._current);
  }

  private _current: ISyftPmSettings;
  private _changed = new Signal<this, Readonly<ISyftPmSettings>>(this);
}
